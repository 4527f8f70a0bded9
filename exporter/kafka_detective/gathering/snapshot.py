"""What one collection cycle knows about one cluster.

A `Snapshot` is immutable once built: the rendering step and the analytics read it without locks, and the
next cycle builds a new one. Each part records when it was collected, because a phase that fails keeps the
previous cycle's data rather than emptying `/metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kafka_detective.kafka.groups import GroupDescription

TopicPartition = tuple[str, int]


class PartialResult(Exception):
    """A phase that failed in part: `value` is still worth publishing (fresh where it could be, previous data
    elsewhere), while the failure is counted and logged like any other. `failures` holds the underlying errors
    (by broker, leader...), so the loop can tell whether fresh metadata would cure them."""

    def __init__(self, message: str, value: object, failures: Mapping[Any, BaseException] | None = None) -> None:
        super().__init__(message)
        self.value = value
        self.failures = dict(failures or {})


@dataclass(frozen=True, slots=True)
class Broker:
    broker_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True, slots=True)
class PartitionState:
    topic: str
    partition: int
    leader: int                 # -1 when offline
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    offline_replicas: tuple[int, ...]

    @property
    def preferred_leader(self) -> int | None:
        return self.replicas[0] if self.replicas else None


@dataclass(frozen=True)
class ClusterState:
    brokers: tuple[Broker, ...]
    controller_id: int | None
    partitions: dict[TopicPartition, PartitionState]
    collected_at: float

    def topics(self) -> set[str]:
        return {topic for topic, _ in self.partitions}

    @cached_property
    def leaderships(self) -> dict[int, int]:
        """Partitions each broker of the metadata leads (0 for one that leads none; offline partitions lead
        nowhere). Counted once per snapshot: kafka_broker_leader_partitions and the samples' skew read it."""
        counts = dict.fromkeys((b.broker_id for b in self.brokers), 0)
        for p in self.partitions.values():
            if p.leader in counts:
                counts[p.leader] += 1
        return counts


@dataclass(frozen=True)
class Offsets:
    log_end: dict[TopicPartition, int]
    log_start: dict[TopicPartition, int]
    collected_at: float
    log_start_collected_at: float = 0.0   # log-start offsets are read less often (gathering/offsets.py)


@dataclass(frozen=True)
class Groups:
    descriptions: dict[str, GroupDescription]
    committed: dict[str, dict[TopicPartition, int]]
    collected_at: float


@dataclass(frozen=True, slots=True)
class TopicConfig:
    retention_ms: int | None          # None: unlimited (-1)
    retention_bytes: int | None       # None: unlimited (-1)
    cleanup_policy: str
    min_insync_replicas: int


@dataclass(frozen=True)
class TopicConfigs:
    topics: dict[str, TopicConfig]
    collected_at: float


@dataclass(frozen=True, slots=True)
class LogDir:
    broker_id: int
    path: str
    size_bytes: int
    total_bytes: int | None
    usable_bytes: int | None
    error: bool


@dataclass(frozen=True)
class LogDirs:
    dirs: tuple[LogDir, ...]
    collected_at: float


@dataclass(frozen=True)
class Snapshot:
    cluster: str
    timestamp: float
    state: ClusterState | None = None
    offsets: Offsets | None = None
    groups: Groups | None = None
    topic_configs: TopicConfigs | None = None
    log_dirs: LogDirs | None = None
    failed_phases: frozenset[str] = field(default_factory=frozenset)
