"""Scenario families: randomised, seeded scenarios drawn from wide parameter ranges, split into train and test.

The hand-written library (`simulator.SCENARIOS`, the "case studies") has one cluster shape: 3 brokers, fixed
rates, one commit style. A diagnosis tuned on it can look good and fail elsewhere. A *family* is one root cause
(or a quiet day) whose every parameter is drawn at random — cluster size, partitions, groups, traffic, seasonality,
commit style, fault size and timing, confounders, scrape gaps, exporter restarts, missing signals — from the
ranges of a *split*:

* `train` — the ranges tuning may look at;
* `test`  — ranges that reach beyond the train extremes (cluster sizes, partition counts, group counts and rates
  it never saw, every-N-seconds commits, strong weekly seasonality, missing CPU/disk signals). Fixed on
  `SPLIT_FIXED_ON`, before any tuning, and pinned by `tests/unit/scenarios/test_families.py`;
* `validation` — added on 2026-12-03 to check while tuning that a change transfers: the train scale, brokers
  between train and test, and the test's other conditions at half strength. The test split still lies beyond
  it in every range dimension.

`sample(split, family, index)` draws a `FamilyParams` (same arguments, same parameters: the seed is the crc32 of
`split/family/index`), `build(params)` turns it into a simulator `Scenario`, and `generate(params, out_dir)`
simulates it and writes `<name>.om` / `<name>.truth.yaml` like the hand-written library.

Every scenario carries confounders that are not the cause: a rolling deploy or single decoy rebalances (often
shortly before the onset), a seasonal busy period the consumers absorb, one slow partition, plus scrape gaps and
exporter restarts. The four case-study causes (`recurring`, `intermittent`, `retry_death_spiral`,
`partial_stall`) were named in the truth before the analytics knew them (the baseline counts them as misses); a
recurring or intermittent scenario's first episode is named by its own cause, the later ones by the repetition.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from kafka_detective_tools.scenarios import simulator
from kafka_detective_tools.scenarios.simulator import DAY, HOUR, MIN, Event, GroupSpec, Scenario, TopicSpec
from kafka_detective_tools.scenarios.trace import Series, Truth, write_trace, write_truth

SPLIT_FIXED_ON = "2026-12-02"
STEP = 60.0
PARTITION_SERIES_CAP = 32       # partitions of the subject topic (partition-level series); beyond: broker level
OTHER_TOPIC_PARTITIONS_CAP = 12  # partitions of the other detailed topics
DETAILED_TOPICS_MAX = 3         # topics simulated in detail; the cluster's other partitions count at broker level
DETAILED_GROUPS_MAX = 4         # groups simulated in detail; the others are only counted (truth extra.groups_total)


@dataclass(frozen=True)
class SplitSpec:
    """Parameter ranges of a split. A tuple of ranges is a union: one range is picked uniformly, then a value."""

    name: str
    brokers: tuple[tuple[int, int], ...]
    cluster_partitions: tuple[tuple[int, int], ...]
    groups: tuple[tuple[int, int], ...]
    rate: tuple[tuple[float, float], ...]           # msg/s of the subject topic, log-uniform inside a range
    commit_styles: tuple[str, ...]
    daily: tuple[float, float]                       # relative amplitude of the daily cycle
    weekly: tuple[float, float]                      # weekend dip: the weekend rate is (1 - weekly) x weekdays
    missing_cpu: float                               # probability that the consumers' CPU is not available
    missing_disk: float                              # probability that the log-dir metrics are not available
    noise: tuple[float, float]


SPLITS: dict[str, SplitSpec] = {
    "train": SplitSpec(
        name="train", brokers=((3, 6),), cluster_partitions=((12, 300),), groups=((2, 40),),
        rate=((5.0, 5000.0),), commit_styles=("per_message", "batched", "sawtooth"),
        daily=(0.1, 0.4), weekly=(0.0, 0.15), missing_cpu=0.0, missing_disk=0.0, noise=(0.02, 0.08)),
    "test": SplitSpec(
        name="test", brokers=((1, 2), (10, 30)), cluster_partitions=((6, 11), (301, 5000)),
        groups=((1, 1), (41, 500)), rate=((1.0, 4.9), (5001.0, 100_000.0)),
        commit_styles=("per_message", "batched", "sawtooth", "interval"),
        daily=(0.2, 0.6), weekly=(0.3, 0.6), missing_cpu=0.4, missing_disk=0.4, noise=(0.02, 0.12)),
    # Between the two, to see whether tuning transfers before the test split is run: the train scale (the
    # test's scale lies beyond both), brokers between the two, and the test's other conditions at half strength.
    "validation": SplitSpec(
        name="validation", brokers=((7, 9),), cluster_partitions=((12, 300),), groups=((2, 40),),
        rate=((5.0, 5000.0),), commit_styles=("per_message", "batched", "sawtooth", "interval"),
        daily=(0.2, 0.5), weekly=(0.15, 0.3), missing_cpu=0.2, missing_disk=0.2, noise=(0.02, 0.1)),
}

# Expected alerts (ground truth, chosen per incident kind) of the causes simulator.EXPECTED_ALERTS does not
# cover. Which causes an alert is *about* is the patterns' `root_causes` (Library.root_causes_by_alert).
NEW_CAUSE_ALERTS: dict[str, list[str]] = {
    "recurring": ["KafkaConsumerLagHigh", "KafkaConsumerLagGrowing"],
    "intermittent": ["KafkaConsumerStalled"],
    "retry_death_spiral": ["KafkaConsumerDeathSpiral", "KafkaConsumerLagHigh", "KafkaConsumerLagGrowing"],
    "partial_stall": ["KafkaConsumerStalled", "KafkaConsumerLagHigh"],
}
# Alerts about a backlog: expected only when the incident's backlog is material for this topic (below).
LAG_ALERTS = frozenset({"KafkaConsumerLagHigh", "KafkaConsumerLagGrowing", "KafkaConsumerDeathSpiral",
                        "KafkaConsumerLagBreachPredicted"})
LAG_SECONDS_ALERT = "KafkaConsumerLagSecondsHigh"

GROUP_NAMES = ("orders-service", "billing", "fraud-check", "search-indexer", "audit", "notifications",
               "analytics-sink", "ledger")
TOPIC_NAMES = ("orders", "payments", "clicks", "events", "shipments")


@dataclass(frozen=True)
class FamilyParams:
    """Everything drawn for one scenario (the family's own fault parameters are drawn in `build`)."""

    split: str
    family: str
    index: int
    seed: int
    brokers: int
    cluster_partitions: int
    groups_total: int
    rate: float                         # subject topic, msg/s
    daily: float
    weekly: float
    peak_hour: float
    commit: str
    commit_batch: float                 # sawtooth: messages per commit
    commit_interval: float              # interval: seconds between commits
    missing: tuple[str, ...]
    noise: float
    start_day: int                      # days after simulator.START (a Monday) the trace starts
    topic_partitions: tuple[int, ...]   # detailed topics; [0] is the subject's
    topic_rates: tuple[float, ...]
    group_topics: tuple[int, ...]       # detailed groups -> index of their topic; [0] is the subject group
    capacity: float                     # consumer capacity, multiple of the topic's mean base rate

    @property
    def name(self) -> str:
        return f"{self.split}-{self.family.replace('_', '-')}-{self.index:03d}"


def _pick(rng: random.Random, ranges: tuple[tuple[float, float], ...], log: bool = False,
          integer: bool = False) -> float:
    lo, hi = ranges[rng.randrange(len(ranges))]
    if integer:
        if log and hi > lo:
            return max(int(lo), min(int(hi), math.floor(math.exp(rng.uniform(math.log(lo), math.log(hi + 1))))))
        return rng.randint(int(lo), int(hi))
    if log:
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return rng.uniform(lo, hi)


def _clamp_int(value: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(value)))


