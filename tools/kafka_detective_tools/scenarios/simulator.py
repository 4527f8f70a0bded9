"""Deterministic simulator of Kafka Detective traces with ground truth (pure Python, seeded).

The simulator models a small cluster (3 brokers) with topics, partitions and consumer groups, step by step:
producers append messages at a rate with daily seasonality and noise; every consumer group consumes at most its
capacity (and never more than what is available), commits in batches (so committed offsets lag the consumed
position a little), rebalances, stalls or leaves as the scenario's events dictate; retention deletes old
messages (and the messages a group had not consumed yet are counted as lost); brokers fail, lead skewed shares
of partitions or fill their disks. Every step emits the exporter's own series (names and labels of the
catalogue), so a trace looks like what Prometheus scraped from a real exporter.

Scenarios are named functions returning a `Scenario`; `generate(name, out_dir)` writes `<name>.om` and
`<name>.truth.yaml`. Same name → byte-identical files.
"""

from __future__ import annotations

import math
import random
import zlib
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kafka_detective_tools.scenarios.events import DAY, HOUR, MIN, Event, Step, parse_events
from kafka_detective_tools.scenarios.trace import CONSUMER_CPU_METRIC, Incident, Series, Truth, write_trace, write_truth

START = datetime(2026, 11, 2, tzinfo=UTC).timestamp()   # a Monday, 00:00 UTC
CLUSTER = "prod"
BROKERS = (1, 2, 3)
LAG_THRESHOLD = 10_000       # the slow-growth case studies' breach (truth breach_time), an absolute count that
                             # `evaluate`'s raw predictive lead time is measured against; the rules page at
                             # KafkaConsumerLagHigh's relative threshold (scenarios/lag_threshold.py)
CLUSTER_PARTITIONS = 60          # partitions of the whole cluster (for broker leader shares)

# Alerts of the pattern library each incident kind is expected to fire (per-pattern precision/recall).
EXPECTED_ALERTS: dict[str, list[str]] = {
    "producer_spike": ["KafkaConsumerLagHigh", "KafkaProducerTrafficSpike", "KafkaConsumerLagGrowing"],
    "consumer_slowdown": ["KafkaConsumerLagHigh", "KafkaConsumerSlowdown", "KafkaConsumerLagGrowing"],
    "consumer_cpu_saturation": ["KafkaConsumerLagHigh", "KafkaConsumerSlowdown", "KafkaConsumerLagGrowing"],
    "consumer_down": ["KafkaConsumerGroupEmpty", "KafkaConsumerLagHigh"],
    "consumer_stalled": ["KafkaConsumerStalled"],
    "rebalance_storm": ["KafkaConsumerRebalanceStorm"],
    "leader_election": ["KafkaLeaderElections"],
    "broker_failure": ["KafkaBrokerMissing", "KafkaUnderReplicatedPartitions", "KafkaLeaderElections"],
    "broker_skew": ["KafkaBrokerLeaderSkew"],
    "disk_pressure": ["KafkaBrokerDiskPressure"],
    "retention_loss": ["KafkaConsumerMessagesLost"],
    "death_spiral": ["KafkaConsumerDeathSpiral", "KafkaConsumerLagHigh", "KafkaConsumerLagGrowing"],
    "slow_growth": ["KafkaConsumerLagGrowing", "KafkaConsumerLagBreachPredicted", "KafkaConsumerLagHigh"],
    "retention_breach_predicted": ["KafkaConsumerRetentionBreachPredicted"],
}


# --- scenario model ----------------------------------------------------------------------------------------


@dataclass
class GroupSpec:
    name: str
    topic: str
    capacity: float           # consumer capacity, multiple of the topic's mean base rate
    members: int = 3


@dataclass
class TopicSpec:
    name: str
    base_rate: float          # mean messages/s
    partitions: int = 3
    retention_seconds: float = 7 * DAY
    seasonality: float = 0.35  # relative amplitude of the daily cycle (peak 14:00 UTC)


@dataclass
class Scenario:
    name: str
    description: str
    duration: float
    step: float
    topics: list[TopicSpec]
    groups: list[GroupSpec]
    events: list[Event] = field(default_factory=list)    # typed by `events.parse_events`
    subject: tuple[str, str] = ("", "")          # (group, topic) of the ground truth
    other_subjects: list[tuple[str, str]] = field(default_factory=list)
    incidents: list[tuple[float, float, str, list[str]]] = field(default_factory=list)  # relative times
    quiet: bool = False
    extra: dict = field(default_factory=dict)
    noise: float = 0.04
    # --- scenario families (`families.py`); the defaults keep the hand-written library byte-identical ---
    brokers: tuple[int, ...] = BROKERS
    cluster_partitions: int = CLUSTER_PARTITIONS   # the whole cluster's partitions (broker leader counts)
    start: float = START                 # absolute time of the first sample (the weekday matters for weekly cycles)
    seed: int | None = None              # default: crc32 of the name
    weekly: float = 0.0                  # produce rate on Saturdays and Sundays is (1 - weekly) x the weekday rate
    peak_hour: float = 14.0              # hour (UTC) of the daily peak
    commit: str = "batched"              # batched (trail <= 5 s) | per_message | sawtooth (every commit_batch
    commit_batch: float = 0.0            # messages) | interval (every commit_interval seconds)
    commit_interval: float = 5.0
    gaps: list[tuple[float, float]] = field(default_factory=list)   # scrape gaps [a, b): no sample at all
    restarts: list[float] = field(default_factory=list)  # exporter restarts: its own counters restart at 0
    missing: frozenset[str] = frozenset()  # optional signals absent from the trace: "cpu", "disk"
    partition_detail: bool = False       # per-partition lag / committed offset of the primary group
    recovery_floor: float = 1000.0       # an incident ends once the lag is under max(this, 2 x pre-onset median)


