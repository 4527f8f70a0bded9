"""One `GroupTopicSample` per consumer group and topic, the input of the online analytics.

The sample type is defined here, where the samples are made; analysis, a layer above, imports it. The offline
tools (trace replay, Prometheus reader, generators) load it too, so this module imports the snapshot types only
for type checking: loading a sample costs no Kafka client.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kafka_detective.gathering.snapshot import ClusterState, LogDirs, Snapshot
    from kafka_detective.signals.derive import Derived


@dataclass(frozen=True, slots=True)
class GroupTopicSample:
    """What one collection cycle knows about one consumer group on one topic."""

    cluster: str
    group: str
    topic: str
    timestamp: float                 # unix seconds at the end of the cycle
    lag: int                         # kafka_consumergroup_lag_sum
    log_end_offset: int              # sum of the topic's log-end offsets (a produce counter)
    committed_offset: int            # kafka_consumergroup_current_offset_sum (a consume counter)
    lag_seconds: float | None        # kafka_consumergroup_max_lag_seconds
    members: int
    state: str                       # Stable, Empty, PreparingRebalance, ...
    rebalances_total: int            # kafka_consumergroup_rebalances_total
    lost_messages_total: int         # kafka_consumergroup_lost_messages_total
    retention_seconds: float | None  # kafka_topic_retention_seconds
    leader_changes_total: int        # sum of the topic's kafka_topic_partition_leader_changes_total
    under_replicated_partitions: int  # of the topic
    offline_partitions: int          # of the topic
    # Optional infrastructure and broker context (NaN-free: None when unknown).
    consumer_cpu_ratio: float | None = None      # 0-1, from node_exporter/cAdvisor when configured
    disk_used_ratio: float | None = None         # max over the brokers leading the topic
    broker_leader_share_ratio: float | None = None  # max broker leadership / fair share
    brokers: int | None = None                   # brokers in the metadata (kafka_brokers): the ratio's range
    # Per-partition evidence, summarised (partial stalls): partitions of the topic the group has offsets for,
    # how many of them are frozen (lag > 0 and nothing consumed for `signals.samples.FROZEN_SECONDS`), and the
    # ids of the most lagging frozen ones (at most `signals.samples.FROZEN_IDS_MAX`).
    partitions: int | None = None
    frozen_partitions: int | None = None
    frozen_partition_ids: tuple[int, ...] = ()


# A partition is frozen when the group is behind on it (lag > 0), its oldest unconsumed message is at least
# FROZEN_SECONDS old and FROZEN_RELATIVE times older than on the group's typical partition of the topic: stuck
# while the others move. When every partition is that far behind it is a whole-group problem, not a partial one.
FROZEN_SECONDS = 300.0
FROZEN_RELATIVE = 4.0
FROZEN_IDS_MAX = 5


def frozen_partitions(ages: dict[int, tuple[int, float]]) -> tuple[int, tuple[int, ...]]:
    """(count, ids of the most lagging, at most FROZEN_IDS_MAX) of frozen partitions among
    `ages` = {partition: (lag, oldest unconsumed message age in seconds)}."""
    if not ages:
        return 0, ()
    values = sorted(age for _, age in ages.values())
    typical = values[len(values) // 2]
    floor = max(FROZEN_SECONDS, FROZEN_RELATIVE * typical)
    frozen = [(lag, p) for p, (lag, age) in ages.items() if lag > 0 and age >= floor]
    frozen.sort(reverse=True)
    return len(frozen), tuple(p for _, p in frozen[:FROZEN_IDS_MAX])


def leader_share_ratio(state: ClusterState | None) -> float | None:
    """The busiest broker's partition leadership over its fair share (the mean over the brokers the metadata
    lists), from the counts kafka_broker_leader_partitions exposes; None without brokers or leaders."""
    if state is None or not state.brokers:
        return None
    counts = state.leaderships
    total = sum(counts.values())
    return max(counts.values()) / (total / len(counts)) if total else None


def disk_used_ratios(state: ClusterState | None, log_dirs: LogDirs | None) -> dict[str, float]:
    """Per topic, the fullest log directory (1 - usable / total bytes) of the brokers leading its partitions:
    the volumes its producers and consumers wait on. Log directories whose broker does not report the volume's
    size count for no topic."""
    if state is None or log_dirs is None:
        return {}
    fullest: dict[int, float] = {}
    for d in log_dirs.dirs:
        if d.total_bytes and d.usable_bytes is not None:
            fullest[d.broker_id] = max(fullest.get(d.broker_id, 0.0), 1.0 - d.usable_bytes / d.total_bytes)
    out: dict[str, float] = {}
    for (topic, _), p in state.partitions.items():
        if p.leader in fullest:
            out[topic] = max(out.get(topic, 0.0), fullest[p.leader])
    return out


def group_topic_samples(snapshot: Snapshot, derived: Derived) -> list[GroupTopicSample]:
    if snapshot.groups is None or snapshot.offsets is None:
        return []
    log_end_sum: dict[str, int] = defaultdict(int)
    for (topic, _), offset in snapshot.offsets.log_end.items():
        log_end_sum[topic] += offset
    under_replicated: dict[str, int] = defaultdict(int)
    offline: dict[str, int] = defaultdict(int)
    leader_changes: dict[str, int] = defaultdict(int)
    if snapshot.state is not None:
        for (topic, _), p in snapshot.state.partitions.items():
            under_replicated[topic] += len(p.isr) < len(p.replicas)
            offline[topic] += p.leader < 0
    for (topic, _), total in derived.leader_changes_total.items():
        leader_changes[topic] += total
    configs = snapshot.topic_configs.topics if snapshot.topic_configs else {}
    # Cluster and broker context of every sample, as the trace replay reads it from the exposed metrics.
    skew = leader_share_ratio(snapshot.state)
    brokers = len(snapshot.state.brokers) if snapshot.state is not None else None
    disk = disk_used_ratios(snapshot.state, snapshot.log_dirs)

    lag: dict[tuple[str, str], int] = defaultdict(int)
    committed: dict[tuple[str, str], int] = defaultdict(int)
    lag_seconds: dict[tuple[str, str], float] = {}
    ages: dict[tuple[str, str], dict[int, tuple[int, float]]] = defaultdict(dict)
    for (group, topic, partition), value in derived.lag.items():
        lag[(group, topic)] += value
        committed[(group, topic)] += derived.committed[(group, topic, partition)]
        age = derived.lag_seconds.get((group, topic, partition))
        if age is not None:
            lag_seconds[(group, topic)] = max(lag_seconds.get((group, topic), 0.0), age)
        ages[(group, topic)][partition] = (value, age if age is not None else 0.0)

    samples = []
    for group, topic in sorted(lag):
        description = snapshot.groups.descriptions.get(group)
        retention = configs.get(topic)
        n_frozen, frozen_ids = frozen_partitions(ages[(group, topic)])
        samples.append(
            GroupTopicSample(
                cluster=snapshot.cluster,
                group=group,
                topic=topic,
                timestamp=snapshot.timestamp,
                lag=lag[(group, topic)],
                log_end_offset=log_end_sum[topic],
                committed_offset=committed[(group, topic)],
                lag_seconds=lag_seconds.get((group, topic)),
                members=len(description.members) if description else 0,
                state=description.state if description else "Unknown",
                rebalances_total=derived.rebalances_total.get(group, 0),
                lost_messages_total=derived.lost_total.get((group, topic), 0),
                retention_seconds=(retention.retention_ms / 1000
                                   if retention and retention.retention_ms is not None else None),
                leader_changes_total=leader_changes[topic],
                under_replicated_partitions=under_replicated[topic],
                offline_partitions=offline[topic],
                disk_used_ratio=disk.get(topic),
                broker_leader_share_ratio=skew,
                brokers=brokers,
                partitions=len(ages[(group, topic)]),
                frozen_partitions=n_frozen,
                frozen_partition_ids=frozen_ids,
            )
        )
    return samples