def sample(split: str, family: str, index: int) -> FamilyParams:
    """The parameters of scenario `index` of `family` in `split` (deterministic)."""
    spec = SPLITS[split]
    if family not in FAMILIES:
        raise KeyError(family)
    seed = zlib.crc32(f"{split}/{family}/{index}".encode())
    rng = random.Random(seed)
    brokers = int(_pick(rng, spec.brokers, integer=True))
    if family in ("broker_failure", "broker_skew") and brokers < 2:
        brokers = 2                     # a cluster of one broker can neither lose one and live nor be skewed
    partitions = int(_pick(rng, spec.cluster_partitions, log=True, integer=True))
    groups_total = int(_pick(rng, spec.groups, log=True, integer=True))
    rate = _pick(rng, spec.rate, log=True)
    daily = rng.uniform(*spec.daily)
    weekly = rng.uniform(*spec.weekly)
    peak_hour = rng.uniform(10.0, 20.0)
    commit = rng.choice(spec.commit_styles)
    commit_batch = max(1.0, round(rate * rng.uniform(5.0, 120.0)))
    commit_interval = float(rng.choice((10, 15, 30, 60, 120)))
    missing = []
    if family != "consumer_cpu_saturation" and rng.random() < spec.missing_cpu:
        missing.append("cpu")
    if family != "disk_pressure" and rng.random() < spec.missing_disk:
        missing.append("disk")
    noise = rng.uniform(*spec.noise)
    start_day = rng.randrange(7)                  # any weekday; one week keeps Prometheus' query range short
    n_topics = min(partitions, rng.randint(1, DETAILED_TOPICS_MAX))
    # the subject topic: a real share of the cluster's partitions (capped for the partition-level series);
    # a partial stall needs a few partitions to freeze some and keep the others moving
    least = 4 if family == "partial_stall" else 1
    sizes = [_clamp_int(partitions * rng.uniform(0.1, 0.6), least, PARTITION_SERIES_CAP)]
    for _ in range(n_topics - 1):
        room = partitions - sum(sizes)
        if room < 1:
            break
        sizes.append(_clamp_int(partitions * rng.uniform(0.02, 0.2), 1, min(room, OTHER_TOPIC_PARTITIONS_CAP)))
    sizes[0] = min(sizes[0], partitions)
    rates = [rate] + [rate * rng.uniform(0.1, 1.0) for _ in sizes[1:]]
    n_groups = min(groups_total, DETAILED_GROUPS_MAX)
    group_topics = [0] + [0 if rng.random() < 0.5 else rng.randrange(len(sizes)) for _ in range(n_groups - 1)]
    # consumers absorb the daily peak and a seasonal busy hour (x1.6 at most) with a margin
    capacity = (1.0 + daily) * 1.6 * rng.uniform(1.15, 1.8)
    return FamilyParams(
        split=split, family=family, index=index, seed=seed, brokers=brokers, cluster_partitions=partitions,
        groups_total=groups_total, rate=rate, daily=daily, weekly=weekly, peak_hour=peak_hour, commit=commit,
        commit_batch=commit_batch, commit_interval=commit_interval, missing=tuple(missing), noise=noise,
        start_day=start_day, topic_partitions=tuple(sizes), topic_rates=tuple(rates),
        group_topics=tuple(group_topics), capacity=capacity)