# --- the engine --------------------------------------------------------------------------------------------


class _TopicState:
    def __init__(self, spec: TopicSpec, rng: random.Random, brokers: tuple[int, ...] = BROKERS):
        self.spec = spec
        self.weights = [1.0 / spec.partitions + rng.uniform(-0.03, 0.03) for _ in range(spec.partitions)]
        total = sum(self.weights)
        self.weights = [w / total for w in self.weights]
        self.partition_base = [rng.randrange(10_000, 2_000_000) for _ in range(spec.partitions)]
        self.log_end = 0.0                     # produced since the start (excluding partition bases)
        self.times: list[float] = []
        self.ends: list[float] = []
        self.ar = 0.0                          # AR(1) burstiness of the produce rate
        self.leaders = [brokers[i % len(brokers)] for i in range(spec.partitions)]
        self.leader_changes = [0] * spec.partitions
        self.retention = spec.retention_seconds
        self.last_count = 0.0                  # produced during the last step

    def lead(self, i: int, broker: int) -> None:
        """Partition i's leader becomes `broker` (a leader change when it was another one)."""
        if self.leaders[i] != broker:
            self.leaders[i] = broker
            self.leader_changes[i] += 1

    def produced_at(self, t: float) -> float:
        """Produced count at absolute time t (before the start: the base rate backwards)."""
        if not self.times or t < self.times[0]:
            first_t = self.times[0] if self.times else t
            return -(first_t - t) * self.spec.base_rate
        i = bisect_right(self.times, t)
        if i >= len(self.times):
            return self.ends[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        e0, e1 = self.ends[i - 1], self.ends[i]
        return e0 + (e1 - e0) * (t - t0) / (t1 - t0)

    def time_of_offset(self, offset: float, now: float) -> float:
        """When the produced count passed `offset` (the message's append time)."""
        ends = self.ends
        if not ends or offset < ends[0]:
            first_t = self.times[0] if self.times else now
            first_e = ends[0] if ends else 0.0
            return first_t - (first_e - offset) / max(self.spec.base_rate, 1e-9)
        i = bisect_right(ends, offset)
        if i >= len(ends):
            return now
        e0, e1 = ends[i - 1], ends[i]
        t0, t1 = self.times[i - 1], self.times[i]
        return t0 + (t1 - t0) * ((offset - e0) / (e1 - e0) if e1 > e0 else 1.0)


class _GroupState:
    def __init__(self, spec: GroupSpec):
        self.spec = spec
        self.consumed = 0.0           # true consumed position (relative to the partition bases' sum)
        self.committed = 0.0          # reported committed position
        self.rebalances = 0
        self.lost = 0.0
        self.state = "Stable"
        self.members = spec.members
        self.next_storm_rebalance: float | None = None
        self.rebalance_until = -1.0
        self.cpu = 0.35
        # partitions whose committed offset trails the group's share (partial stall, slow partition): messages
        self.deficit: dict[int, float] = {}
        self.last_consumed = 0.0
        self.last_commit = 0.0
        self.part_last: dict[int, int] = {}


def _season(t_abs: float, amplitude: float) -> float:
    hour = (t_abs % DAY) / HOUR
    return 1.0 + amplitude * math.sin(2 * math.pi * (hour - 8.0) / 24.0)   # peak at 14:00, trough at 02:00


def _weekday(t_abs: float) -> int:
    return (int(t_abs // DAY) + 3) % 7          # 1970-01-01 was a Thursday; Monday = 0


# Counters the exporter derives from its own state: an exporter restart starts them again at 0 (Kafka's
# offsets, in contrast, survive it).
_EXPORTER_COUNTERS = frozenset({"kafka_consumergroup_rebalances_total", "kafka_topic_partition_leader_changes_total",
                                "kafka_consumergroup_lost_messages_total"})


def simulate(sc: Scenario) -> tuple[list[Series], Truth]:
    rng = random.Random(zlib.crc32(sc.name.encode()) if sc.seed is None else sc.seed)
    brokers_all = tuple(sc.brokers)
    topics = {spec.name: _TopicState(spec, rng, brokers_all) for spec in sc.topics}
    groups = {spec.name: _GroupState(spec) for spec in sc.groups}
    series: dict[tuple, Series] = {}
    gaps = sorted(sc.gaps)
    restarts = sorted(sc.restarts)
    epoch = 0                                   # exporter restarts so far
    counter_base: dict[tuple, float] = {}
    emitting = True

    def emit(name: str, labels: dict[str, str], t: float, value: float) -> None:
        if not emitting:
            return
        key = (name, tuple(labels.items()))
        if epoch and name in _EXPORTER_COUNTERS:
            value -= counter_base.setdefault((key, epoch), value)
        s = series.get(key)
        if s is None:
            s = series[key] = Series(name, dict(labels))
        s.timestamps.append(t)
        s.values.append(value)

    steps = int(sc.duration // sc.step) + 1
    disk_total = 2_000_000_000_000.0
    disk_base = [0.52, 0.55, 0.5] if len(brokers_all) == 3 else [0.45 + 0.02 * ((7 * i) % 6)
                                                                  for i in range(len(brokers_all))]
    brokers_down: set[int] = set()
    skewed: int | None = None                   # the broker leading a skewed share of the partitions
    primary_group = sc.subject[0]
    events = parse_events(sc)
    for k in range(steps):
        rel = k * sc.step
        t = sc.start + rel
        dt = sc.step
        emitting = not any(a <= rel < b for a, b in gaps)
        epoch = sum(1 for r in restarts if r <= rel)
        if restarts and any(r <= rel < r + 2 * sc.step for r in restarts):
            emitting = False                    # the restarting exporter misses a scrape or two
        # ----- events -------------------------------------------------------------------------------------
        paused = {name: 0.0 for name in groups}       # fraction of the step with consumption paused
        fx = Step(rel, t, sc.step, rng, topics, groups, brokers_all, disk_base,
                  disk_used=[disk_base[i] + 0.01 * math.sin(rel / 7000.0 + i) for i in range(len(brokers_all))],
                  cpu={name: 0.35 + 0.1 * (_season(t, 0.5) - 1.0) for name in groups})
        for ev in events:
            if ev.applies(fx):
                ev.apply(fx)

        # ----- brokers and leadership -----------------------------------------------------------------------
        for b in fx.down_now - brokers_down:        # leadership moves away from the failed broker
            alive = [x for x in brokers_all if x not in fx.down_now] or [b]
            for tname, ts in topics.items():
                for i, leader in enumerate(ts.leaders):
                    if leader == b:
                        ts.lead(i, alive[(i + len(tname)) % len(alive)])
        if brokers_down - fx.down_now or fx.skew != skewed:
            # a broker came back, or a skew began or ended: leaders go where they belong, the hot broker's share of
            # every topic during a skew and the preferred replica otherwise
            for ts in topics.values():
                hot = round(fx.skew_share * ts.spec.partitions) if fx.skew is not None else 0
                for i in range(ts.spec.partitions):
                    leader = fx.skew if fx.skew is not None and i < hot else brokers_all[i % len(brokers_all)]
                    if leader not in fx.down_now:
                        ts.lead(i, leader)
            skewed = fx.skew
        brokers_down = fx.down_now
        for tname, pidx in fx.election_now:
            ts = topics[tname]
            alive = [x for x in brokers_all if x not in brokers_down and x != ts.leaders[pidx]]
            if alive:                            # a single broker: the same leader, a new epoch
                ts.leaders[pidx] = alive[rng.randrange(len(alive))]
            ts.leader_changes[pidx] += 1

        # ----- produce ----------------------------------------------------------------------------------------
        for tname, ts in topics.items():
            spec = ts.spec
            ts.ar = 0.9 * ts.ar + rng.gauss(0.0, sc.noise)
            season = _season(t + (14.0 - sc.peak_hour) * HOUR, spec.seasonality)
            if sc.weekly and _weekday(t) >= 5:
                season *= 1.0 - sc.weekly
            rate = spec.base_rate * season * fx.produce_mult[tname] * max(0.2, 1.0 + ts.ar)
            mean = rate * dt
            count = max(0.0, mean + rng.gauss(0.0, math.sqrt(max(mean, 1.0))))
            if fx.extra_produce[tname]:
                count += fx.extra_produce[tname]
            if k == 0:
                count = 0.0
            ts.last_count = count
            ts.log_end += count
            ts.times.append(t)
            ts.ends.append(ts.log_end)

        # ----- consume ----------------------------------------------------------------------------------------
        for gname, g in groups.items():
            ts = topics[g.spec.topic]
            g.rebalances += fx.new_rebalance[gname]
            if t < g.rebalance_until:
                fx.state[gname] = "PreparingRebalance" if rng.random() < 0.6 else "CompletingRebalance"
                paused[gname] = max(paused[gname], 0.6)
            if fx.members[gname] == 0:
                fx.state[gname] = "Empty"
            capacity = g.spec.capacity * ts.spec.base_rate * fx.cap_mult[gname] * (1.0 - paused[gname])
            capacity *= max(0.3, 1.0 + rng.gauss(0.0, sc.noise))
            if fx.stalled[gname] or k == 0:
                capacity = 0.0
            available = ts.log_end - g.consumed
            consumed = min(max(0.0, available), capacity * dt)
            g.consumed += consumed
            # retention: messages older than retention are gone
            log_start = ts.produced_at(t - ts.retention)
            if g.consumed < log_start:
                g.lost += log_start - g.consumed
                g.consumed = log_start
                g.committed = max(g.committed, log_start)
            # batched commits: the committed position trails the consumed one by up to ~5 s of consumption
            if not fx.stalled[gname] and consumed > 0:
                if sc.commit == "batched":
                    trail = (consumed / dt) * rng.uniform(0.0, 5.0)
                    g.committed = max(g.committed, g.consumed - trail)
                elif sc.commit == "per_message":
                    g.committed = g.consumed
                elif sc.commit == "sawtooth":        # a commit per processed batch: the lag is a sawtooth
                    g.committed = max(g.committed, math.floor(g.consumed / sc.commit_batch) * sc.commit_batch)
                elif sc.commit == "interval" and rel - g.last_commit >= sc.commit_interval:
                    g.last_commit += (rel - g.last_commit) // sc.commit_interval * sc.commit_interval
                    g.committed = max(g.committed, g.consumed - (consumed / dt) * (rel - g.last_commit))
            g.committed = min(g.committed, g.consumed)
            g.last_consumed = consumed
            fz = fx.frozen.get(gname)
            if fz or g.deficit:
                for pi in sorted(set(g.deficit) | set(fz or ())):
                    w = ts.weights[pi]
                    if fz and pi in fz:
                        g.deficit[pi] = g.deficit.get(pi, 0.0) + consumed * w * (1.0 - fz[pi])
                    else:                            # the partition's consumer catches up with its spare capacity
                        spare = max(capacity * dt * w - ts.last_count * w, 0.1 * capacity * dt * w)
                        g.deficit[pi] -= min(g.deficit[pi], spare)
                        if g.deficit[pi] <= 0.0:
                            del g.deficit[pi]
            busy = consumed / max(dt * g.spec.capacity * ts.spec.base_rate, 1e-9)
            cpu_value = fx.cpu[gname] + 0.3 * busy if fx.cpu[gname] < 0.9 else fx.cpu[gname]
            g.cpu = max(0.02, min(1.0, cpu_value + rng.gauss(0.0, 0.02)))
            g.members = fx.members[gname]
            g.state = fx.state[gname]

        # ----- emit -------------------------------------------------------------------------------------------
        emit("kafka_detective_cluster_up", {"cluster": CLUSTER}, t, 1)
        emit("kafka_brokers", {"cluster": CLUSTER}, t, len(brokers_all) - len(brokers_down))
        counts = {b: 0 for b in brokers_all}
        for ts in topics.values():
            for leader in ts.leaders:
                counts[leader] += 1
        others = max(0, sc.cluster_partitions - sum(counts.values()))
        alive = [b for b in brokers_all if b not in brokers_down]
        other_share = 0.15 if len(brokers_all) == 3 else (1.0 - fx.skew_share) / max(1, len(alive) - 1)
        for i, b in enumerate(brokers_all):
            if b in alive:   # a broker that left the metadata is no longer exposed
                share = others // len(alive) + (1 if i < others % len(alive) else 0)
                if fx.skew is not None:
                    share = int(others * fx.skew_share) if b == fx.skew else int(others * other_share)
                emit("kafka_broker_leader_partitions", {"cluster": CLUSTER, "broker_id": str(b)}, t,
                     counts[b] + share)
            if "disk" not in sc.missing:
                dl = {"cluster": CLUSTER, "broker_id": str(b), "log_dir": "/var/lib/kafka/data"}
                emit("kafka_broker_log_dir_total_bytes", dl, t, disk_total)
                emit("kafka_broker_log_dir_usable_bytes", dl, t, round(disk_total * (1.0 - fx.disk_used[i])))
        replication = min(3, len(brokers_all))
        for tname, ts in topics.items():
            spec = ts.spec
            tl = {"cluster": CLUSTER, "topic": tname}
            emit("kafka_topic_retention_seconds", tl, t, ts.retention)
            log_start_total = max(ts.produced_at(t - ts.retention), -1e18)
            rate_now = (ts.ends[-1] - ts.ends[-2]) / dt if len(ts.ends) > 1 else 0.0
            emit("kafka_topic_produce_rate_messages_per_second", tl, t, round(rate_now, 3))
            for pi in range(spec.partitions):
                pl = {"cluster": CLUSTER, "topic": tname, "partition": str(pi)}
                base = ts.partition_base[pi]
                w = ts.weights[pi]
                emit("kafka_topic_partition_current_offset", pl, t, base + math.floor(ts.log_end * w))
                emit("kafka_topic_partition_oldest_offset", pl, t, max(0, base + math.floor(log_start_total * w)))
                leader = ts.leaders[pi]
                off = pi in fx.offline_partitions[tname]
                emit("kafka_topic_partition_leader", pl, t, -1 if off else leader)
                emit("kafka_topic_partition_leader_changes_total", pl, t, ts.leader_changes[pi])
                replicas = {brokers_all[(pi + j) % len(brokers_all)] for j in range(replication)}
                emit("kafka_topic_partition_under_replicated_partition", pl, t, 1 if replicas & brokers_down else 0)
                emit("kafka_topic_partition_offline", pl, t, 1 if off else 0)
        for gname, g in groups.items():
            ts = topics[g.spec.topic]
            gl = {"cluster": CLUSTER, "consumergroup": gname}
            gtl = {"cluster": CLUSTER, "consumergroup": gname, "topic": g.spec.topic}
            emit("kafka_consumergroup_members", gl, t, g.members)
            for st in ("Stable", "Empty", "PreparingRebalance", "CompletingRebalance"):
                emit("kafka_consumergroup_state", {**gl, "state": st}, t, 1 if g.state == st else 0)
            emit("kafka_consumergroup_rebalances_total", gl, t, g.rebalances)
            if "cpu" not in sc.missing:
                emit(CONSUMER_CPU_METRIC, gl, t, round(g.cpu, 4))
            end_total = sum(base + math.floor(ts.log_end * w) for base, w in zip(ts.partition_base, ts.weights,
                                                                                   strict=True))
            committed_total = sum(base + math.floor(g.committed * w) for base, w in zip(ts.partition_base,
                                                                                        ts.weights, strict=True))
            if g.deficit or g.part_last or (sc.partition_detail and gname == primary_group):
                part_committed = []
                for pi, (base, w) in enumerate(zip(ts.partition_base, ts.weights, strict=True)):
                    c = base + math.floor(g.committed * w) - math.floor(g.deficit.get(pi, 0.0))
                    c = max(c, g.part_last.get(pi, c))   # a committed offset never goes back
                    if fx.frozen.get(gname, {}).get(pi) == 0.0 and pi in g.part_last:
                        c = g.part_last[pi]              # frozen: not even the commit trail's jitter moves it
                    g.part_last[pi] = c
                    part_committed.append(c)
                committed_total = sum(part_committed)
                if sc.partition_detail and gname == primary_group:
                    for pi, c in enumerate(part_committed):
                        gpl = {**gtl, "partition": str(pi)}
                        end_p = ts.partition_base[pi] + math.floor(ts.log_end * ts.weights[pi])
                        emit("kafka_consumergroup_current_offset", gpl, t, c)
                        emit("kafka_consumergroup_lag", gpl, t, max(0, end_p - c))
            lag = max(0, end_total - committed_total)
            emit("kafka_consumergroup_current_offset_sum", gtl, t, committed_total)
            emit("kafka_consumergroup_lag_sum", gtl, t, lag)
            lag_s = 0.0 if lag <= 0 else max(0.0, t - ts.time_of_offset(g.committed, t))
            for pi, d in g.deficit.items():          # the oldest unconsumed message is on a trailing partition
                if d > 0.0 and lag > 0:
                    oldest = g.committed - d / max(ts.weights[pi], 1e-9)
                    lag_s = max(lag_s, t - ts.time_of_offset(oldest, t))
            emit("kafka_consumergroup_max_lag_seconds", gtl, t, round(lag_s, 3))
            emit("kafka_consumergroup_lost_messages_total", gtl, t, math.floor(g.lost))
            series_rate = 0.0
            key = ("kafka_consumergroup_current_offset_sum", tuple(gtl.items()))
            s_key = series.get(key)
            if s_key is not None and len(s_key.values) > 1:
                series_rate = (s_key.values[-1] - s_key.values[-2]) / (s_key.timestamps[-1] - s_key.timestamps[-2])
            emit("kafka_consumergroup_consume_rate_messages_per_second", gtl, t, round(series_rate, 3))

    group, topic = sc.subject
    truth = Truth(
        name=sc.name, cluster=CLUSTER, consumergroup=group, topic=topic, start=sc.start,
        end=sc.start + (steps - 1) * sc.step, step_seconds=sc.step,
        incidents=[Incident(sc.start + a, sc.start + b, cause, list(pats)) for a, b, cause, pats in sc.incidents],
        quiet=sc.quiet, description=sc.description,
        other_subjects=[(CLUSTER, g, tp) for g, tp in sc.other_subjects], extra=dict(sc.extra),
    )
    out = list(series.values())
    # an incident ends when the group is healthy again: extend each end until the lag is back near its
    # pre-onset level (twice the median of the hour before the onset, at least 1000 messages)
    subject_lag = series.get(("kafka_consumergroup_lag_sum", (("cluster", CLUSTER), ("consumergroup", sc.subject[0]),
                                                              ("topic", sc.subject[1]))))
    if subject_lag is not None:
        lt, lv = subject_lag.timestamps, subject_lag.values
        for inc in truth.incidents:
            before = sorted(v for t_, v in zip(lt, lv, strict=True) if inc.onset - HOUR <= t_ < inc.onset)
            normal = max(sc.recovery_floor, 2.0 * before[len(before) // 2]) if before else sc.recovery_floor
            recovered = next((t_ for t_, v in zip(lt, lv, strict=True) if t_ >= inc.end and v <= normal), lt[-1])
            inc.end = max(inc.end, recovered)
    # ground-truth extras computed from the simulated series (breach time of slow-growth scenarios)
    threshold = truth.extra.get("lag_threshold")
    if threshold is not None:
        lag_series = series[("kafka_consumergroup_lag_sum",
                             (("cluster", CLUSTER), ("consumergroup", group), ("topic", topic)))]
        truth.extra["breach_time"] = next((ts_ for ts_, v in zip(lag_series.timestamps, lag_series.values,
                                                                 strict=True) if v >= threshold), None)
    if truth.extra.get("retention_breach"):
        lost_series = series[("kafka_consumergroup_lost_messages_total",
                              (("cluster", CLUSTER), ("consumergroup", group), ("topic", topic)))]
        truth.extra["breach_time"] = next((ts_ for ts_, v in zip(lost_series.timestamps, lost_series.values,
                                                                 strict=True) if v > 0), None)
        split = truth.extra.pop("split_at_breach", None)
        breach = truth.extra["breach_time"]
        if split and breach is not None:       # lag first (the slowdown), data loss from the first lost message
            inc = truth.incidents[0]
            truth.incidents = [Incident(inc.onset, breach, split, list(EXPECTED_ALERTS.get(split, []))
                                        + EXPECTED_ALERTS["retention_breach_predicted"]),
                               Incident(breach, inc.end, inc.root_cause, list(inc.patterns))]
    return out, truth


# --- the scenario library -----------------------------------------------------------------------------------

SCENARIOS: dict[str, Callable[[], Scenario]] = {}


def scenario(fn: Callable[[], Scenario]) -> Callable[[], Scenario]:
    SCENARIOS[fn.__name__.replace("_", "-")] = fn
    return fn


def _one_group(name: str, description: str, events: list[Event], incidents, *, duration: float = 40 * HOUR,
               step: float = 60.0, capacity: float = 1.8, base_rate: float = 200.0, retention: float = 7 * DAY,
               extra: dict | None = None, quiet: bool = False, seasonality: float = 0.35) -> Scenario:
    return Scenario(
        name=name, description=description, duration=duration, step=step,
        topics=[TopicSpec("orders", base_rate, 3, retention, seasonality)],
        groups=[GroupSpec("orders-service", "orders", capacity), GroupSpec("audit", "orders", 2.5)],
        events=events, subject=("orders-service", "orders"), incidents=incidents, quiet=quiet,
        extra=extra or {},
    )


T0 = 34 * HOUR          # incident onset of the single-pattern scenarios: day 2, 10:00 (a day of history)
G = "orders-service"


@scenario
def producer_spike() -> Scenario:
    return _one_group("producer-spike", "Producers triple their rate for 40 minutes; healthy consumers are outpaced.",
                      [Event("produce", T0, T0 + 40 * MIN, "orders", {"factor": 3.0})],
                      [(T0, T0 + 80 * MIN, "producer_spike", EXPECTED_ALERTS["producer_spike"])])


@scenario
def consumer_slowdown() -> Scenario:
    return _one_group("consumer-slowdown", "Consumers drop to 60 % of the produce rate for 90 minutes "
                      "(a slow downstream dependency); no rebalance, CPU normal.",
                      [Event("capacity", T0, T0 + 90 * MIN, G, {"factor": 0.6 / 1.8 * 1.0})],
                      [(T0, T0 + 150 * MIN, "consumer_slowdown", EXPECTED_ALERTS["consumer_slowdown"])])


@scenario
def consumer_cpu_saturation() -> Scenario:
    return _one_group("consumer-cpu-saturation",
                      "Consumers' CPU saturates (97 %) and their throughput falls to half the produce rate.",
                      [Event("capacity", T0, T0 + 90 * MIN, G, {"factor": 0.3, "cpu": 0.97, "ramp": 300})],
                      [(T0, T0 + 150 * MIN, "consumer_cpu_saturation", EXPECTED_ALERTS["consumer_cpu_saturation"])])


@scenario
def consumer_down() -> Scenario:
    return _one_group("consumer-down", "Every consumer of the group stops (group Empty) for 45 minutes.",
                      [Event("down", T0, T0 + 45 * MIN, G)],
                      [(T0, T0 + 90 * MIN, "consumer_down", EXPECTED_ALERTS["consumer_down"])])


@scenario
def consumer_stalled() -> Scenario:
    return _one_group("consumer-stalled", "Members stay in the group but the committed offset freezes for 40 "
                      "minutes (a poison message).",
                      [Event("stall", T0, T0 + 40 * MIN, G)],
                      [(T0, T0 + 80 * MIN, "consumer_stalled", EXPECTED_ALERTS["consumer_stalled"])])


@scenario
def rebalance_storm() -> Scenario:
    return _one_group("rebalance-storm", "The group rebalances every 30-90 seconds for 45 minutes.",
                      [Event("rebalance_storm", T0, T0 + 45 * MIN, G, {"factor": 0.45})],
                      [(T0, T0 + 90 * MIN, "rebalance_storm", EXPECTED_ALERTS["rebalance_storm"])])


@scenario
def leader_election() -> Scenario:
    return _one_group("leader-election", "Partition leadership of the topic flaps for 10 minutes; clients pause.",
                      [Event("elections", T0, T0 + 10 * MIN, "orders", {"per_step": 0.5, "factor": 0.2})],
                      [(T0, T0 + 40 * MIN, "leader_election", EXPECTED_ALERTS["leader_election"])])


@scenario
def broker_failure() -> Scenario:
    return _one_group("broker-failure", "Broker 2 fails for 40 minutes: leaders move, partitions are "
                      "under-replicated, briefly offline, and consumers rebalance.",
                      [Event("broker_down", T0, T0 + 40 * MIN, "2", {"factor": 0.45})],
                      [(T0, T0 + 80 * MIN, "broker_failure", EXPECTED_ALERTS["broker_failure"])])


@scenario
def broker_skew() -> Scenario:
    return _one_group("broker-skew", "Broker 1 ends up leading 70 % of the partitions and becomes the "
                      "bottleneck for two hours.",
                      [Event("skew", T0, T0 + 2 * HOUR, "1", {"factor": 0.5})],
                      [(T0, T0 + 2.5 * HOUR, "broker_skew", EXPECTED_ALERTS["broker_skew"])])


@scenario
def disk_pressure() -> Scenario:
    return _one_group("disk-pressure", "Broker 3's log dir fills up to 96 % over two hours; I/O contention "
                      "halves consumption once it passes 90 %.",
                      [Event("disk", T0 - 100 * MIN, T0 + 20 * MIN, "3", {"to": 0.96, "factor": 0.5})],
                      [(T0 - 10 * MIN, T0 + 2 * HOUR, "disk_pressure", EXPECTED_ALERTS["disk_pressure"])])


@scenario
def retention_loss() -> Scenario:
    return _one_group("retention-loss", "Retention is 1 hour and the consumers stop for 90 minutes: unconsumed "
                      "messages are deleted.",
                      [Event("down", T0 - 60 * MIN, T0 + 30 * MIN, G)],
                      [(T0 - 60 * MIN, T0, "consumer_down",
                        EXPECTED_ALERTS["consumer_down"] + EXPECTED_ALERTS["retention_breach_predicted"]),
                       (T0, T0 + 90 * MIN, "retention_loss", EXPECTED_ALERTS["retention_loss"])],
                      retention=HOUR, extra={"retention_breach": True})


@scenario
def death_spiral() -> Scenario:
    return _one_group("death-spiral", "A slow downstream halves consumption, and the consumers slow down further as "
                      "their backlog grows (bigger batches, GC, retries): lag grows exponentially.",
                      [Event("death_spiral", T0, T0 + 4 * HOUR, G, {"factor": 0.36, "lag_scale": 300_000})],
                      [(T0, T0 + 4 * HOUR, "consumer_slowdown", EXPECTED_ALERTS["death_spiral"])],
                      extra={"lag_threshold": LAG_THRESHOLD})


@scenario
def slow_lag_growth() -> Scenario:
    return _one_group("slow-lag-growth", "The produce rate (50 msg/s) grows by 5 % per hour and overtakes the "
                      "consumers' capacity: lag grows slowly, then faster, towards the lag alert threshold.",
                      [Event("produce_growth", 28 * HOUR, 40 * HOUR, "orders", {"per_hour": 0.05})],
                      [(28 * HOUR, 40 * HOUR, "producer_spike", EXPECTED_ALERTS["slow_growth"])],
                      capacity=1.2, base_rate=50.0, seasonality=0.0, extra={"lag_threshold": LAG_THRESHOLD})


@scenario
def slow_consumer_degradation() -> Scenario:
    return _one_group("slow-consumer-degradation", "Consumer throughput (50 msg/s topic) degrades linearly over "
                      "eight hours to 80 % of the produce rate; lag crosses the alert threshold.",
                      [Event("capacity", 28 * HOUR, 40 * HOUR, G, {"factor": 0.5, "ramp": 8 * HOUR})],
                      [(28 * HOUR, 40 * HOUR, "consumer_slowdown", EXPECTED_ALERTS["slow_growth"])],
                      capacity=1.6, base_rate=50.0, seasonality=0.0, extra={"lag_threshold": LAG_THRESHOLD})


# --- the five case studies ----------------------------------------------------------------------------------


@scenario
def the_3am_mystery() -> Scenario:
    days = 4
    events = [Event("produce", d * DAY + 3 * HOUR, d * DAY + 3 * HOUR + 30 * MIN, "orders",
                    {"factor": 5.0, "ramp": 120}) for d in range(days)]
    # The first night is a producer spike; from the second night on the same episode at the same time of day is
    # a recurring batch (as in the `recurring` scenario family). The expected alerts are the same every night.
    incidents = [(d * DAY + 3 * HOUR, d * DAY + 4 * HOUR, "recurring" if d else "producer_spike",
                  EXPECTED_ALERTS["producer_spike"]) for d in range(days)]
    sc = _one_group("the-3am-mystery", "A nightly producer batch at 03:00 (5x the rate for 30 minutes) makes the "
                    "checkout consumers lag every night; several days, so the daily profile can learn it.",
                    events, incidents, duration=days * DAY - 60.0, capacity=1.9)
    sc.extra = {"recurring_at": "03:00"}
    return sc


@scenario
def the_vanishing_messages() -> Scenario:
    return _one_group("the-vanishing-messages", "Retention is 3 hours; the consumers slow to 55 % of the produce "
                      "rate: the oldest unconsumed message ages past retention and messages vanish unconsumed.",
                      [Event("capacity", 28 * HOUR, 40 * HOUR, G, {"factor": 0.55 / 1.8})],
                      [(28 * HOUR, 40 * HOUR, "retention_loss", EXPECTED_ALERTS["retention_loss"])],
                      retention=3 * HOUR, seasonality=0.1,
                      extra={"retention_breach": True, "split_at_breach": "consumer_slowdown"})


@scenario
def the_slowdown() -> Scenario:
    return _one_group("the-slowdown", "Gradual degradation: consumer throughput falls steadily over six hours "
                      "(a leaking cache); the lag creeps up long before anyone notices.",
                      [Event("capacity", 28 * HOUR, 40 * HOUR, G, {"factor": 0.4, "ramp": 6 * HOUR})],
                      [(28 * HOUR, 40 * HOUR, "consumer_slowdown", EXPECTED_ALERTS["consumer_slowdown"])],
                      seasonality=0.1, extra={"lag_threshold": LAG_THRESHOLD})


@scenario
def the_storm() -> Scenario:
    topics = [TopicSpec("orders", 200.0), TopicSpec("payments", 120.0), TopicSpec("shipments", 80.0)]
    groups = [GroupSpec("orders-service", "orders", 1.5), GroupSpec("fraud-check", "orders", 1.6),
              GroupSpec("payments-service", "payments", 1.5), GroupSpec("ledger", "payments", 1.7),
              GroupSpec("shipping", "shipments", 1.5), GroupSpec("notifications", "shipments", 1.8)]
    onset = T0
    events = [Event("broker_down", onset, onset + 45 * MIN, "2", {"factor": 0.3, "offline_seconds": 180})]
    events += [Event("elections", onset + 2 * MIN, onset + 12 * MIN, tp.name, {"per_step": 0.3, "factor": 0.8})
               for tp in topics]
    events += [Event("rebalance_storm", onset + 5 * MIN, onset + 30 * MIN, g.name, {"factor": 0.7})
               for g in groups[::2]]
    return Scenario(
        name="the-storm", description="Broker 2 fails; partition leaders move, clients rebalance in waves and "
        "lag builds across six consumer groups on three topics (a cascading failure).",
        duration=40 * HOUR, step=60.0, topics=topics, groups=groups, events=events,
        subject=("orders-service", "orders"),
        other_subjects=[(g.name, g.topic) for g in groups[1:]],
        incidents=[(onset, onset + 90 * MIN, "broker_failure", EXPECTED_ALERTS["broker_failure"])],
    )


@scenario
def the_ghost() -> Scenario:
    rng = random.Random(4242)
    events: list[Event] = []
    incidents: list[tuple[float, float, str, list[str]]] = []
    t = 8 * HOUR
    while t < 40 * HOUR - HOUR:
        length = rng.uniform(6, 12) * MIN
        events.append(Event("stall", t, t + length, G))
        # the first freeze is a stall; the next ones, hours apart with calm in between, are intermittent (as in
        # the `intermittent` scenario family); the expected alerts are the same each time
        incidents.append((t, t + length + 15 * MIN, "intermittent" if incidents else "consumer_stalled",
                          EXPECTED_ALERTS["consumer_stalled"]))
        t += rng.uniform(3, 6) * HOUR
    return _one_group("the-ghost", "Intermittent, self-resolving lag spikes: the consumers freeze for 6-12 "
                      "minutes a few times a day (stop-the-world GC pauses) and recover on their own.",
                      events, incidents)


# --- quiet traces -------------------------------------------------------------------------------------------


@scenario
def quiet_daily() -> Scenario:
    return _one_group("quiet-daily", "Two days of ordinary traffic: daily seasonality, noise, nothing wrong.",
                      [], [], duration=2 * DAY, quiet=True)


@scenario
def quiet_steady() -> Scenario:
    return _one_group("quiet-steady", "A steady, noisy, healthy group (30 s step, 12 hours).", [], [],
                      duration=12 * HOUR, step=30.0, quiet=True, seasonality=0.05)


@scenario
def quiet_deploys() -> Scenario:
    events = [Event("deploy", h * HOUR, h * HOUR + 60, G) for h in (10, 15, 34, 40)]
    return _one_group("quiet-deploys", "Two ordinary days with rolling deploys (two quick rebalances each) "
                      "and a busier afternoon: nothing an operator should be woken for.",
                      events, [], duration=2 * DAY, quiet=True, seasonality=0.5)


def scenario_names() -> list[str]:
    return list(SCENARIOS)


def build(name: str) -> Scenario:
    try:
        return SCENARIOS[name]()
    except KeyError:
        from kafka_detective.errors import UserError

        raise UserError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None


def generate(name: str, out_dir: str | Path) -> tuple[Path, Path]:
    """Simulate scenario `name` and write `<out_dir>/<name>.om` and `<name>.truth.yaml`."""
    sc = build(name)
    series, truth = simulate(sc)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trace_path = out / f"{name}.om"
    truth_path = out / f"{name}.truth.yaml"
    write_trace(trace_path, series)
    write_truth(truth_path, truth)
    return trace_path, truth_path
