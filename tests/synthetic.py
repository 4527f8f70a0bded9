"""Small deterministic generator of `GroupTopicSample` histories, one per root cause.

Used by the tests and the docs' examples of the investigation CLI; the scenario library
(`kafka_detective_tools.scenarios`) is the realistic simulator. Pure Python.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka_detective.signals.samples import GroupTopicSample

Profile = Callable[[int], float]


@dataclass
class Synth:
    """A history of `n` samples `step` seconds apart with the incident starting at sample `onset`."""

    n: int = 240
    step: float = 15.0
    onset: int = 160
    start: float = 1_760_000_000.0
    produce: float = 100.0            # baseline msg/s
    capacity: float = 130.0           # consumer capacity msg/s
    noise: float = 0.05               # relative noise on rates
    seed: int = 7
    cluster: str = "prod"
    group: str = "checkout"
    topic: str = "orders"
    # Overrides during the incident (sample index -> value) are given as callables of the index.
    produce_at: Profile | None = None
    capacity_at: Profile | None = None
    members_at: Callable[[int], int] | None = None
    stalled_at: Callable[[int], bool] | None = None
    rebalance_at: Callable[[int], int] | None = None
    leader_change_at: Callable[[int], int] | None = None
    urp_at: Callable[[int], int] | None = None
    offline_at: Callable[[int], int] | None = None
    cpu_at: Profile | None = None
    disk_at: Profile | None = None
    skew_at: Profile | None = None
    brokers: int | None = None        # the cluster's broker count (the skew ratio's range)
    brokers_at: Callable[[int], int] | None = None   # ... when it changes (a broker lost)
    retention_seconds: float | None = 7 * 86400.0
    log_start_at: Callable[[int, int], int] | None = None   # (index, log_end) -> log-start offset
    extra: dict = field(default_factory=dict)

    def samples(self) -> list[GroupTopicSample]:
        rnd = random.Random(self.seed)
        out: list[GroupTopicSample] = []
        leo = committed = 1_000_000
        rebalances = leader_changes = lost = 0
        history: list[tuple[float, int]] = []   # (time, log end) for lag seconds
        for i in range(self.n):
            t = self.start + i * self.step
            p = self.produce_at(i) if self.produce_at else self.produce
            cap = self.capacity_at(i) if self.capacity_at else self.capacity
            members = self.members_at(i) if self.members_at else 3
            stalled = self.stalled_at(i) if self.stalled_at else False
            p = max(0.0, p * (1 + rnd.gauss(0, self.noise)))
            cap = max(0.0, cap * (1 + rnd.gauss(0, self.noise)))
            produced = int(p * self.step)
            leo += produced
            reb = self.rebalance_at(i) if self.rebalance_at else 0
            rebalances += reb
            if members <= 0 or stalled:
                consumed = 0
            else:
                pause = 0.5 if reb else 1.0
                consumed = min(int(cap * self.step * pause), leo - committed)
            committed += consumed
            if self.log_start_at is not None:
                log_start = self.log_start_at(i, leo)
                if log_start > committed:
                    lost += log_start - committed
                    committed = log_start
            leader_changes += self.leader_change_at(i) if self.leader_change_at else 0
            history.append((t, leo))
            lag = leo - committed
            lag_seconds = 0.0
            if lag > 0:
                for ht, hleo in history:
                    if hleo > committed:
                        lag_seconds = t - ht
                        break
            state = "Stable" if members > 0 else "Empty"
            if reb and members > 0:
                state = "PreparingRebalance"
            out.append(GroupTopicSample(
                cluster=self.cluster, group=self.group, topic=self.topic, timestamp=t, lag=lag,
                log_end_offset=leo, committed_offset=committed, lag_seconds=lag_seconds, members=members,
                state=state, rebalances_total=rebalances, lost_messages_total=lost,
                retention_seconds=self.retention_seconds, leader_changes_total=leader_changes,
                under_replicated_partitions=self.urp_at(i) if self.urp_at else 0,
                offline_partitions=self.offline_at(i) if self.offline_at else 0,
                consumer_cpu_ratio=self.cpu_at(i) if self.cpu_at else None,
                disk_used_ratio=self.disk_at(i) if self.disk_at else None,
                broker_leader_share_ratio=self.skew_at(i) if self.skew_at else None,
                brokers=self.brokers_at(i) if self.brokers_at else self.brokers,
            ))
        return out


def scenario(cause: str, **kw) -> Synth:
    """A Synth whose incident (from sample `onset`) has the given root cause."""
    s = Synth(**kw)
    o = s.onset
    after = lambda i: i >= o            # noqa: E731
    if cause == "producer_spike":
        s.produce_at = lambda i: s.produce * (3.0 if after(i) else 1.0)
    elif cause == "consumer_down":
        s.members_at = lambda i: 0 if after(i) else 3
    elif cause == "consumer_stalled":
        s.stalled_at = after
    elif cause == "rebalance_storm":
        s.rebalance_at = lambda i: 1 if after(i) and (i - o) % 3 == 0 else 0
        s.capacity_at = lambda i: s.capacity * (0.5 if after(i) else 1.0)
    elif cause == "consumer_cpu_saturation":
        s.capacity_at = lambda i: s.capacity * (0.4 if after(i) else 1.0)
        s.cpu_at = lambda i: 0.97 if after(i) else 0.35
    elif cause == "consumer_slowdown":
        s.capacity_at = lambda i: s.capacity * (0.4 if after(i) else 1.0)
        s.cpu_at = lambda i: 0.3
    elif cause == "leader_election":
        s.leader_change_at = lambda i: 6 if i == o else 0
        s.capacity_at = lambda i: 0.0 if o <= i < o + 6 else s.capacity
    elif cause == "broker_failure":
        s.leader_change_at = lambda i: 4 if i == o else 0
        s.urp_at = lambda i: 4 if after(i) else 0
        s.offline_at = lambda i: 2 if o <= i < o + 20 else 0
        s.capacity_at = lambda i: 0.0 if o <= i < o + 20 else s.capacity
    elif cause == "broker_skew":
        s.skew_at = lambda i: 2.6 if after(i) else 1.05
        s.capacity_at = lambda i: s.capacity * (0.7 if after(i) else 1.0)
    elif cause == "disk_pressure":
        s.disk_at = lambda i: min(0.99, 0.6 + 0.004 * i) if after(i) else 0.6
        s.capacity_at = lambda i: s.capacity * (0.7 if after(i) else 1.0)
    elif cause == "retention_loss":
        s.stalled_at = lambda i: after(i) and i < o + 40
        s.retention_seconds = 300.0
        s.log_start_at = lambda i, leo: 0 if i < o + 20 else leo - int(s.produce * 300)
    elif cause != "none":
        raise ValueError(cause)
    return s


STATES = ("Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead")


def samples_to_series(samples: list[GroupTopicSample]) -> list:
    """The exporter's series (one partition "0") that `samples_from_trace` turns back into `samples`."""
    from kafka_detective_tools.scenarios.trace import CONSUMER_CPU_METRIC, Series

    if not samples:
        return []
    s0 = samples[0]
    gt = {"cluster": s0.cluster, "consumergroup": s0.group, "topic": s0.topic}
    g = {"cluster": s0.cluster, "consumergroup": s0.group}
    tp = {"cluster": s0.cluster, "topic": s0.topic}
    p0 = {**tp, "partition": "0"}
    ts = [s.timestamp for s in samples]

    def series(name, labels, values):
        return Series(name, dict(labels), list(ts), [float(v) for v in values])

    out = [
        series("kafka_consumergroup_lag_sum", gt, [s.lag for s in samples]),
        series("kafka_topic_partition_current_offset", p0, [s.log_end_offset for s in samples]),
        series("kafka_consumergroup_current_offset_sum", gt, [s.committed_offset for s in samples]),
        series("kafka_consumergroup_members", g, [s.members for s in samples]),
        series("kafka_consumergroup_rebalances_total", g, [s.rebalances_total for s in samples]),
        series("kafka_consumergroup_lost_messages_total", gt, [s.lost_messages_total for s in samples]),
        series("kafka_topic_partition_leader_changes_total", p0, [s.leader_changes_total for s in samples]),
        series("kafka_topic_partition_under_replicated_partition", p0,
               [s.under_replicated_partitions for s in samples]),
        series("kafka_topic_partition_offline", p0, [s.offline_partitions for s in samples]),
        series("kafka_topic_partition_leader", p0, [1] * len(samples)),
    ]
    if all(s.lag_seconds is not None for s in samples):
        out.append(series("kafka_consumergroup_max_lag_seconds", gt, [s.lag_seconds for s in samples]))
    if all(s.retention_seconds is not None for s in samples):
        out.append(series("kafka_topic_retention_seconds", tp, [s.retention_seconds for s in samples]))
    for state in STATES:
        out.append(series("kafka_consumergroup_state", {**g, "state": state},
                          [1 if s.state == state else 0 for s in samples]))
    if all(s.consumer_cpu_ratio is not None for s in samples):
        out.append(series(CONSUMER_CPU_METRIC, g, [s.consumer_cpu_ratio for s in samples]))
    if all(s.disk_used_ratio is not None for s in samples):
        d = {"cluster": s0.cluster, "broker_id": "1", "log_dir": "/var/lib/kafka"}
        total = 1e12
        out.append(series("kafka_broker_log_dir_total_bytes", d, [total] * len(samples)))
        out.append(series("kafka_broker_log_dir_usable_bytes", d,
                          [round(total * (1 - s.disk_used_ratio)) for s in samples]))
    return out


def write_samples_trace(path, samples: list[GroupTopicSample]) -> None:
    from kafka_detective_tools.scenarios.trace import write_trace

    write_trace(path, samples_to_series(samples))