# --- family plans ------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    p: FamilyParams
    rng: random.Random
    topics: list[TopicSpec]
    groups: list[GroupSpec]
    onset: float                       # relative onset of the (first) incident
    events: list[Event] = field(default_factory=list)
    incidents: list[tuple[float, float, str, list[str]]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    other_subjects: list[tuple[str, str]] = field(default_factory=list)
    duration: float = 0.0
    protected: list[tuple[float, float]] = field(default_factory=list)   # confounders stay out of these

    @property
    def group(self) -> str:
        return self.groups[0].name

    @property
    def topic(self) -> str:
        return self.topics[0].name

    def season(self, rel: float) -> float:
        """The daily/weekly factor of the produce rate at relative time `rel` (as the simulator computes it)."""
        t = simulator.START + self.p.start_day * DAY + rel
        f = 1.0 + self.p.daily * math.sin(2 * math.pi * (((t + (14.0 - self.p.peak_hour) * HOUR) % DAY) / HOUR
                                                          - 8.0) / 24.0)
        if self.p.weekly and (int(t // DAY) + 3) % 7 >= 5:
            f *= 1.0 - self.p.weekly
        return f

    def capacity_factor(self, ratio: float, rel: float) -> float:
        """The capacity multiplier that leaves the group consuming `ratio` x the produce rate at `rel`."""
        return ratio * self.season(rel) / self.p.capacity

    def incident(self, onset: float, end: float, cause: str, tail: float = 0.0) -> None:
        alerts = simulator.EXPECTED_ALERTS.get(cause) or NEW_CAUSE_ALERTS.get(cause, [])
        self.incidents.append((onset, end + tail, cause, list(alerts)))
        self.protected.append((onset - 30 * MIN, end + tail + HOUR))
        self.duration = max(self.duration, end + tail + 3 * HOUR)


def _plan_producer_spike(c: _Ctx) -> None:
    r = c.rng
    if r.random() < 0.35:       # gradual: the produce rate grows by a few % per hour and overtakes the consumers
        length = r.uniform(6, 12) * HOUR
        # by the end the produce rate is 1.2-1.6x what the consumers can take
        target = c.p.capacity * r.uniform(1.2, 1.6) / c.season(c.onset + length)
        per_hour = (target - 1.0) / (length / HOUR)
        c.events.append(Event("produce_growth", c.onset, c.onset + length, c.topic, {"per_hour": per_hour}))
        c.incident(c.onset, c.onset + length, "producer_spike")
        c.incidents[-1] = (*c.incidents[-1][:3], list(simulator.EXPECTED_ALERTS["slow_growth"]))
        c.extra["variant"] = "growth"
        return
    factor = c.p.capacity * r.uniform(1.3, 3.0) / c.season(c.onset)   # 1.3-3x what the consumers can take
    length = r.uniform(15, 90) * MIN
    c.events.append(Event("produce", c.onset, c.onset + length, c.topic, {"factor": factor,
                                                                           "ramp": r.uniform(0, 10) * MIN}))
    c.incident(c.onset, c.onset + length, "producer_spike", tail=30 * MIN)
    c.extra["variant"] = "step"


def _plan_consumer_down(c: _Ctx) -> None:
    length = c.rng.uniform(10, 90) * MIN
    c.events.append(Event("down", c.onset, c.onset + length, c.group))
    c.incident(c.onset, c.onset + length, "consumer_down", tail=30 * MIN)


def _plan_consumer_stalled(c: _Ctx) -> None:
    length = c.rng.uniform(12, 60) * MIN
    c.events.append(Event("stall", c.onset, c.onset + length, c.group))
    c.incident(c.onset, c.onset + length, "consumer_stalled", tail=20 * MIN)


def _plan_rebalance_storm(c: _Ctx) -> None:
    r = c.rng
    if r.random() < 0.3:        # max.poll.interval exceeded: a handful of rebalances, each a longer pause
        length = r.uniform(10, 20) * MIN
        params = {"factor": c.capacity_factor(r.uniform(0.2, 0.8), c.onset), "min_gap": 60, "max_gap": 150}
        c.extra["variant"] = "poll_timeout"
    else:
        length = r.uniform(20, 60) * MIN
        params = {"factor": c.capacity_factor(r.uniform(0.3, 0.9), c.onset), "min_gap": 30, "max_gap": 90}
    c.events.append(Event("rebalance_storm", c.onset, c.onset + length, c.group, params))
    c.incident(c.onset, c.onset + length, "rebalance_storm", tail=30 * MIN)


def _plan_cpu(c: _Ctx) -> None:
    r = c.rng
    length = r.uniform(40, 150) * MIN
    factor = c.capacity_factor(r.uniform(0.3, 0.75), c.onset)
    c.events.append(Event("capacity", c.onset, c.onset + length, c.group,
                          {"factor": factor, "cpu": r.uniform(0.92, 0.99), "ramp": r.uniform(0, 20) * MIN}))
    c.incident(c.onset, c.onset + length, "consumer_cpu_saturation", tail=30 * MIN)


def _plan_slowdown(c: _Ctx) -> None:
    r = c.rng
    u = r.random()
    if u < 0.4:                  # gradual: throughput falls over hours
        length = r.uniform(4, 10) * HOUR
        factor = c.capacity_factor(r.uniform(0.4, 0.75), c.onset)
        c.events.append(Event("capacity", c.onset, c.onset + length, c.group,
                              {"factor": factor, "ramp": length * r.uniform(0.5, 0.9)}))
        c.extra["variant"] = "gradual"
    elif u < 0.55:               # death spiral: the slower it gets, the bigger the backlog, the slower it gets
        length = r.uniform(2, 4) * HOUR
        c.events.append(Event("death_spiral", c.onset, c.onset + length, c.group,
                              {"factor": c.capacity_factor(0.7, c.onset),
                               "lag_scale": c.p.rate * r.uniform(600, 1800)}))
        c.extra["variant"] = "death_spiral"
    else:
        length = r.uniform(30, 180) * MIN
        c.events.append(Event("capacity", c.onset, c.onset + length, c.group,
                              {"factor": c.capacity_factor(r.uniform(0.3, 0.8), c.onset)}))
        c.extra["variant"] = "step"
    c.incident(c.onset, c.onset + length, "consumer_slowdown", tail=30 * MIN)


def _plan_leader_election(c: _Ctx) -> None:
    r = c.rng
    if r.random() < 0.4:          # one wave: ~30 s - 2 min of lag
        length = r.uniform(1, 3) * MIN
        c.extra["variant"] = "short"
    else:
        length = r.uniform(4, 15) * MIN
    c.events.append(Event("elections", c.onset, c.onset + length, c.topic,
                          {"per_step": r.uniform(0.3, 0.7), "factor": c.capacity_factor(r.uniform(0.0, 0.5), c.onset)}))
    c.incident(c.onset, c.onset + length, "leader_election", tail=30 * MIN)


def _plan_broker_failure(c: _Ctx) -> None:
    r = c.rng
    length = r.uniform(15, 60) * MIN
    broker = r.randint(1, c.p.brokers)
    share = 1.0 / c.p.brokers     # the consumers lose about the failed broker's share of throughput, and pause
    # clients reconnect, leaders move: the consumers fall behind the producers for a while
    c.events.append(Event("broker_down", c.onset, c.onset + length, str(broker),
                          {"factor": c.capacity_factor(r.uniform(0.2, 0.8) * (1.0 - share / 2), c.onset),
                           "offline_seconds": r.uniform(30, 180)}))
    c.incident(c.onset, c.onset + length, "broker_failure", tail=30 * MIN)
    c.other_subjects = [(g.name, g.topic) for g in c.groups[1:]]


def _plan_broker_skew(c: _Ctx) -> None:
    r = c.rng
    length = r.uniform(60, 180) * MIN
    fair = 1.0 / c.p.brokers
    share = min(0.95, fair + (1.0 - fair) * r.uniform(0.3, 0.7))
    c.events.append(Event("skew", c.onset, c.onset + length, str(r.randint(1, c.p.brokers)),
                          {"factor": c.capacity_factor(r.uniform(0.4, 0.8), c.onset), "share": share,
                           "ramp": r.uniform(0, 15) * MIN}))
    c.incident(c.onset, c.onset + length, "broker_skew", tail=30 * MIN)


def _plan_disk_pressure(c: _Ctx) -> None:
    r = c.rng
    fill = r.uniform(60, 180) * MIN
    broker = r.randint(1, c.p.brokers)
    start = c.onset - fill
    c.events.append(Event("disk", start, c.onset + 20 * MIN, str(broker),
                          {"to": r.uniform(0.93, 0.99), "factor": c.capacity_factor(r.uniform(0.3, 0.7), c.onset)}))
    c.incident(c.onset - 10 * MIN, c.onset + 2 * HOUR, "disk_pressure")


def _plan_retention_loss(c: _Ctx) -> None:
    r = c.rng
    retention = r.uniform(1, 3) * HOUR
    c.topics[0].retention_seconds = retention
    if r.random() < 0.5:         # consumers gone long enough for retention to delete what they had not read
        length = retention + r.uniform(30, 90) * MIN
        c.events.append(Event("down", c.onset, c.onset + length, c.group))
        split = "consumer_down"
    else:                        # consumers slower than producers for hours
        length = retention * r.uniform(2.5, 4.0)
        c.events.append(Event("capacity", c.onset, c.onset + length, c.group,
                              {"factor": c.capacity_factor(r.uniform(0.3, 0.6), c.onset)}))
        split = "consumer_slowdown"
    c.incident(c.onset, c.onset + length, "retention_loss", tail=30 * MIN)
    c.extra.update({"retention_breach": True, "split_at_breach": split})


def _plan_recurring(c: _Ctx) -> None:
    r = c.rng
    nights = r.randint(3, 4)
    hour = r.uniform(0.5, 5.5) * HOUR
    size = r.uniform(1.3, 3.0)                            # the batch's rate, a multiple of the consumers' capacity
    length = r.uniform(20, 45) * MIN
    first = DAY + hour                                    # the first night after a day of history
    for n in range(nights):
        onset = first + n * DAY + r.uniform(-5, 5) * MIN
        # The same batch every night: its rate does not follow the weekly dip (a weekend night's factor of the
        # seasonal rate is larger), or a weekend recurrence would stay under the consumers' capacity and be no
        # incident at all.
        factor = c.p.capacity * size / c.season(onset)
        c.events.append(Event("produce", onset, onset + length, c.topic, {"factor": factor, "ramp": 120.0}))
        # the first night is a producer spike; from the second night on the spike is a recurrence
        c.incident(onset, onset + length, "producer_spike" if n == 0 else "recurring", tail=30 * MIN)
    c.extra["recurring_at"] = f"{int(hour // HOUR):02d}:{int(hour % HOUR // MIN):02d}"


def _plan_intermittent(c: _Ctx) -> None:
    r = c.rng
    t = c.onset
    n = 0
    end = c.onset + r.uniform(12, 20) * HOUR
    while t < end:
        length = r.uniform(3, 10) * MIN
        c.events.append(Event("stall", t, t + length, c.group))
        c.incident(t, t + length, "consumer_stalled" if n == 0 else "intermittent", tail=10 * MIN)
        n += 1
        t += r.uniform(2, 5) * HOUR


def _plan_retry_spiral(c: _Ctx) -> None:
    r = c.rng
    length = r.uniform(60, 240) * MIN
    c.events.append(Event("retry_spiral", c.onset, c.onset + length, c.group,
                          {"fail": r.uniform(0.1, 0.3), "max_fail": r.uniform(0.6, 0.9),
                           "lag_scale": c.p.rate * r.uniform(600, 3000),
                           "factor": c.capacity_factor(r.uniform(0.6, 0.95), c.onset)}))
    c.incident(c.onset, c.onset + length, "retry_death_spiral", tail=30 * MIN)


def _plan_partial_stall(c: _Ctx) -> None:
    r = c.rng
    n = c.topics[0].partitions
    k = max(1, min(3, n // 4, int(n * r.uniform(0.05, 0.25))))
    frozen = sorted(r.sample(range(n), k))
    length = r.uniform(20, 90) * MIN
    c.events.append(Event("partial_stall", c.onset, c.onset + length, c.group, {"partitions": frozen}))
    c.incident(c.onset, c.onset + length, "partial_stall", tail=30 * MIN)
    c.extra["frozen_partitions"] = frozen


def _plan_quiet(c: _Ctx) -> None:
    c.duration = 2 * DAY


FAMILIES: dict[str, Callable[[_Ctx], None]] = {
    "producer_spike": _plan_producer_spike,
    "consumer_down": _plan_consumer_down,
    "consumer_stalled": _plan_consumer_stalled,
    "rebalance_storm": _plan_rebalance_storm,
    "consumer_cpu_saturation": _plan_cpu,
    "consumer_slowdown": _plan_slowdown,
    "leader_election": _plan_leader_election,
    "broker_failure": _plan_broker_failure,
    "broker_skew": _plan_broker_skew,
    "disk_pressure": _plan_disk_pressure,
    "retention_loss": _plan_retention_loss,
    "recurring": _plan_recurring,
    "intermittent": _plan_intermittent,
    "retry_death_spiral": _plan_retry_spiral,
    "partial_stall": _plan_partial_stall,
    "quiet": _plan_quiet,
}
NEW_CAUSES = ("recurring", "intermittent", "retry_death_spiral", "partial_stall")


# --- confounders ---------------------------------------------------------------------------------------------


def _free_time(c: _Ctx, length: float, lo: float = HOUR) -> float | None:
    """A start time in [lo, duration - length) whose window stays out of the protected windows."""
    for _ in range(50):
        t = c.rng.uniform(lo, max(lo, c.duration - length - 30 * MIN))
        if all(t + length <= a or t >= b for a, b in c.protected):
            return t
    return None


def _confounders(c: _Ctx) -> list[str]:
    r = c.rng
    kinds = []
    # decoy rebalances: a rolling deploy of the subject group, often in the hour before the fault
    n_deploys = r.randint(1, 3) if c.p.family == "quiet" else 1
    for i in range(n_deploys):
        before_fault = bool(c.incidents) and i == 0 and r.random() < 0.5
        t = c.incidents[0][0] - r.uniform(10, 60) * MIN if before_fault else _free_time(c, 5 * MIN)
        if t is not None:
            c.events.append(Event("deploy", t, t + 60.0, c.group))
            kinds.append("deploy")
    for g in c.groups[1:]:
        t = _free_time(c, 5 * MIN)
        if t is not None and r.random() < 0.7:
            c.events.append(Event("rebalance", t, t + 60.0, g.name))
            kinds.append("decoy_rebalance")
    # a seasonal busy period the consumers absorb (capacity has the margin for x1.6 over the daily peak)
    length = r.uniform(45, 120) * MIN
    t = _free_time(c, length)
    if t is not None:
        c.events.append(Event("produce", t, t + length, c.topic, {"factor": r.uniform(1.2, 1.6), "ramp": 15 * MIN}))
        c.protected.append((t, t + length))
        kinds.append("seasonal_peak")
    # one slow partition that is not the cause (a hot key): its consumer keeps 85-95 % of the pace for a while
    frozen = set(c.extra.get("frozen_partitions", ()))
    candidates = [i for i in range(c.topics[0].partitions) if i not in frozen]
    if candidates:
        length = r.uniform(10, 20) * MIN
        t = r.uniform(HOUR, c.duration - length - 30 * MIN)
        c.events.append(Event("slow_partition", t, t + length, c.group,
                              {"partition": r.choice(candidates), "share": r.uniform(0.85, 0.95)}))
        kinds.append("slow_partition")
    # a preferred-leader election on another topic, and a CPU blip of another group that does not slow it
    if len(c.topics) > 1 and r.random() < 0.5:
        t = _free_time(c, 2 * MIN)
        if t is not None:
            c.events.append(Event("elections", t, t + 60.0, c.topics[-1].name, {"per_step": 0.0, "factor": 1.0}))
            kinds.append("leader_move")
    if len(c.groups) > 1 and r.random() < 0.5:
        t = _free_time(c, 20 * MIN)
        if t is not None:
            c.events.append(Event("cpu", t, t + 20 * MIN, c.groups[-1].name, {"to": r.uniform(0.8, 0.95)}))
            kinds.append("cpu_blip")
    return kinds


def _gaps_and_restarts(c: _Ctx) -> tuple[list[tuple[float, float]], list[float]]:
    r = c.rng
    gaps = []
    for _ in range(r.randint(0, 2)):
        t = r.uniform(HOUR, c.duration - HOUR)
        gaps.append((t, t + r.uniform(2, 10) * MIN))
    restarts = sorted(r.uniform(HOUR, c.duration - HOUR) for _ in range(r.randint(0, 2)))
    return gaps, restarts


# --- building and writing ----------------------------------------------------------------------------------


def build(p: FamilyParams) -> Scenario:
    """The simulator scenario of `p` (the family's fault and the confounders drawn from `p.seed`)."""
    rng = random.Random(p.seed ^ 0xFA11)
    topic_names = [TOPIC_NAMES[(p.seed + i) % len(TOPIC_NAMES)] for i in range(len(p.topic_partitions))]
    topics = [TopicSpec(name, rate, parts, 7 * DAY, p.daily)
              for name, rate, parts in zip(topic_names, p.topic_rates, p.topic_partitions, strict=True)]
    groups = [GroupSpec(GROUP_NAMES[(p.seed // 7 + i) % len(GROUP_NAMES)], topic_names[ti],
                        p.capacity * (1.0 if i == 0 else rng.uniform(1.0, 1.5)), members=rng.randint(1, 12))
              for i, ti in enumerate(p.group_topics)]
    onset = DAY + rng.uniform(2, 22) * HOUR            # a day of history first
    c = _Ctx(p=p, rng=rng, topics=topics, groups=groups, onset=onset)
    FAMILIES[p.family](c)
    c.duration = max(c.duration, 26 * HOUR)
    confounders = _confounders(c)
    gaps, restarts = _gaps_and_restarts(c)
    extra = dict(c.extra)
    extra.update({"family": p.family, "split": p.split, "confounders": confounders,
                  "brokers": p.brokers, "cluster_partitions": p.cluster_partitions, "groups_total": p.groups_total,
                  "rate": round(p.rate, 3), "commit": p.commit, "missing": list(p.missing),
                  "weekly": round(p.weekly, 3), "gaps": len(gaps), "restarts": len(restarts)})
    return Scenario(
        name=p.name, description=f"{p.family} family ({p.split} split), {p.brokers} brokers, "
        f"{p.cluster_partitions} partitions, {p.groups_total} groups, {p.rate:.1f} msg/s, {p.commit} commits",
        duration=math.ceil(c.duration / STEP) * STEP, step=STEP, topics=topics, groups=groups, events=c.events,
        subject=(c.group, c.topic), other_subjects=c.other_subjects, incidents=c.incidents,
        quiet=p.family == "quiet", extra=extra, noise=p.noise, brokers=tuple(range(1, p.brokers + 1)),
        cluster_partitions=p.cluster_partitions, start=simulator.START + p.start_day * DAY, seed=p.seed,
        weekly=p.weekly, peak_hour=p.peak_hour, commit=p.commit, commit_batch=p.commit_batch,
        commit_interval=p.commit_interval, gaps=gaps, restarts=restarts, missing=frozenset(p.missing),
        partition_detail=True, recovery_floor=max(10.0, 30.0 * p.rate),
    )


def _by_key(series: list[Series], name: str, labels: dict[str, str]) -> Series | None:
    for s in series:
        if s.name == name and s.labels == labels:
            return s
    return None


def _window(s: Series | None, a: float, b: float) -> list[float]:
    if s is None:
        return []
    return [v for t, v in zip(s.timestamps, s.values, strict=True) if a <= t <= b]


def expected_alerts(series: list[Series], truth: Truth) -> None:
    """Keep the backlog alerts of an incident only when its backlog is material for this topic: at its peak the
    lag holds >= 2 minutes of the usual production and >= 10x the usual lag, and the oldest message is >= 5
    minutes old. The time-based lag alert is expected once the oldest message is >= 10 minutes old. No absolute
    message count: a 10k-message backlog is nothing at 50k msg/s and hours at 1 msg/s."""
    gt = {"cluster": truth.cluster, "consumergroup": truth.consumergroup, "topic": truth.topic}
    lag = _by_key(series, "kafka_consumergroup_lag_sum", gt)
    lag_s = _by_key(series, "kafka_consumergroup_max_lag_seconds", gt)
    rate = _by_key(series, "kafka_topic_produce_rate_messages_per_second",
                   {"cluster": truth.cluster, "topic": truth.topic})
    for inc in truth.incidents:
        before = sorted(_window(lag, inc.onset - HOUR, inc.onset - 1))
        usual = before[len(before) // 2] if before else 0.0
        rates = sorted(_window(rate, inc.onset - HOUR, inc.onset - 1))
        usual_rate = rates[len(rates) // 2] if rates else 0.0
        peak = max(_window(lag, inc.onset, inc.end), default=0.0)
        peak_s = max(_window(lag_s, inc.onset, inc.end), default=0.0)
        material = peak >= max(120.0 * usual_rate, 10.0 * usual, 1.0) and peak_s >= 300.0
        if not material:
            inc.patterns = [a for a in inc.patterns if a not in LAG_ALERTS]
        if peak_s >= 600.0 and LAG_SECONDS_ALERT not in inc.patterns and inc.root_cause not in (
                "broker_skew", "disk_pressure", "leader_election", "broker_failure"):
            inc.patterns.append(LAG_SECONDS_ALERT)
        inc.patterns = list(dict.fromkeys(inc.patterns))


def generate(p: FamilyParams, out_dir: str | Path) -> tuple[Path, Path]:
    """Simulate `p` and write `<out_dir>/<name>.om` and `<name>.truth.yaml`."""
    series, truth = simulator.simulate(build(p))
    expected_alerts(series, truth)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trace_path, truth_path = out / f"{p.name}.om.gz", out / f"{p.name}.truth.yaml"
    write_trace(trace_path, series)
    write_truth(truth_path, truth)
    return trace_path, truth_path


def shortened(p: FamilyParams, before: float = 2 * HOUR, after: float = 2 * HOUR) -> Scenario:
    """The scenario of `p` cut to `before` + `after` around its first incident, without gaps or restarts (a
    quick look, the tests). Not part of any split's figures."""
    sc = build(p)
    if not sc.incidents:
        sc.duration, sc.gaps, sc.restarts = before + after, [], []
        sc.events = [e for e in sc.events if e.onset < sc.duration]
        return sc
    shift = sc.incidents[0][0] - before
    sc.events = [replace(e, onset=e.onset - shift, end=e.end - shift) for e in sc.events if e.end > shift]
    sc.incidents = [(a - shift, b - shift, c, x) for a, b, c, x in sc.incidents]
    sc.gaps, sc.restarts = [], []
    sc.duration = math.ceil((before + after) / STEP) * STEP
    return sc


def plan(split: str, count: int) -> list[FamilyParams]:
    """`count` scenarios of `split`, the families taken in turn (so every family has count // 16 or one more)."""
    names = list(FAMILIES)
    return [sample(split, names[i % len(names)], i // len(names)) for i in range(count)]


def params_dict(p: FamilyParams) -> dict:
    d = asdict(p)
    d["name"] = p.name
    return d
