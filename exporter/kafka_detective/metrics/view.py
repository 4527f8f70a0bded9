"""Everything the metric builders of one cluster read for one cycle."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.config import MetricsConfig
from kafka_detective.gathering.sharding import UNSHARDED, Shard
from kafka_detective.gathering.snapshot import Snapshot
from kafka_detective.signals.derive import Derived


@dataclass(frozen=True)
class CollectionStats:
    up: bool
    phase_seconds: dict[str, float]
    phase_errors_total: dict[str, int]
    cycles_total: int
    last_success_timestamp: float | None
    requests_total: dict[str, int]
    phase_last_success: dict[str, float] = field(default_factory=dict)  # phase -> Unix time of its last success
    metadata_refreshes_total: dict[str, int] = field(default_factory=dict)  # reason -> forced metadata refreshes


@dataclass(frozen=True)
class View:
    cluster: str
    snapshot: Snapshot
    derived: Derived
    stats: CollectionStats
    analysis: list[GroupTopicAnalysis] = field(default_factory=list)
    shard: Shard = UNSHARDED   # what of the cluster this process exposes (metrics/sharding.py)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)   # the series selection (metrics/selection.py)
