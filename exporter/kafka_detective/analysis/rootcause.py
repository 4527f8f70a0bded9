"""Root-cause analysis of a consumer group's lag problem.

`diagnose(history)` looks at the recent history of one consumer group on one topic (a sequence of
`GroupTopicSample`, oldest first), finds where the lag started to rise (the onset) when it is not given,
compares a pre-onset baseline with the post-onset window signal by signal with robust statistics
(median / MAD), scores every root cause of `ROOT_CAUSES` from that evidence and returns the best one with a
confidence, a severity, the ranked evidence, a remediation text and the top-3 ranking.

The tree it extends (from the original investigation playbook) is:

    producer spike?                     -> producer_spike
    consumer slowdown?  rebalancing?    -> rebalance_storm
                        CPU saturated?  -> consumer_cpu_saturation
                        otherwise       -> consumer_slowdown
    partition leader election?          -> leader_election
    otherwise                           -> unknown

extended with consumer_down, consumer_stalled, broker_failure, broker_skew, disk_pressure and retention_loss.
Instead of a first-match tree every cause gets a 0-1 score; the best score wins and the margin to the
runner-up sets the confidence, so two causes that explain the evidence equally well give a low confidence.

Pure Python (stdlib only): the exporter calls it online every cycle for the subjects with a lag problem;
it is O(n) in the number of samples (a few hundred samples take well under a millisecond per signal).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from kafka_detective.analysis.model import ROOT_CAUSES, Diagnosis, Evidence
from kafka_detective.kafka.group_state import EMPTY_STATES, REBALANCING_STATES
from kafka_detective.signals.samples import GroupTopicSample

# Metric names used in evidence (the catalogue's names where the signal is one of our metrics).
PRODUCE_RATE = "kafka_topic_produce_rate_messages_per_second"
CONSUME_RATE = "kafka_consumergroup_consume_rate_messages_per_second"
LAG = "kafka_consumergroup_lag_sum"
LAG_SECONDS = "kafka_consumergroup_max_lag_seconds"
REBALANCES = "kafka_consumergroup_rebalances_total"
MEMBERS = "kafka_consumergroup_members"
STATE = "kafka_consumergroup_state"
COMMITTED = "kafka_consumergroup_current_offset_sum"
LEADER_CHANGES = "kafka_topic_partition_leader_changes_total"
UNDER_REPLICATED = "kafka_topic_partition_under_replicated_partition"
OFFLINE = "kafka_topic_partition_offline"
BROKERS = "kafka_brokers"
LOST = "kafka_consumergroup_lost_messages_total"
CPU = "consumer_cpu_ratio"
DISK = "disk_used_ratio"
SKEW = "broker_leader_share_ratio"
PARTITION_LAG = "kafka_consumergroup_lag"

@dataclass(frozen=True)
class Scoring:
    """Every weight and threshold of the root-cause scores, and what it means: the only place to change them.

    A `(lo, hi)` pair is the bounds of a `ramp`: 0 at `lo`, 1 at `hi` (a falling ramp when hi < lo). A cause's
    "top" is its score when all its evidence is there: it ranks the causes that explain the evidence equally
    well. A "discount" d multiplies a score by (1 - d x the other explanation's strength). Rates and counts are
    relative to the subject's own baseline, never absolute.
    """

    # -- windows and the floor every cause must beat
    baseline_max_samples: int = 120    # the baseline is at most this many samples before the onset
    min_baseline: int = 3              # fewer baseline samples: no baseline, nothing is compared with it
    max_commit_gap_steps: int = 10     # the longest gap between commits taken as a group's cadence (batched or
                                       # every-N-seconds commits), not as a freeze
    # commits of whole batches (a commit per processed batch): the consume rate is read over windows that hold
    # this many batches, so that it moves by less than a batch
    batches_per_rate_window: int = 4
    batch_tolerance: float = 0.02      # a commit within 2 % of a whole number of the smallest commit ...
    batch_share: float = 0.9           # ... for this share of the baseline's commits: commits are whole batches
    max_batch_steps: int = 20
    unknown_floor: float = 0.25        # score of `unknown`: a cause must beat it to be reported
    around_before: int = 2             # counts "around the onset" start this many samples before it
    near_onset: tuple[int, int] = (3, 4)   # leader changes "at the onset": from 3 samples before to 3 after it
    leader_bump_seconds: float = 30.0  # a lag bump of this much production counts when leaders changed ...
    leader_bump_samples: int = 15      # ... in the last samples (a short election wave: one or two cycles of lag)

    # -- produce and consume rates against their baseline
    rate_z_floors: tuple[float, float] = (0.05, 1e-3)   # robust z scale at least 5 % of the baseline, 1e-3 msg/s
    rate_later_half_from: int = 8      # a post window this long compares its later half (a gradual change is
                                       # fully developed there; a step change looks the same in both halves)
    median_efficiency: float = 1.25    # efficiency loss of the median against the mean (shift significance)
    shift_significance: tuple[float, float] = (2.0, 4.0)   # t of a rate shift (effect x sqrt(n)): ramp
    recent_samples: int = 10           # "just before the onset", and as many right after it: the local reading

    # -- producer_spike: produce well above its baseline, consumers not slower than before
    spike_top: float = 0.95
    spike_ratio: tuple[float, float] = (1.25, 2.0)        # produce / baseline
    spike_share_rise: tuple[float, float] = (0.05, 0.2)   # produce / baseline - 1, times the produce's share of
                                                          # the deficit (a small rise that explains the lag)
    healthy_consume: tuple[float, float] = (0.55, 0.9)    # consume / baseline: consumers as fast as before
    healthy_without_baseline: float = 0.5
    spike_frozen_discount: float = 0.7    # commits frozen: the consumers are the problem, not the producers

    # -- consumer_down: no members while messages arrive
    empty_fraction: tuple[float, float] = (0.0, 0.5)      # share of the post window with the group empty
    down_not_producing: float = 0.3       # weight of an empty group when nothing is produced either

    # -- the broker side (offline or under-replicated partitions) explains what the consumers do
    urp_fraction: tuple[float, float] = (0.0, 0.3)        # share of samples with under-replicated partitions
    urp_before_weight: float = 0.5        # weight of that share when some were under-replicated before the onset

    # -- consumer_stalled: commits frozen with members present
    stalled_top: float = 0.95
    frozen_fraction: tuple[float, float] = (0.2, 0.7)     # share of the post window with frozen commits
    stalled_rebalances: tuple[int, int] = (1, 4)          # rebalances around the onset ...
    stalled_rebalance_discount: float = 0.5               # ... explain up to half of a freeze
    stalled_election_discount: float = 0.6
    stalled_broker_discount: float = 0.8
    election_near: tuple[float, float] = (0.0, 1.0)       # leader changes at the onset: an election

    # -- consumers slower than before (rebalance_storm, consumer_cpu_saturation, consumer_slowdown)
    slowed_drop: tuple[float, float] = (0.15, 0.5)        # 1 - consume / baseline
    slowed_share_drop: tuple[float, float] = (0.05, 0.2)  # the same, times the consumers' share of the deficit
    # the same read locally (right after the onset against just before it), where a daily cycle moves the two-hour
    # baseline: the step's size in units of the same step along the subject's baseline (`local_step`)
    slowed_local_z: tuple[float, float] = (1.0, 2.5)
    # the consumers against the highest rate they have shown within the last day (`shown_capacity`): their share of
    # the deficit against it, times `slowed_share_drop` of 1 - consume / min(produce, shown capacity)
    capacity_spike_discount: float = 0.8                  # of a producer spike by that loss
    capacity_shown_from: float = 0.5                      # the loss is shown as a finding from this much on
    storm_top: float = 0.95
    storm_excess: tuple[float, float] = (0.5, 3.0)        # rebalances around the onset above the baseline's rate
    storm_rebalancing_fraction: tuple[float, float] = (0.0, 0.3)   # share of the window in a rebalancing state
    storm_rebalances: tuple[float, float] = (2.0, 5.0)    # rebalances around the onset
    storm_broker_discount: float = 0.25   # a lost coordinator or reassigned partitions rebalance groups too
    cpu_top: float = 0.95
    cpu_saturated: tuple[float, float] = (0.7, 0.9)       # median consumer CPU ratio after the onset
    cpu_rise: tuple[float, float] = (0.15, 0.35)          # ... above the baseline's median: saturated WITH the onset
    cpu_rise_weight: float = 0.8   # a CPU that saturated with the onset, before the consume rate shows the drop
    slowdown_top: float = 0.85
    slowdown_election_discount: float = 0.5

    # -- broker_failure, leader_election, broker_skew, disk_pressure
    broker_failure_top: float = 0.95
    broker_failure_urp_weight: float = 0.9   # under-replicated only (no offline partition) counts a little less
    broker_failure_leader_boost: float = 1.05   # leaders moved too
    election_top: float = 0.8
    election_broker_discount: float = 0.7
    election_spike_or_empty_discount: float = 0.5
    election_skew_discount: float = 0.5   # leaders that moved onto one broker and stayed there: the skew they left
    skew_top: float = 0.7
    skew_share: tuple[float, float] = (1.4, 2.0)   # busiest broker's leader share / its fair share
    disk_top: float = 0.8
    disk_used: tuple[float, float] = (0.8, 0.95)   # fullest log dir's used ratio
    skew_rise: tuple[float, float] = (0.2, 0.5)    # the skew above the baseline's: a skew that came with the onset
    skew_new_share: tuple[float, float] = (1.2, 1.4)   # ... to at least this share (all skew ratios are read
                                                       # on the three-broker scale: `skew_scale`)
    upstream_discount: float = 0.6        # of consumer slowdown and stall by a new skew or a nearly full disk
    unmeasured_weight: float = 0.5        # score share of CPU saturation when the consumers' CPU is not measured
    unmeasured_disk_weight: float = 0.3   # score of disk pressure x how much the consumers slowed, no disk metrics

    # -- retention_loss: the headline whenever messages were lost
    retention_top: float = 0.98
    lost_messages: tuple[float, float] = (0.0, 1.0)
    loss_discount: float = 0.3            # the consumer-side causes that let the backlog age past the retention

    # -- partial_stall: a few partitions frozen, the group as a whole still consuming
    partial_top: float = 0.95
    partial_max_share: float = 0.5        # at most this share of the group's partitions frozen is "a few"
    partial_steps: tuple[float, float] = (0.2, 0.6)   # share of the post window with a partial freeze (above base)
    partial_broker_discount: float = 0.8
    partial_discount: float = 0.8         # of slowdown, stall, CPU and election, which a partial stall explains

    # -- retry_death_spiral: failures re-produced, so the produce rate rises WITH the lag
    spiral_top: float = 0.95
    spiral_smoothing: int = 5             # median filter width of the produce rate
    spiral_min_points: int = 6
    spiral_min_third: int = 2             # samples of the first and last thirds of the growth phase, at least
    spiral_correlation: tuple[float, float] = (0.4, 0.75)   # produce rate with the lag, after the onset
    spiral_growth: tuple[float, float] = (0.05, 0.12)   # produce rise WITHIN the growth phase (last third vs first)
    spiral_produce_rise: tuple[float, float] = (0.05, 0.15)   # produce / baseline - 1 (and / just before the onset)
    spiral_consume_drop: tuple[float, float] = (0.1, 0.3)    # early sign: 1 - consume / baseline
    # early sign, second form: a large produce step that the consumers do not absorb. Consumers with headroom
    # read faster when more arrives (a spike's); a spiral's, busy with the failures, read no faster
    spiral_unabsorbed_rise: tuple[float, float] = (0.15, 0.3)     # produce / just before the onset - 1
    spiral_unabsorbed_consume: tuple[float, float] = (1.05, 0.95)  # consume / just before the onset: falling ramp
    # ... and a clearer step than the first form: consumers that lost their headroom over hours (a gradual
    # slowdown) show the same when the producer happens to wander up as the lag starts
    spiral_unabsorbed_z: tuple[float, float] = (1.5, 3.0)
    spiral_early_weight: float = 0.8      # the early sign counts a little less than the rise with the lag
    spiral_step_z: tuple[float, float] = (0.5, 2.0)   # early sign: the produce step at the onset, in units of
                                          # the same step measured along the baseline (`local_step`)
    spiral_extra_of_consumed: tuple[float, float] = (0.8, 1.0)   # extra produce / consume rate: falling ramp, a
                                                                 # spiral up to 0.8, none beyond 1.0
    spiral_spike_discount: float = 0.6
    spiral_slowdown_discount: float = 0.5
    # A spiral's first minutes look like a slowdown: its produce step (10-30 % of what the consumers read) is
    # within the producers' own wander, so it cannot be told apart yet. Consumers that read less while the
    # producers write more at the same onset keep the spiral right behind the slowdown, as the one cause that
    # would explain both; the rise alone never names it
    spiral_behind_slowdown: float = 0.75  # share of the slowdown's score ...
    spiral_behind_rise: tuple[float, float] = (0.0, 0.15)   # ... times this ramp of the produce step at the onset

    # -- evidence: ranking weight of each finding, and the threshold it shows
    lag_weight: float = 0.5
    lag_threshold: tuple[float, float] = (3, 10)         # baseline + 3 MADs, at least 10 messages
    lag_seconds_weight: float = 0.4
    lag_seconds_threshold: tuple[float, float] = (2, 60)  # twice the baseline + a minute
    rate_z_weight: tuple[float, float] = (1, 6)          # |robust z| of a rate
    rate_change_weight: tuple[float, float] = (0.05, 0.7)   # |log(ratio to baseline)| of a rate
    produce_threshold: float = 2          # x the baseline
    consume_threshold: float = 0.5        # x the baseline
    rebalances_weight: tuple[float, float] = (0, 4)      # rebalances above the baseline's expectation
    cpu_threshold: float = 0.8
    cpu_weight: tuple[float, float] = (0.6, 0.95)
    leader_changes_weight: tuple[float, float] = (0, 2)
    disk_shown_from: float = 0.7
    disk_threshold: float = 0.85
    disk_weight: tuple[float, float] = (0.7, 0.95)
    skew_shown_from: float = 1.3
    skew_threshold: float = 1.5
    skew_weight: tuple[float, float] = (1.3, 2.5)

    # -- candidates kept in the ranking on thin evidence (always below `unknown_floor`: they never win alone)
    candidate_top: float = 0.2
    candidate_drop: tuple[float, float] = (0.0, 0.15)    # the consumers' shortfall, not yet significant
    candidate_rise: tuple[float, float] = (0.0, 0.15)    # produce / baseline - 1, not yet significant
    candidate_spiral_share: float = 0.5  # of a produce rise kept for the spiral while the consumers read as before
    candidate_unexplained: float = 0.5   # discount of a spike by the consumers' shortfall it leaves unexplained

    # -- confidence: the best score, down to half of it as the runner-up comes closer than this margin
    confidence_margin: float = 0.4


SCORING = Scoring()

REMEDIATION: dict[str, str] = {
    "producer_spike": "Producers write well above their usual rate and the consumers, though healthy, are "
    "outpaced. Scale the consumer group out (up to the partition count) or raise per-consumer throughput "
    "(max.poll.records, batching); find out which producer spiked and whether it is expected (batch job, "
    "replay, retry storm).",
    "consumer_down": "The group has no members while messages keep arriving. Restart or redeploy the "
    "consumers (check crash loops, OOM kills, failed deployments, scaled-to-zero autoscalers) before "
    "retention deletes unconsumed messages.",
    "consumer_stalled": "Consumers are connected but their committed offset does not move. Look for a "
    "poison message or an exception loop, a stuck downstream call (database, HTTP) or a thread deadlock; "
    "take a thread dump, check the application logs at the committed offset, and skip or dead-letter the "
    "message if it is poison.",
    "rebalance_storm": "The group keeps rebalancing, so consumption stops repeatedly. Check consumer "
    "restarts and OOM kills, max.poll.interval.ms against the processing time per batch, "
    "session.timeout.ms / heartbeat.interval.ms, and use static membership or the cooperative-sticky "
    "assignor (or the KIP-848 protocol) to make rebalances cheap.",
    "consumer_cpu_saturation": "The consumers' CPU is saturated and they consume more slowly. Scale the "
    "group horizontally (up to the partition count) or give the consumers more CPU; profile the hot path.",
    "consumer_slowdown": "The consumers process more slowly than before with no rebalance and no "
    "infrastructure cause. Check the application logs and latency of downstream dependencies (database, "
    "external APIs), recent deployments and GC pauses.",
    "leader_election": "Partition leadership of the topic moved around the onset; consumers paused while "
    "they refreshed metadata. Check broker health and network stability, controller logs, and run a "
    "preferred-replica election once the cluster is stable.",
    "broker_failure": "A broker left the cluster: partitions are offline or under-replicated. Restore the "
    "broker (process, disk, network), check the controller log, and watch the ISR recover; consumers resume "
    "when every partition has a leader.",
    "broker_skew": "One broker leads far more partitions than its share and becomes the bottleneck. Run a "
    "preferred-replica election and rebalance partition leadership (kafka-reassign-partitions, Cruise "
    "Control).",
    "disk_pressure": "A broker's log directory is nearly full. Reduce retention or delete unused topics, add "
    "disk capacity, enable compression; a full disk takes the log dir offline.",
    "retention_loss": "Retention deleted messages before the group consumed them (data loss). Speed up the "
    "consumers first, then extend the topic's retention.ms while the backlog drains, and replay the lost "
    "range from the source system if possible.",
    "partial_stall": "A few partitions of the topic are frozen while the others are consumed: usually one "
    "consumer thread stuck on a poison message or a slow key, or a member that holds partitions without "
    "processing them. Find the member that owns the frozen partitions (kafka-consumer-groups --describe), "
    "read its logs at the frozen offsets, and restart it or dead-letter the message.",
    "retry_death_spiral": "Failed messages are written back to the topic and the produce rate grows with the "
    "backlog: the more the consumers fall behind, the more time-outs, the more retries. Stop the feedback "
    "first: pause or cap the retry producer, route failures to a dead-letter topic with back-off, fix the "
    "failing dependency, then drain the backlog.",
    "recurring": "The same problem starts at the same time every day: a scheduled batch, cron job or replay "
    "outpaces the consumers. Find the job that runs then, and either spread or throttle it, or scale the "
    "consumers ahead of it (a scheduled scale-up); silence nothing until the schedule is known.",
    "intermittent": "Short episodes come and go over hours and clear on their own: consumers that pause "
    "(long GC, a lock, a flaky dependency, max.poll.interval.ms near the processing time). Correlate the "
    "episode times with GC logs, dependency latency and deployments; a thread dump during an episode finds it.",
    "unknown": "No rule explained the evidence. Check the application logs, recent deployments and "
    "configuration changes, and the correlation table of `kafka-detective investigate`.",
}

SUMMARY: dict[str, str] = {
    "producer_spike": "Producer traffic spike",
    "consumer_down": "Consumer group down (no members)",
    "consumer_stalled": "Consumers stalled (committed offset frozen)",
    "rebalance_storm": "Consumer group rebalancing",
    "consumer_cpu_saturation": "Consumer CPU saturation",
    "consumer_slowdown": "Consumer processing slowdown",
    "leader_election": "Partition leader election",
    "broker_failure": "Broker failure",
    "broker_skew": "Broker leadership skew",
    "disk_pressure": "Broker disk pressure",
    "retention_loss": "Messages lost to retention",
    "partial_stall": "A few partitions frozen",
    "retry_death_spiral": "Retry death spiral",
    "recurring": "Recurring daily episode",
    "intermittent": "Intermittent short episodes",
    "unknown": "Unknown, requires manual investigation",
}


# --- small robust statistics (stdlib) ---------------------------------------------------------------------


LOCAL_STEP_MIN_POSITIONS = 10   # baseline positions a step's scale is read from, at least


def median(values: Sequence[float]) -> float:
    v = sorted(values)
    n = len(v)
    if n == 0:
        return math.nan
    mid = n // 2
    return float(v[mid]) if n % 2 else (v[mid - 1] + v[mid]) / 2.0


def mad(values: Sequence[float], center: float | None = None) -> float:
    """Median absolute deviation scaled to a standard deviation (x 1.4826)."""
    if not values:
        return math.nan
    c = median(values) if center is None else center
    return 1.4826 * median([abs(x - c) for x in values])


def robust_z(post: Sequence[float], base: Sequence[float], rel_floor: float = 0.05, abs_floor: float = 1e-9
             ) -> tuple[float, float, float]:
    """(post median, baseline median, robust effect size z).

    z = (median(post) - median(base)) / scale, scale = max(MAD(base), rel_floor*|median(base)|, abs_floor):
    the floors stop a perfectly flat baseline (MAD 0) from making every change infinitely significant."""
    if not post or not base:
        return (median(post) if post else math.nan), (median(base) if base else math.nan), 0.0
    m_post, m_base = median(post), median(base)
    scale = max(mad(base, m_base), rel_floor * abs(m_base), abs_floor)
    return m_post, m_base, (m_post - m_base) / scale


def ramp(x: float, lo: float, hi: float) -> float:
    """0 below lo, 1 above hi, linear in between (hi < lo gives a falling ramp)."""
    if x is None or math.isnan(x):
        return 0.0
    if hi == lo:
        return 1.0 if x >= hi else 0.0
    t = (x - lo) / (hi - lo)
    return 0.0 if t <= 0 else 1.0 if t >= 1 else t


def correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation; 0 when either series is constant or shorter than 3."""
    n = min(len(x), len(y))
    if n < 3:
        return 0.0
    mx, my = sum(x[:n]) / n, sum(y[:n]) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x[:n], y[:n], strict=True))
    sxx = sum((a - mx) ** 2 for a in x[:n])
    syy = sum((b - my) ** 2 for b in y[:n])
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def local_step(post: Sequence[float], before: Sequence[float], base: Sequence[float]) -> tuple[float, float]:
    """(median(post) / median(before) - 1, the step's size in units of the same step along `base`) of a step
    from the samples `before` to the samples `post` right after them. The same comparison — the median of
    len(post) samples minus the median of the len(before) samples before them — is made at every point of the
    baseline, and the MAD of those steps is the scale: slowly wandering producers, counting noise and a daily
    climb all move the level between two short windows, and the scale holds exactly as much of each as this
    subject shows."""
    a, b = len(post), len(before)
    if not a or not b:
        return 0.0, 0.0
    level = median(before)
    if level <= 1e-9:
        return 0.0, 0.0
    steps = [median(base[i:i + a]) - median(base[i - b:i]) for i in range(b, len(base) - a + 1)]
    if len(steps) < LOCAL_STEP_MIN_POSITIONS:
        return 0.0, 0.0
    step = median(post) - level
    return step / level, step / max(mad(steps, 0.0), 1e-3 * level)


def skew_scale(brokers: int | None) -> float:
    """The factor that reads a leadership ratio on the scale of three brokers, where the skew thresholds sit. The
    ratio's range depends on the broker count: on two brokers one broker leading every partition is only x2, and a
    60/40 split (x1.2) carries the same share of leaderships beyond an even split, (ratio - 1) / (brokers - 1),
    as x1.4 on three: 2 / (brokers - 1) times the excess. From three brokers up the ratio itself, the hot broker's
    load over the average, is what counts and stays as it is; so does one without the count (an older trace)."""
    return max(1.0, 2.0 / (brokers - 1)) if brokers is not None and brokers > 1 else 1.0


def median_filter(values: Sequence[float], width: int = 5) -> list[float]:
    half = width // 2
    n = len(values)
    return [median(values[max(0, i - half): min(n, i + half + 1)]) for i in range(n)]


# --- derived per-step signals -----------------------------------------------------------------------------


@dataclass
class Signals:
    """Per-sample series derived from a history (rates from counters, counts per step)."""

    t: list[float]
    lag: list[float]
    lag_seconds: list[float | None]
    produce_rate: list[float]       # messages/s appended over the step ending at the sample
    consume_rate: list[float]       # messages/s committed over the step ending at the sample
    rebalances: list[float]         # rebalances during the step
    leader_changes: list[float]
    lost: list[float]
    committed_delta: list[float]
    members: list[float]
    state: list[str]
    under_replicated: list[float]
    offline: list[float]
    cpu: list[float | None]
    disk: list[float | None]
    skew: list[float | None]
    brokers: list[int | None] = field(default_factory=list)
    retention: list[float | None] = field(default_factory=list)
    partitions: list[float | None] = field(default_factory=list)
    frozen_partitions: list[float | None] = field(default_factory=list)
    frozen_ids: tuple[int, ...] = ()       # of the latest sample

    @property
    def n(self) -> int:
        return len(self.t)


def _counter_delta(values: Sequence[float]) -> list[float]:
    """Per-step increase of a counter; the first step is 0, a decrease (reset) counts as 0."""
    out = [0.0]
    for a, b in itertools.pairwise(values):
        d = b - a
        out.append(d if d > 0 else 0.0)
    return out


def derive_signals(history: Sequence[GroupTopicSample]) -> Signals:
    t = [float(s.timestamp) for s in history]
    raw_dts = [b - a for a, b in itertools.pairwise(t)]
    positive = [d for d in raw_dts if d > 0]
    typical = median(positive) if positive else 1.0
    # A repeated or out-of-order timestamp must not turn a counter step into an absurd rate.
    dts = [0.0] + [d if d > 0 else typical for d in raw_dts]
    leo = _counter_delta([s.log_end_offset for s in history])
    com_raw = [0.0] + [float(b.committed_offset - a.committed_offset) for a, b in itertools.pairwise(history)]
    com = [d if d > 0 else 0.0 for d in com_raw]
    produce = [leo[i] / dts[i] if i else 0.0 for i in range(len(t))]
    consume = [com[i] / dts[i] if i else 0.0 for i in range(len(t))]
    if len(t) > 1:   # the first sample has no step: repeat the second one's rate
        produce[0], consume[0] = produce[1], consume[1]
    return Signals(
        t=t,
        lag=[float(s.lag) for s in history],
        lag_seconds=[s.lag_seconds for s in history],
        produce_rate=produce,
        consume_rate=consume,
        rebalances=_counter_delta([s.rebalances_total for s in history]),
        leader_changes=_counter_delta([s.leader_changes_total for s in history]),
        lost=_counter_delta([s.lost_messages_total for s in history]),
        committed_delta=com,
        members=[float(s.members) for s in history],
        state=[s.state for s in history],
        under_replicated=[float(s.under_replicated_partitions) for s in history],
        offline=[float(s.offline_partitions) for s in history],
        cpu=[s.consumer_cpu_ratio for s in history],
        disk=[s.disk_used_ratio for s in history],
        skew=[s.broker_leader_share_ratio for s in history],
        brokers=[s.brokers for s in history],
        retention=[s.retention_seconds for s in history],
        partitions=[s.partitions for s in history],
        frozen_partitions=[s.frozen_partitions for s in history],
        frozen_ids=next((s.frozen_partition_ids for s in reversed(history) if s.frozen_partition_ids), ()),
    )


# --- onset ------------------------------------------------------------------------------------------------


def find_onset_index(lag: Sequence[float], t: Sequence[float] | None = None, min_rise: float = 10.0, lo: int = 0
                     ) -> int | None:
    """Index where the lag starts to rise towards its peak, or None when it never rises.

    Robust change point: the lag is median-filtered (width 5, so single outliers do not move it), then a
    hinge model `a` before k and `a + b*(t - t_k)` after k is fitted by least squares on the samples up to
    the peak for every candidate k (O(n) with suffix sums); the k with the smallest residual wins. A
    "rise" must be material: the peak must exceed the pre-onset level by 5 robust deviations, by 10 %
    of the peak and by `min_rise` messages. Only onsets at index >= `lo` are considered (the peak is the
    largest lag from `lo` on)."""
    n = len(lag)
    if n < 4:
        return None
    # Times from the first sample: the suffix sums below subtract products of squared times, and unix timestamps
    # (1.7e9 s, squares summed to 1e20) leave no digits for the differences (a clean ramp's change point came out
    # at its newest sample, so the diagnosis saw no post-onset window and said `unknown`).
    x = [ti - t[0] for ti in t] if t is not None else [float(i) for i in range(n)]
    y = median_filter(lag, 5) if n >= 7 else list(lag)
    lo = max(0, min(lo, n - 1))
    peak_val = max(y[lo:])
    p = lo + y[lo:].index(peak_val)
    if p < 2 or p <= lo:
        return None
    m = p + 1
    xs, ys = x[:m], y[:m]
    # suffix sums over i >= k
    sx = [0.0] * (m + 1)
    sxx = [0.0] * (m + 1)
    sxy = [0.0] * (m + 1)
    sy_s = [0.0] * (m + 1)
    for i in range(m - 1, -1, -1):
        sx[i] = sx[i + 1] + xs[i]
        sxx[i] = sxx[i + 1] + xs[i] * xs[i]
        sxy[i] = sxy[i + 1] + xs[i] * ys[i]
        sy_s[i] = sy_s[i + 1] + ys[i]
    sy = sy_s[0]
    syy = sum(v * v for v in ys)
    best_k, best_sse = None, math.inf
    for k in range(lo, m - 1):
        c = m - k
        tk = xs[k]
        hx = sx[k] - c * tk                       # sum of hinge values
        hxx = sxx[k] - 2 * tk * sx[k] + c * tk * tk
        hxy = sxy[k] - tk * sy_s[k]
        vxx = hxx - hx * hx / m
        vyy = syy - sy * sy / m
        vxy = hxy - hx * sy / m
        sse = vyy - (vxy * vxy / vxx if vxx > 1e-12 else 0.0)
        if vxy < 0:              # a falling hinge is not an onset of a rise
            sse = vyy
        if sse < best_sse - 1e-9 * abs(best_sse if math.isfinite(best_sse) else 1):
            best_k, best_sse = k, sse
    if best_k is None:
        return None
    # Material rise?
    pre = y[: best_k + 1]
    level = median(pre)
    spread = mad(pre, level) if len(pre) >= 3 else 0.0
    if peak_val - level < max(5 * spread, 0.1 * peak_val, min_rise):
        return None
    # The hinge's k is the last "flat" point; the rise starts right after it.
    return min(best_k + 1, p) if best_k + 1 < n and y[best_k + 1] > level else best_k


# --- evidence and scores ----------------------------------------------------------------------------------


@dataclass
class _Window:
    base: list[int]
    post: list[int]
    onset_index: int
    peak_index: int


def _windows(sig: Signals, onset_index: int) -> _Window:
    n = sig.n
    base_start = max(0, onset_index - SCORING.baseline_max_samples)
    base = list(range(base_start, max(base_start, onset_index - 1)))   # leave one sample of margin
    if len(base) < SCORING.min_baseline:
        base = list(range(base_start, onset_index))
    # post window: from the onset to the lag peak after it (the growth phase), at least 4 samples
    tail = sig.lag[onset_index:]
    peak = onset_index + (tail.index(max(tail)) if tail else 0)
    end = max(peak, min(n - 1, onset_index + 3))
    post = list(range(onset_index, end + 1))
    return _Window(base, post, onset_index, peak)


def _vals(series: Sequence[float | None], idx: Sequence[int]) -> list[float]:
    return [float(v) for i in idx if (v := series[i]) is not None]


@dataclass
class _Finding:
    evidence: Evidence
    weight: float                      # |effect| on a 0-1 scale, for ranking


@dataclass
class _Measures:
    """The post-onset window against its baseline: what every score and finding is computed from."""

    base: list[int]
    post: list[int]
    have_base: bool
    # produce / consume rates over `rate_post` (medians, robust z, ratio to baseline, significance t)
    rate_post: list[int]
    p_post: float
    p_base: float
    p_z: float
    p_ratio: float
    p_t: float
    c_post: float
    c_base: float
    c_z: float
    c_ratio: float
    c_t: float
    p_peak_i: int
    c_low_i: int
    share_p: float                     # shares of the deficit that makes the lag grow
    share_c: float
    # membership and commits
    empty: list[int]
    frac_empty: float
    producing: bool
    frozen: list[int]
    frac_frozen: float
    frac_rebalancing: float
    # counts around the onset
    around: list[int]
    reb_post: float
    reb_expected: float
    lc_near: float
    lc_post: float
    after_onset: range
    lost_post: float
    urp_frac: float
    urp_max: float
    urp_base: float
    off_max: float
    brokers_before: int | None         # the most brokers the metadata listed through the baseline ...
    brokers_lost: int                  # ... and how many of them were gone around the onset
    # consumer CPU, disk, leadership skew
    cpu_post: list[float]
    cpu_base: list[float]
    cpu_med: float
    disk_all: list[float]
    disk_max: float
    skew_post: list[float]
    skew_med: float
    skew_base_med: float
    skew_scale: float                  # reads the ratio on the three-broker scale (`skew_scale`)
    consume_rate: list[float]          # per sample, over the group's commit cadence
    # right after the onset and just before it (`recent_samples` each): produce and consume medians, and the
    # consume step in units of the same step along the baseline
    p_local: float
    p_recent: float
    c_local: float
    c_recent: float
    c_local_z: float
    p_step: tuple[float, float]        # the produce step at the onset: `local_step`'s (rise, z)
    implied_drop: float                # 1 - (produce - lag growth) / baseline consume: the consumers' shortfall
                                       # read from the lag (immune to the commit cadence; not significance-tested)
    shown_capacity: float              # the highest rate the consumers committed at within the last day (nan: unknown)

    @property
    def consumer_present(self) -> float:
        return 1.0 - self.frac_empty

    @property
    def lost_capacity(self) -> float:
        """How clearly the consumers fall behind what they have shown within the last day (0-1): their share of the
        deficit against that capacity, times how much less than it (or than the produce rate, if lower) they read.
        A gradual slowdown leaves the consume rate of the last two hours flat (the consumers were not saturated)
        and shows only once the daily peak outgrows the lost capacity; then the producers' climb is what the
        baseline sees, but no producer surge explains a lag the same consumers absorbed yesterday."""
        share = self.capacity_share
        if share <= 0.0:
            return 0.0
        return share * ramp(1.0 - self.c_post / min(self.p_post, self.shown_capacity), *SCORING.slowed_share_drop)

    @property
    def capacity_share(self) -> float:
        """The consumers' share of the deficit against the rate they have shown: `deficit_shares` with that rate as
        what both sides did before (all of it when the producers write no more than that, none when the consumers
        read at least that); 0 without a deficit or a shown capacity."""
        if not math.isfinite(self.shown_capacity) or self.p_post <= self.c_post:
            return 0.0
        return deficit_shares(self.p_post, self.shown_capacity, self.c_post, self.shown_capacity)[1]

    @property
    def slowed(self) -> float:
        """How clearly the consumers consume less than before the onset (0-1)."""
        S = SCORING
        if not self.have_base:
            return 0.0
        against_baseline = (max(ramp(1 - self.c_ratio, *S.slowed_drop),
                                self.share_c * ramp(1 - self.c_ratio, *S.slowed_share_drop))
                            * ramp(-self.c_t, *S.shift_significance))
        # Locally: what the consumers read right after the onset against just before it, and their share of the
        # deficit against the produce rate just before it (before the onset the group kept up).
        share = deficit_shares(self.p_local, self.p_recent, self.c_local, self.c_recent)[1]
        drop = 1 - self.c_local / self.c_recent if self.c_recent > 1e-9 else 0.0
        local = (max(ramp(drop, *S.slowed_drop), share * ramp(drop, *S.slowed_share_drop))
                 * ramp(-self.c_local_z, *S.slowed_local_z))
        return max(against_baseline, local, self.lost_capacity)

    @property
    def skew_level(self) -> float:
        """The busiest broker's leadership over its fair share after the onset, on the three-broker scale."""
        return 1 + (self.skew_med - 1) * self.skew_scale

    @property
    def skew_base_level(self) -> float:
        """The same through the baseline."""
        return 1 + (self.skew_base_med - 1) * self.skew_scale

    @property
    def skew_explains(self) -> float:
        """How much a leadership skew explains the onset: by its level, or by having come with the onset. A broker
        that newly leads 1.5x its share is the change; a cluster that ran as skewed through the baseline is not
        (many brokers over few partitions: the busiest one leads 2-3x its fair share by chance, for good)."""
        S = SCORING
        if not self.skew_post:
            return 0.0
        return max(ramp(self.skew_level, *S.skew_share) * (1 - self.skew_chronic), self.skew_new)

    @property
    def skew_new(self) -> float:
        """How clearly a leadership skew came with the onset (0-1)."""
        S = SCORING
        if not self.skew_post:
            return 0.0
        return ramp(self.skew_level - self.skew_base_level, *S.skew_rise) * ramp(self.skew_level, *S.skew_new_share)

    @property
    def skew_chronic(self) -> float:
        """How skewed the leadership already was through the baseline (0: fair, 1: as skewed as counts at all)."""
        return ramp(self.skew_base_level, *SCORING.skew_share)

    @property
    def broker_down(self) -> bool:
        """A partition offline or a broker gone from the metadata around the onset: a broker failed."""
        return self.off_max > 0 or self.brokers_lost > 0

    @property
    def broker_side(self) -> float:
        """How much the broker side (a broker down, or under-replicated partitions) explains what the consumers
        do."""
        return max(1.0 if self.broker_down else 0.0,
                   ramp(self.urp_frac, *SCORING.urp_fraction) * (SCORING.urp_before_weight if self.urp_base > 0
                                                                 else 1.0))


def _measure(sig: Signals, w: _Window, shown_capacity: float | None = None) -> _Measures:
    S = SCORING
    base, post = w.base, w.post
    have_base = len(base) >= S.min_baseline

    # -- the group's commit cadence: batched and every-N-seconds commits leave steps without any commit, so a
    # step is "frozen" and a consume rate is read only over a window longer than the usual gap between commits
    span = _commit_span(sig, base)
    consume_rate = consume_rates(sig, base, span)
    commits_in_steps = _rate_span(sig, base, span) > 1

    # -- produce / consume rates: the later half of a long growth phase
    rate_post = post[len(post) // 2:] if len(post) >= S.rate_later_half_from else post
    p_post, p_base, p_z = robust_z(_vals(sig.produce_rate, rate_post), _vals(sig.produce_rate, base),
                                   *S.rate_z_floors)
    # A group that commits in steps: its per-sample consume rate spans several commits, so in the first minutes
    # after the onset it still holds the commits from before. After the onset it is read between the group's own
    # commits there instead (whole batches over the exact time between them).
    after = None
    if commits_in_steps:
        after = _rate_between_commits(sig, rate_post, span)
        if after is None:
            after = _rate_between_commits(sig, post, span)
    c_post, c_base, c_z = robust_z([after] if after is not None else _vals(consume_rate, rate_post),
                                   _vals(consume_rate, base), *S.rate_z_floors)
    p_ratio = p_post / p_base if have_base and p_base > 1e-9 else (math.inf if p_post > 0 and have_base else 1.0)
    c_ratio = c_post / c_base if have_base and c_base > 1e-9 else 1.0
    # Significance of the shift of medians (effect size x sqrt of the effective sample size, for the median's
    # efficiency): a small but sustained shift over many samples counts.
    n_eff = math.sqrt(len(rate_post) * len(base) / max(1, len(rate_post) + len(base))) / S.median_efficiency
    share_p, share_c = deficit_shares(p_post, p_base, c_post, c_base) if have_base else (0.0, 0.0)

    # -- membership and commits
    n_post = len(post)
    # Membership unknown (no members/state series: state "Unknown" with 0 members) is not "Empty".
    empty = [i for i in post if sig.state[i] in EMPTY_STATES or (sig.members[i] <= 0 and sig.state[i] != "Unknown")]
    empty_set = set(empty)
    with_members = [i for i in post if i not in empty_set]
    frozen = [i for i in with_members if sig.lag[i] > 0
              and all(sig.committed_delta[j] <= 0 for j in range(max(0, i - span + 1), i + 1))]
    rebalancing_state = [i for i in post if sig.state[i] in REBALANCING_STATES]

    # -- counts around the onset (a couple of samples before it to the end of the post window)
    around = list(range(max(0, w.onset_index - S.around_before), post[-1] + 1))
    reb_base_rate = (sum(sig.rebalances[i] for i in base) / len(base)) if base else 0.0
    # Losses trail the lag peak (the oldest message must age past the retention first): count to the end.
    after_onset = range(max(0, w.onset_index - S.around_before), sig.n)
    urp = _vals(sig.under_replicated, around)
    off = _vals(sig.offline, around)

    cpu_post = _vals(sig.cpu, post)
    disk_all = _vals(sig.disk, list(range(sig.n)))
    # A broker that left the cluster's metadata at the onset: on a large cluster the failed broker may lead and
    # replicate none of this topic's partitions, so the topic shows no offline or under-replicated partition,
    # while its consumers still pause and rebalance (a lost coordinator, reassigned partitions).
    brokers_base, brokers_around = _vals(sig.brokers, base), _vals(sig.brokers, around)
    brokers_before = int(max(brokers_base)) if brokers_base else None
    brokers_lost = max(0, brokers_before - int(min(brokers_around))) if brokers_before and brokers_around else 0
    just_before, right_after = base[-S.recent_samples:], post[:S.recent_samples]
    produce_before = _vals(sig.produce_rate, just_before)
    consume_before, consume_after = _vals(consume_rate, just_before), _vals(consume_rate, right_after)
    skew_post = _vals(sig.skew, post)
    return _Measures(
        base=base, post=post, have_base=have_base, rate_post=rate_post,
        p_post=p_post, p_base=p_base, p_z=p_z, p_ratio=p_ratio, p_t=p_z * n_eff,
        c_post=c_post, c_base=c_base, c_z=c_z, c_ratio=c_ratio, c_t=c_z * n_eff,
        p_peak_i=max(rate_post, key=lambda i: sig.produce_rate[i]),
        c_low_i=min(rate_post, key=lambda i: consume_rate[i]),
        share_p=share_p, share_c=share_c,
        empty=empty, frac_empty=len(empty) / n_post,
        producing=p_post > 0 or any(sig.produce_rate[i] > 0 for i in post),
        frozen=frozen, frac_frozen=len(frozen) / n_post, frac_rebalancing=len(rebalancing_state) / n_post,
        around=around, reb_post=sum(sig.rebalances[i] for i in around), reb_expected=reb_base_rate * len(around),
        lc_near=sum(sig.leader_changes[i] for i in range(max(0, w.onset_index - S.near_onset[0]),
                                                          min(sig.n, w.onset_index + S.near_onset[1]))),
        lc_post=sum(sig.leader_changes[i] for i in around),
        after_onset=after_onset, lost_post=sum(sig.lost[i] for i in after_onset),
        urp_frac=sum(1 for v in urp if v > 0) / max(1, len(urp)), urp_max=max(urp) if urp else 0.0,
        urp_base=max(_vals(sig.under_replicated, base), default=0.0), off_max=max(off) if off else 0.0,
        brokers_before=brokers_before, brokers_lost=brokers_lost,
        cpu_post=cpu_post, cpu_base=_vals(sig.cpu, base), cpu_med=median(cpu_post) if cpu_post else math.nan,
        disk_all=disk_all, disk_max=max(disk_all) if disk_all else math.nan,
        skew_post=skew_post, skew_med=median(skew_post) if skew_post else math.nan,
        skew_base_med=median(skew_base) if (skew_base := _vals(sig.skew, base)) else 1.0,
        skew_scale=skew_scale(next((b for b in reversed(sig.brokers) if b is not None), None)),
        consume_rate=consume_rate,
        p_local=median(_vals(sig.produce_rate, right_after)) if right_after else math.nan,
        p_recent=median(produce_before) if produce_before else math.nan,
        c_local=median(consume_after) if consume_after else math.nan,
        c_recent=median(consume_before) if consume_before else math.nan,
        c_local_z=local_step(consume_after, consume_before, _vals(consume_rate, base))[1],
        p_step=local_step(_vals(sig.produce_rate, right_after), produce_before, _vals(sig.produce_rate, base)),
        implied_drop=_implied_drop(sig, w, p_post, c_base) if have_base else 0.0,
        shown_capacity=shown_capacity if shown_capacity is not None and shown_capacity > 0 else math.nan,
    )


def _implied_drop(sig: Signals, w: _Window, p_post: float, c_base: float) -> float:
    """How much less than before the consumers read during the growth phase, from the lag's growth and the
    produce rate: consumed = produced - lag growth. Before the onset the group kept up."""
    first, last = w.post[0], w.post[-1]
    dt = sig.t[last] - sig.t[first]
    if dt <= 0 or c_base <= 1e-9:
        return 0.0
    consumed = p_post - (sig.lag[last] - sig.lag[first]) / dt
    return 1.0 - consumed / c_base


def _commit_span(sig: Signals, base: Sequence[int]) -> int:
    """Steps a commit may take to show before the baseline's cadence is broken: one more than the longest run of
    steps without a commit (while there was lag to commit) that the baseline shows at least twice. 1 for a group
    that commits every step; a single long pause in the baseline does not count as its cadence."""
    runs: list[int] = []
    run = 0
    for i in base:
        if sig.committed_delta[i] <= 0 and sig.lag[i] > 0 and sig.members[i] > 0:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    runs.sort()
    usual = runs[-2] if len(runs) >= 2 else 0
    return 1 + min(usual, SCORING.max_commit_gap_steps)


def deficit_shares(p_after: float, p_before: float, c_after: float, c_before: float) -> tuple[float, float]:
    """(producers', consumers') shares of the deficit that makes the lag grow: before the onset the group kept up
    (consume ~ produce), so deficit = (produce increase) + (consume decrease). (0, 0) without a deficit."""
    d_prod, d_cons = max(0.0, p_after - p_before), max(0.0, c_before - c_after)
    total = d_prod + d_cons
    return (d_prod / total, d_cons / total) if total > 0 else (0.0, 0.0)


def _rate_between_commits(sig: Signals, idx: Sequence[int], span: int) -> float | None:
    """Messages committed between the first and the last commit inside `idx`, per second; a group that has not
    committed for longer than its usual gap (`span` steps) by the end of `idx` reads slower by that time. None
    with fewer than two commits inside `idx`."""
    commits = [i for i in idx if sig.committed_delta[i] > 0]
    if len(commits) < 2:
        return None
    first, last = commits[0], commits[-1]
    step = (sig.t[-1] - sig.t[0]) / max(1, sig.n - 1)
    dt = max(sig.t[last] - sig.t[first], sig.t[idx[-1]] - sig.t[first] - span * step)
    return sum(sig.committed_delta[i] for i in commits[1:]) / dt if dt > 0 else None


def consume_rates(sig: Signals, base: Sequence[int], span: int | None = None) -> list[float]:
    """The consume rate at every sample as root cause reads it: per step for a group that commits every step,
    else between commits (`_commit_rates`) over the baseline's commit cadence or its batch size, whichever is
    longer. `span` is `_commit_span(sig, base)` when the caller has it already."""
    rate_span = _rate_span(sig, base, span)
    return _commit_rates(sig, rate_span) if rate_span > 1 else sig.consume_rate


def _rate_span(sig: Signals, base: Sequence[int], span: int | None = None) -> int:
    """Steps a consume rate is read over: 1 for a group that commits every step, else its commit cadence or the
    steps its batches take, whichever is longer."""
    return max(_commit_span(sig, base) if span is None else span, _batch_steps(sig, base))


def _batch_steps(sig: Signals, base: Sequence[int]) -> int:
    """Steps that hold `batches_per_rate_window` commit batches, for a group whose commits are whole batches
    (each commit a multiple of one batch size): 1 for a group whose commits follow its consumption smoothly.

    A step's commit of one or two batches reads as a rate that jumps by 2x, and a median over such steps moves
    only by whole batches: 30 % fewer messages consumed can leave the median rate exactly where it was."""
    S = SCORING
    deltas = [sig.committed_delta[i] for i in base if sig.committed_delta[i] > 0]
    if len(deltas) < S.min_baseline:
        return 1
    batch = min(deltas)
    whole = sum(abs(d / batch - round(d / batch)) <= S.batch_tolerance for d in deltas)
    if whole < S.batch_share * len(deltas):
        return 1
    per_step = sum(sig.committed_delta[i] for i in base) / len(base)
    return min(S.max_batch_steps, max(1, math.ceil(S.batches_per_rate_window * batch / max(per_step, 1e-9))))


def _commit_rates(sig: Signals, span: int) -> list[float]:
    """Consume rate at every sample of a group that commits in steps (batches, every N seconds): the messages
    committed between two commits about two cadences (`span` steps) apart, over the time between them.

    Read between commits, not over a fixed window: a window of a few cadences holds one more or one fewer commit
    depending on where it falls, so its rate is quantised to whole batches, and two periods whose pace differs
    by less than a batch per window read identical. A group that stops committing must still read slower: past
    its usual gap, the time since the last commit counts too."""
    usual_gap = span * (sig.t[-1] - sig.t[0]) / max(1, sig.n - 1)
    cumulative = list(itertools.accumulate(sig.committed_delta))   # deltas are >= 0 (derive_signals)
    commits: list[int] = []          # sample indices at which a commit showed
    out = []
    for i in range(sig.n):
        if sig.committed_delta[i] > 0:
            commits.append(i)
        if not commits:
            out.append(sig.consume_rate[i])
            continue
        last = commits[-1]
        # the latest commit at least two cadences before the last one (else the oldest seen)
        first = commits[max(0, bisect.bisect_right(commits, last - 2 * span) - 1)]
        if first == last:
            first = max(0, last - 2 * span)
        dt = max(sig.t[last] - sig.t[first], sig.t[i] - sig.t[first] - usual_gap)
        out.append((cumulative[last] - cumulative[first]) / dt if dt > 0 else sig.consume_rate[i])
    return out


# --- scores, one cause family at a time; each writes its causes into `scores` -----------------------------


def _score_producer_spike(m: _Measures, scores: dict[str, float]) -> float:
    """Produce rate well above its baseline, consumers not slower than before; returns the spike's strength."""
    S = SCORING
    spike = (max(ramp(m.p_ratio, *S.spike_ratio), m.share_p * ramp(m.p_ratio - 1, *S.spike_share_rise))
             * ramp(m.p_t, *S.shift_significance) if m.have_base else 0.0)
    healthy = ramp(m.c_ratio, *S.healthy_consume) if m.have_base else S.healthy_without_baseline
    scores["producer_spike"] = S.spike_top * spike * healthy * m.consumer_present * \
        (1 - S.spike_frozen_discount * m.frac_frozen) * (1 - S.capacity_spike_discount * m.lost_capacity)
    return spike


def _score_membership(m: _Measures, scores: dict[str, float]) -> None:
    """consumer_down (no members while messages arrive) and consumer_stalled (members, but commits frozen)."""
    S = SCORING
    scores["consumer_down"] = (ramp(m.frac_empty, *S.empty_fraction) if m.producing
                               else S.down_not_producing * ramp(m.frac_empty, *S.empty_fraction))
    # A freeze right after a leader election or while partitions are offline is explained by the broker side.
    scores["consumer_stalled"] = S.stalled_top * ramp(m.frac_frozen, *S.frozen_fraction) * \
        (1 - ramp(m.reb_post, *S.stalled_rebalances) * S.stalled_rebalance_discount) * \
        (1 - S.stalled_election_discount * ramp(m.lc_near, *S.election_near)) * \
        (1 - S.stalled_broker_discount * m.broker_side)


def _score_slow_consumers(m: _Measures, spike: float, scores: dict[str, float]) -> float:
    """Consumers slower than before: rebalance_storm, consumer_cpu_saturation or consumer_slowdown; returns
    how saturated the consumers' CPU is."""
    S = SCORING
    slowed = m.slowed
    # A dip right after a leader election is explained by the election.
    election = ramp(m.lc_near, *S.election_near)
    reb_signif = ramp(m.reb_post - m.reb_expected, *S.storm_excess)
    # Rebalances while partitions are offline are often the broker failure's doing (lost coordinator,
    # reassigned partitions): the broker side is upstream.
    scores["rebalance_storm"] = S.storm_top * reb_signif * m.consumer_present * max(
        slowed, ramp(m.frac_rebalancing, *S.storm_rebalancing_fraction),
        ramp(m.reb_post, *S.storm_rebalances)) * (1 - S.storm_broker_discount * m.broker_side)
    cpu_sat = ramp(m.cpu_med, *S.cpu_saturated) if m.cpu_post else 0.0
    not_cpu = 1.0 - cpu_sat
    not_frozen = 1.0 - ramp(m.frac_frozen, *S.frozen_fraction)
    # Without a CPU signal a saturated CPU cannot be ruled out for consumers that are slower (not frozen): it stays
    # a candidate below the slowdown.
    cpu_weight = cpu_sat if m.cpu_post else S.unmeasured_weight * not_frozen
    # A consumer CPU that saturated with the onset (well above its own baseline), on a lag rise the producers do not
    # explain, names the consumers before their consume rate shows the drop: with batched commits the rate of a
    # few minutes swings by 2x. A CPU always near saturation explains nothing new.
    cpu_rose = cpu_sat * ramp(m.cpu_med - median(m.cpu_base), *S.cpu_rise) if m.cpu_base else 0.0
    cpu_slowed = max(slowed, S.cpu_rise_weight * cpu_rose * (1 - spike) * not_frozen)
    scores["consumer_cpu_saturation"] = S.cpu_top * cpu_slowed * cpu_weight * m.consumer_present
    scores["consumer_slowdown"] = S.slowdown_top * slowed * (1 - reb_signif) * not_cpu * m.consumer_present * \
        not_frozen * (1 - S.slowdown_election_discount * election)
    return cpu_sat


def _score_brokers(m: _Measures, spike: float, scores: dict[str, float]) -> None:
    """broker_failure, leader_election, broker_skew and disk_pressure."""
    S = SCORING
    scores["broker_failure"] = S.broker_failure_top * max(
        1.0 if m.broker_down else 0.0,
        S.broker_failure_urp_weight * ramp(m.urp_frac, *S.urp_fraction) * (S.urp_before_weight if m.urp_base > 0
                                                                           else 1.0))
    if m.lc_post > 0:
        scores["broker_failure"] = min(1.0, scores["broker_failure"] * S.broker_failure_leader_boost)
    scores["leader_election"] = S.election_top * ramp(m.lc_near, *S.election_near) * \
        (1 - S.election_broker_discount * m.broker_side) * \
        (1 - S.election_spike_or_empty_discount * max(spike, ramp(m.frac_empty, *S.empty_fraction))) * \
        (1 - S.election_skew_discount * m.skew_new)
    skew = m.skew_explains
    scores["broker_skew"] = S.skew_top * skew
    disk = ramp(m.disk_max, *S.disk_used) if m.disk_all else 0.0
    # Without log-dir metrics a filling disk cannot be ruled out either (a weaker candidate than the CPU: it
    # slows the consumers only through the brokers).
    not_frozen = 1 - ramp(m.frac_frozen, *S.frozen_fraction)
    unmeasured = S.unmeasured_disk_weight * m.slowed * m.consumer_present * not_frozen
    scores["disk_pressure"] = S.disk_top * (disk if m.disk_all else unmeasured)
    # A broker that newly leads far more than its share, or whose disk is nearly full, is upstream of consumers
    # that slow down or stop committing: it explains them (a skew the baseline already had explains nothing new).
    upstream = max(skew * ramp(m.skew_level - m.skew_base_level, *S.skew_rise), disk)
    for c in ("consumer_slowdown", "consumer_stalled"):
        scores[c] *= 1 - S.upstream_discount * upstream


def _partially_frozen(sig: Signals, i: int) -> bool:
    """A few of the group's partitions frozen at sample i (per-partition evidence)."""
    f, n = sig.frozen_partitions[i], sig.partitions[i]
    return f is not None and f != 0 and n is not None and f <= max(1.0, SCORING.partial_max_share * n)


def _score_partial_stall(sig: Signals, m: _Measures, scores: dict[str, float]) -> tuple[float, float]:
    """A few partitions frozen, the group as a whole still consuming: it explains the consumer-side causes.
    Returns (its strength, the share of the window partially frozen)."""
    S = SCORING
    base, post = m.base, m.post
    have_partitions = bool(sig.frozen_partitions) and any(sig.frozen_partitions[i] is not None for i in post)
    frac_partial = sum(1 for i in post if _partially_frozen(sig, i)) / len(post) if have_partitions else 0.0
    frac_partial_base = ((sum(1 for i in base if _partially_frozen(sig, i)) / len(base))
                         if have_partitions and base else 0.0)
    partial_s = ramp(frac_partial - frac_partial_base, *S.partial_steps)
    scores["partial_stall"] = S.partial_top * partial_s * m.consumer_present * \
        (1 - S.partial_broker_discount * m.broker_side)
    for c in ("consumer_slowdown", "consumer_stalled", "consumer_cpu_saturation", "leader_election"):
        scores[c] *= 1 - S.partial_discount * partial_s
    return partial_s, frac_partial


def _score_retry_spiral(sig: Signals, m: _Measures, scores: dict[str, float]
                        ) -> tuple[float, float | None, float | None]:
    """Failures re-produced to the topic, so the produce rate rises WITH the lag; it explains part of a producer
    spike or a slowdown. Returns (its strength, the produce rate's correlation with the lag when that rise with
    the lag is what scored, the consume rate after the onset over just before it when a produce step the
    consumers did not absorb is what scored; both None: the produce step with the consumers' drop scored)."""
    S = SCORING
    spiral_idx = m.rate_post if len(m.rate_post) >= S.spiral_min_points else m.post
    spiral_corr = spiral_growth = 0.0
    if m.have_base and len(spiral_idx) >= S.spiral_min_points:
        smooth = median_filter(sig.produce_rate, S.spiral_smoothing)
        spiral_corr = correlation([smooth[i] for i in spiral_idx], [sig.lag[i] for i in spiral_idx])
        # A noisy but flat produce rate can correlate with a rising lag by chance: the rate must also keep
        # rising through the growth phase (a spike jumps at the onset, then stays flat).
        third = max(S.spiral_min_third, len(spiral_idx) // 3)
        first, last = median([smooth[i] for i in spiral_idx[:third]]), median([smooth[i] for i in spiral_idx[-third:]])
        spiral_growth = (last - first) / max(median([smooth[i] for i in spiral_idx]), 1e-9)
    # Before the feedback shows, a spiral starts as produce up AND consume down at once, or as a produce step
    # the consumers do not absorb: consumers with headroom read faster when more arrives (a spike's), a spiral's
    # are busy with the failures. The re-produced messages are a share of what the consumers read, so the extra
    # produce never exceeds the consume rate (a producer spike that also slows the consumers does).
    spiral = 0.0
    with_lag = False
    consume_held: float | None = None
    if m.have_base:
        # The feedback (the produce rate rising with the lag): its rise is measured against the baseline AND
        # against just before the onset, so a daily cycle climbing through a long baseline is no feedback. The
        # consumers' drop is read against just before the onset only: on a daily climb the baseline's median sits
        # below that, and reading 30 % less than just before looked like 12 % less.
        rise, drop, c_recent = m.p_ratio - 1, 1 - m.c_ratio, m.c_recent
        if m.p_recent > 1e-9:
            rise = min(rise, m.p_post / m.p_recent - 1)
        if c_recent > 1e-9:
            drop = 1 - m.c_post / c_recent
        rising = (ramp(spiral_corr, *S.spiral_correlation) * ramp(spiral_growth, *S.spiral_growth)
                  * ramp(m.p_t, *S.shift_significance) * ramp(rise, *S.spiral_produce_rise))
        # The early sign (produce up and consume down at the same onset): the produce step right after the onset
        # against just before it, sized against the same step along the baseline. A long baseline's median is
        # no reference here: on a falling daily cycle it hides the step, on wandering producers it invents one.
        step_rise, step_z = m.p_step
        dropped = (ramp(drop, *S.spiral_consume_drop) * ramp(step_z, *S.spiral_step_z)
                   * ramp(step_rise, *S.spiral_produce_rise))
        # The second form, a step the consumers do not absorb; the step must hold through the growth phase (a
        # producer that wandered up as the lag started reverts).
        held = m.c_post / c_recent if c_recent > 1e-9 else 1.0
        unabsorbed = (ramp(min(step_rise, rise), *S.spiral_unabsorbed_rise) * ramp(step_z, *S.spiral_unabsorbed_z)
                      * ramp(held, *S.spiral_unabsorbed_consume))
        early = S.spiral_early_weight * max(dropped, unabsorbed)
        bounded = ramp((m.p_post - m.p_base) / max(m.c_post, 1e-9), S.spiral_extra_of_consumed[1],
                       S.spiral_extra_of_consumed[0])
        with_lag = rising >= early
        if not with_lag and unabsorbed > dropped and c_recent > 1e-9:
            consume_held = held
        spiral = max(rising, early) * bounded * m.consumer_present
    scores["retry_death_spiral"] = S.spiral_top * spiral
    scores["producer_spike"] *= 1 - S.spiral_spike_discount * spiral
    scores["consumer_slowdown"] *= 1 - S.spiral_slowdown_discount * spiral
    if m.have_base:
        behind = S.spiral_behind_slowdown * scores["consumer_slowdown"] * ramp(m.p_step[0], *S.spiral_behind_rise)
        scores["retry_death_spiral"] = max(scores["retry_death_spiral"], behind)
    return spiral, spiral_corr if with_lag else None, consume_held


def _score_and_evidence(sig: Signals, w: _Window, shown_capacity: float | None = None
                        ) -> tuple[dict[str, float], list[_Finding]]:
    m = _measure(sig, w, shown_capacity)
    scores = dict.fromkeys(ROOT_CAUSES, 0.0)
    scores["unknown"] = SCORING.unknown_floor
    spike = _score_producer_spike(m, scores)
    _score_membership(m, scores)
    cpu_sat = _score_slow_consumers(m, spike, scores)
    _score_brokers(m, spike, scores)
    # data loss: the headline whenever it happened (the other causes are discounted once all are scored, below)
    loss = ramp(m.lost_post, *SCORING.lost_messages)
    scores["retention_loss"] = SCORING.retention_top * loss
    # the newer causes explain part of what the ones above saw: they discount them
    partial_s, frac_partial = _score_partial_stall(sig, m, scores)
    spiral, spiral_corr, consume_held = _score_retry_spiral(sig, m, scores)
    # Data loss is the headline whenever it happened; the consumer-side causes that let the backlog age past
    # the retention stay in the ranking, discounted as "explained by" the loss.
    for c in ("consumer_down", "consumer_stalled", "consumer_slowdown", "consumer_cpu_saturation",
              "rebalance_storm", "producer_spike", "partial_stall", "retry_death_spiral"):
        scores[c] *= 1 - SCORING.loss_discount * loss
    _keep_candidates(m, cpu_sat, scores)
    findings = _evidence(sig, w, m, cpu_sat=cpu_sat, partial_s=partial_s, frac_partial=frac_partial,
                         spiral=spiral, spiral_corr=spiral_corr, consume_held=consume_held)
    return scores, findings


def _keep_candidates(m: _Measures, cpu_sat: float, scores: dict[str, float]) -> None:
    """On thin evidence `unknown` is the honest answer, but the ranking behind it must still hold the causes the
    direction of the evidence points to, not the first causes of the vocabulary at 0. Consumers that read less
    than before (the consume rate, or the lag's growth against the produce rate; neither yet significant) keep
    the consumer-side causes; a produce rate above its baseline keeps the producer side (a spike, and a retry
    spiral, which passes the spike once the consumers also read less). A candidate scores at most
    `candidate_top`, below `unknown_floor`: it never wins on this alone."""
    S = SCORING
    if not m.have_base:
        return
    short = max(ramp(1 - m.c_ratio, *S.candidate_drop), ramp(m.implied_drop, *S.candidate_drop))
    up = ramp(m.p_ratio - 1, *S.candidate_rise)
    consumers = short * (1 - ramp(m.frac_frozen, *S.frozen_fraction)) * m.consumer_present
    # A spike explains the produce rise and not the consumers' shortfall: it keeps the share of the evidence it
    # explains. Failures re-produced explain both, so once both show the spiral rises up to the slowdown, never
    # above it (the shortfall is what grows the lag: a wandering producer must not push the consumers out of the
    # ranking), and stays behind a spike while the consumers read as before.
    weak = {
        "consumer_slowdown": consumers,
        "consumer_cpu_saturation": consumers * (cpu_sat if m.cpu_post else S.unmeasured_weight),
        "producer_spike": up * (1 - S.candidate_unexplained * short) * m.consumer_present,
        "retry_death_spiral": max(S.candidate_spiral_share * up * m.consumer_present, min(up, consumers)),
    }
    for cause, strength in weak.items():
        scores[cause] = max(scores[cause], S.candidate_top * strength)


def _evidence(sig: Signals, w: _Window, m: _Measures, *, cpu_sat: float, partial_s: float, frac_partial: float,
              spiral: float, spiral_corr: float | None, consume_held: float | None) -> list[_Finding]:
    """The findings behind the scores, each with the causes it supports and its weight for the ranking."""
    S = SCORING
    t_onset = sig.t[w.onset_index]
    findings: list[_Finding] = []

    def add(metric: str, value: float, baseline: float, threshold: float, ts: float, note: str, weight: float,
            supports: tuple[str, ...]) -> None:
        findings.append(_Finding(Evidence(metric, float(value), float(baseline), float(threshold), float(ts),
                                          note, supports), max(0.0, min(1.0, weight))))

    lag_base = median(_vals(sig.lag, m.base)) if m.base else 0.0
    peak_i = w.peak_index
    mads, at_least = S.lag_threshold
    add(LAG, sig.lag[peak_i], lag_base, lag_base + max(mads * mad(_vals(sig.lag, m.base)) if m.base else 0, at_least),
        sig.t[peak_i], f"lag rose from {lag_base:.0f} to a peak of {sig.lag[peak_i]:.0f}", S.lag_weight, ())
    ls = sig.lag_seconds[peak_i]
    if ls is not None:
        ls_base = median(_vals(sig.lag_seconds, m.base)) if _vals(sig.lag_seconds, m.base) else 0.0
        times, plus = S.lag_seconds_threshold
        add(LAG_SECONDS, ls, ls_base, ls_base * times + plus, sig.t[peak_i],
            f"oldest unconsumed message {ls:.0f}s old at the peak", S.lag_seconds_weight, ())
    if m.have_base:
        add(PRODUCE_RATE, m.p_post, m.p_base, S.produce_threshold * m.p_base, sig.t[m.p_peak_i],
            f"produce rate x{m.p_ratio:.2f} of baseline (robust z {m.p_z:+.1f})",
            ramp(abs(m.p_z), *S.rate_z_weight) * ramp(abs(math.log(max(m.p_ratio, 1e-9))) if math.isfinite(m.p_ratio)
                                                    else 9, *S.rate_change_weight),
            # a rise supports a spike only when significant: the same bound under which the produce rate reads
            # "at baseline" against it (one finding is never both for and against a cause)
            ("producer_spike",) if m.p_t > S.shift_significance[0] else ())
        add(CONSUME_RATE, m.c_post, m.c_base, S.consume_threshold * m.c_base, sig.t[m.c_low_i],
            f"consume rate x{m.c_ratio:.2f} of baseline (robust z {m.c_z:+.1f})",
            ramp(abs(m.c_z), *S.rate_z_weight) * ramp(abs(math.log(max(m.c_ratio, 1e-9))), *S.rate_change_weight),
            ("consumer_slowdown", "consumer_cpu_saturation", "rebalance_storm")
            if m.c_t < -S.shift_significance[0] else ())
    if m.lost_capacity >= S.capacity_shown_from:
        add(CONSUME_RATE, m.c_post, m.shown_capacity, min(m.p_post, m.shown_capacity), sig.t[m.c_low_i],
            f"consumers read {m.c_post:.4g} msg/s, x{m.c_post / m.shown_capacity:.2f} of the {m.shown_capacity:.4g} "
            f"msg/s they read within the last day: they lost capacity", m.lost_capacity,
            ("consumer_slowdown", "consumer_cpu_saturation"))
    if m.empty:
        add(MEMBERS, 0, median(_vals(sig.members, m.base)) if m.base else 0, 1, sig.t[m.empty[0]],
            f"group had no members in {m.frac_empty:.0%} of the window while produce continued "
            f"({m.p_post:.1f} msg/s)", m.frac_empty, ("consumer_down",))
    if m.frozen:
        add(COMMITTED, 0, m.c_base if m.have_base else 0, 0, sig.t[m.frozen[0]],
            f"committed offset did not move in {len(m.frozen)} of {len(m.post)} steps with "
            f"{int(median([sig.members[i] for i in m.frozen]))} members present and lag > 0",
            m.frac_frozen, ("consumer_stalled",))
    if m.reb_post > 0:
        add(REBALANCES, m.reb_post, m.reb_expected, m.reb_expected + 1, sig.t[next(
            (i for i in m.around if sig.rebalances[i] > 0), w.onset_index)],
            f"{m.reb_post:.0f} rebalances around the onset (baseline expectation {m.reb_expected:.1f})",
            ramp(m.reb_post - m.reb_expected, *S.rebalances_weight), ("rebalance_storm",))
    if m.cpu_post:
        add(CPU, m.cpu_med, median(m.cpu_base) if m.cpu_base else math.nan, S.cpu_threshold, t_onset,
            f"consumer CPU {m.cpu_med:.0%} after the onset", ramp(m.cpu_med, *S.cpu_weight),
            ("consumer_cpu_saturation",) if cpu_sat > 0 else ())
    if m.lc_post > 0:
        first = next((i for i in m.around if sig.leader_changes[i] > 0), w.onset_index)
        add(LEADER_CHANGES, m.lc_post, 0, 1, sig.t[first],
            f"{m.lc_post:.0f} partition leader changes on the topic around the onset",
            ramp(m.lc_post, *S.leader_changes_weight),
            ("leader_election", "broker_failure"))
    if m.urp_max > 0 or m.off_max > 0:
        add(OFFLINE if m.off_max > 0 else UNDER_REPLICATED, m.off_max if m.off_max > 0 else m.urp_max, m.urp_base, 1,
            t_onset, f"{m.off_max:.0f} offline and up to {m.urp_max:.0f} under-replicated partitions on the topic",
            1.0 if m.off_max > 0 else ramp(m.urp_frac, *S.urp_fraction), ("broker_failure",))
    if m.brokers_lost > 0 and m.brokers_before is not None:
        # the threshold shown is the count that means a broker is gone: one fewer than the baseline's
        add(BROKERS, m.brokers_before - m.brokers_lost, m.brokers_before, m.brokers_before - 1, t_onset,
            f"the cluster lost {m.brokers_lost} of its {m.brokers_before} brokers at the onset",
            1.0, ("broker_failure",))
    if m.lost_post > 0:
        first = next((i for i in m.after_onset if sig.lost[i] > 0), w.onset_index)
        add(LOST, m.lost_post, 0, 0, sig.t[first], f"{m.lost_post:.0f} messages deleted by retention before the "
            "group read them", 1.0, ("retention_loss",))
    if frac_partial > 0:
        ids = ", ".join(str(p) for p in sig.frozen_ids) or "?"
        last = next((i for i in reversed(m.post) if _partially_frozen(sig, i)), m.post[-1])
        add(PARTITION_LAG, sig.frozen_partitions[last] or 0, 0, 1, sig.t[last],
            f"{sig.frozen_partitions[last]:.0f} of {sig.partitions[last]:.0f} partitions frozen (partitions {ids}) "
            f"in {frac_partial:.0%} of the window while the others are consumed", partial_s, ("partial_stall",))
    if spiral > 0:
        add(PRODUCE_RATE, m.p_post, m.p_base, m.p_base * (1 + S.spiral_produce_rise[1]), t_onset,
            (f"produce rate rises with the lag (correlation {spiral_corr:+.2f}, x{m.p_ratio:.2f} of baseline): "
             if spiral_corr is not None else
             f"produce rate up (x{m.p_ratio:.2f} of baseline) while the consumers read no faster than before the "
             f"onset (x{consume_held:.2f}): " if consume_held is not None else
             f"produce rate up (x{m.p_ratio:.2f} of baseline) as the consume rate fell (x{m.c_ratio:.2f}): ")
            + "failed messages re-produced", spiral, ("retry_death_spiral",))
    if m.disk_all and m.disk_max >= S.disk_shown_from:
        add(DISK, m.disk_max, median(m.disk_all), S.disk_threshold, t_onset, f"broker log dir {m.disk_max:.0%} full",
            ramp(m.disk_max, *S.disk_weight), ("disk_pressure",))
    if m.skew_post and m.skew_level >= S.skew_shown_from:
        came = m.skew_level - m.skew_base_level >= S.skew_rise[0]
        chronic = not came and m.skew_base_level >= S.skew_shown_from
        add(SKEW, m.skew_med, m.skew_base_med if came or chronic else 1.0, S.skew_threshold, t_onset,
            f"busiest broker leads x{m.skew_med:.1f} its fair share of partitions"
            + (f" (x{m.skew_base_med:.1f} before the onset)" if came else "")
            + (f" (already x{m.skew_base_med:.1f} before the onset: not new)" if chronic else "")
            + (" on 2 brokers, where leading every partition is x2.0" if m.skew_scale > 1 else ""),
            ramp(m.skew_level, *S.skew_weight) * (1.0 if came else 1 - m.skew_chronic),
            ("broker_skew",))
    # What argues against causes supports none: weight 0, `diagnose` keeps these findings apart.
    findings.extend(_Finding(e, 0.0) for e in _counter_evidence(sig, w, m, cpu_sat=cpu_sat, frac_partial=frac_partial,
                                                                spiral=spiral))
    return findings


def _counter_evidence(sig: Signals, w: _Window, m: _Measures, *, cpu_sat: float, frac_partial: float,
                      spiral: float) -> list[Evidence]:
    """The findings against causes: a measure that contradicts a cause, or the absence of what the cause would
    show ("no rebalance around the onset"). A missing signal is said as such ("no CPU signal"): it is weaker
    than a measure that contradicts ("consumer CPU 35%")."""
    S = SCORING
    t_onset = sig.t[w.onset_index]
    out: list[Evidence] = []

    def against(metric: str, value: float, baseline: float, threshold: float, note: str, *causes: str) -> None:
        out.append(Evidence(metric, float(value), float(baseline), float(threshold), t_onset, note, (), causes))

    not_significant = S.shift_significance[0]
    if m.have_base and m.p_t <= not_significant:
        against(PRODUCE_RATE, m.p_post, m.p_base, S.produce_threshold * m.p_base,
                f"produce rate {'below' if m.p_t < -not_significant else 'at'} baseline (x{m.p_ratio:.2f})",
                # a rise not significant alone may be, with the consumers' drop, a spiral's early sign
                "producer_spike", *(() if spiral > 0 else ("retry_death_spiral",)))
    lost = m.lost_capacity
    if lost >= S.capacity_shown_from:
        against(PRODUCE_RATE, m.p_post, m.shown_capacity, m.shown_capacity,
                f"producers write {m.p_post:.4g} msg/s, consumers read {m.c_post:.4g} and read "
                f"{m.shown_capacity:.4g} within the last day: {m.capacity_share:.0%} of the deficit is the consumers' "
                f"lost capacity, not a surge", "producer_spike")
    if m.have_base and m.c_t >= -not_significant and lost < S.capacity_shown_from:
        against(CONSUME_RATE, m.c_post, m.c_base, S.consume_threshold * m.c_base,
                f"consume rate {'above' if m.c_t > not_significant else 'at'} baseline (x{m.c_ratio:.2f})",
                "consumer_slowdown", "consumer_cpu_saturation", "rebalance_storm")
    elif m.have_base:
        against(CONSUME_RATE, m.c_post, m.c_base, S.consume_threshold * m.c_base,
                f"consume rate fell to x{m.c_ratio:.2f} of baseline: the consumers slowed, not only outpaced",
                "producer_spike")
    if m.frac_empty >= S.empty_fraction[1]:
        against(MEMBERS, 0, median(_vals(sig.members, m.base)) if m.base else 0, 1,
                f"group had no members in {m.frac_empty:.0%} of the window: no consumer to be slow or stalled",
                "consumer_slowdown", "consumer_cpu_saturation", "consumer_stalled", "rebalance_storm", "partial_stall")
    empty = set(m.empty)
    with_members = [i for i in m.post if i not in empty and sig.state[i] != "Unknown"]
    if with_members and len(with_members) == len(m.post):
        low = min(sig.members[i] for i in with_members)
        against(MEMBERS, low, low, 1, f"members present throughout the window (at least {low:.0f})", "consumer_down")
    if with_members and not m.frozen:
        against(COMMITTED, m.c_post, m.c_base, 0, "committed offset moved in every step with members present",
                "consumer_stalled")
    if m.reb_post <= 0:
        against(REBALANCES, 0, m.reb_expected, m.reb_expected + 1, "no rebalance around the onset", "rebalance_storm")
    elif m.reb_post - m.reb_expected <= S.storm_excess[0]:
        against(REBALANCES, m.reb_post, m.reb_expected, m.reb_expected + 1,
                f"{m.reb_post:.0f} rebalances around the onset, no more than the baseline's {m.reb_expected:.1f}",
                "rebalance_storm")
    if not m.cpu_post:
        against(CPU, math.nan, math.nan, S.cpu_threshold, "no CPU signal", "consumer_cpu_saturation")
    elif cpu_sat <= 0:
        against(CPU, m.cpu_med, median(m.cpu_base) if m.cpu_base else math.nan, S.cpu_threshold,
                f"consumer CPU {m.cpu_med:.0%}: not saturated", "consumer_cpu_saturation")
    if m.lc_near <= 0 and m.lc_post <= 0:
        against(LEADER_CHANGES, 0, 0, 1, "no partition leader change around the onset", "leader_election")
    if not m.broker_down and m.urp_max <= 0:
        against(OFFLINE, 0, 0, 1, "no offline or under-replicated partition around the onset", "broker_failure")
    if m.lost_post <= 0:
        against(LOST, 0, 0, 0, "no message lost to retention", "retention_loss")
    if frac_partial <= 0:
        known = any(sig.frozen_partitions[i] is not None for i in m.post) if sig.frozen_partitions else False
        against(PARTITION_LAG, 0, 0, 1, "no partition frozen on its own" if known else "no per-partition signal",
                "partial_stall")
    if not m.disk_all:
        against(DISK, math.nan, math.nan, S.disk_threshold, "no disk signal", "disk_pressure")
    elif m.disk_max < S.disk_shown_from:
        against(DISK, m.disk_max, median(m.disk_all), S.disk_threshold,
                f"broker log dirs at most {m.disk_max:.0%} full", "disk_pressure")
    if not m.skew_post:
        against(SKEW, math.nan, 1.0, S.skew_threshold, "no leadership-skew signal", "broker_skew")
    elif m.skew_level < S.skew_shown_from:
        against(SKEW, m.skew_med, 1.0, S.skew_threshold,
                f"partition leadership balanced (busiest broker x{m.skew_med:.1f} its fair share)", "broker_skew")
    return out


def _severity(cause: str, sig: Signals, w: _Window, lag_problem: bool, findings: list[_Finding]) -> str:
    if cause in ("retention_loss", "consumer_down") or any(f.evidence.metric == OFFLINE for f in findings):
        return "critical" if lag_problem or cause == "retention_loss" else "warning"
    if not lag_problem:
        return "info"
    ls = sig.lag_seconds[-1]
    ret = sig.retention[-1] if sig.retention else None
    if ls is not None and ret and ls > 0.5 * ret:
        return "critical"
    still_growing = sig.n >= 3 and sig.lag[-1] >= max(sig.lag[w.onset_index:]) * 0.95 and sig.lag[-1] > sig.lag[-3]
    if still_growing and cause in ("consumer_stalled", "broker_failure"):
        return "critical"
    return "warning"


_NEEDS_LAG_PROBLEM = ("producer_spike", "consumer_down", "consumer_stalled", "rebalance_storm",
                      "consumer_cpu_saturation", "consumer_slowdown", "leader_election", "retry_death_spiral")


def _refine_onset(sig: Signals, onset: float) -> int:
    """A given onset is a lower bound: the change point of the lag at or after it (3 samples of slack), so an
    early hint (an anomaly detector that latched on noise, a generous incident window) does not dilute the
    post-onset window with normal samples. Falls back to the given onset when the lag does not rise after it."""
    given = next((i for i, ts in enumerate(sig.t) if ts >= onset), sig.n - 1)
    found = find_onset_index(sig.lag, sig.t, _min_rise(sig), lo=max(0, given - 3))
    return found if found is not None and found > given else given


def _min_rise(sig: Signals) -> float:
    """A lag rise smaller than two steps' worth of production is normal in-flight backlog, not a problem."""
    if sig.n < 2:
        return 10.0
    step = median([b - a for a, b in zip(sig.t, sig.t[1:], strict=False)])
    normal = 2.0 * median(sig.produce_rate) * step
    # A leader change explains even a short bump: the consumers pause while they find the new leaders.
    if any(sig.leader_changes[-SCORING.leader_bump_samples:]):
        normal = min(normal, SCORING.leader_bump_seconds * median(sig.produce_rate))
    return max(10.0, normal)


def confidence_from_scores(ranked: Sequence[tuple[str, float]]) -> float:
    """Best score, discounted when the runner-up explains the evidence almost as well."""
    s1 = ranked[0][1]
    s2 = ranked[1][1] if len(ranked) > 1 else 0.0
    margin = max(0.0, s1 - s2)
    return max(0.0, min(1.0, s1 * (0.5 + 0.5 * min(1.0, margin / SCORING.confidence_margin))))


def diagnose(history: Sequence[GroupTopicSample], onset: float | None = None,
             shown_capacity: float | None = None) -> Diagnosis:
    """Most probable root cause of the lag problem in `history` (oldest sample first).

    `onset` (unix seconds) is where the problem started; found from the lag when not given. `shown_capacity` is
    the highest rate (messages/s) the group committed at within the last day, when known: the online engine
    keeps it (`ShownCapacity`), beyond the history it passes."""
    if len(history) < 2:
        return Diagnosis(cause="unknown", confidence=0.0, severity="info", onset=onset,
                         remediation="Not enough history to diagnose (need at least 2 samples).",
                         alternatives=(("unknown", 0.0),))
    sig = derive_signals(history)
    lag_problem = True
    if onset is not None:
        oi = _refine_onset(sig, onset)
    else:
        found = find_onset_index(sig.lag, sig.t, _min_rise(sig))
        if found is None:
            lag_problem = False
            oi = max(1, sig.n // 2)
        else:
            oi = found
    oi = max(0, min(oi, sig.n - 1))
    w = _windows(sig, oi)
    scores, findings = _score_and_evidence(sig, w, shown_capacity)
    # The findings against causes support none: kept apart, so `evidence` (metrics, runbooks) is what supports.
    against = tuple(f.evidence for f in findings if f.evidence.contradicts)
    findings = [f for f in findings if not f.evidence.contradicts]
    if not lag_problem:
        # Without a lag rise there is nothing for the rate-based causes to explain (a daily produce peak the
        # consumers absorb is not a producer spike); conditions that matter on their own stay.
        for c in _NEEDS_LAG_PROBLEM:
            scores[c] = 0.0
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], ROOT_CAUSES.index(kv[0])))
    cause = ranked[0][0]
    conf = confidence_from_scores(ranked)
    scale = conf / ranked[0][1] if ranked[0][1] > 0 else 0.0
    alternatives = tuple((c, round(s * scale, 3)) for c, s in ranked[:3])
    # Evidence: what supports the chosen cause first, then the rest by effect size.
    findings.sort(key=lambda f: (cause not in f.evidence.supports, -f.weight))
    severity = _severity(cause, sig, w, lag_problem, findings)
    return Diagnosis(
        cause=cause,
        confidence=round(conf, 3),
        severity=severity,
        onset=sig.t[oi] if (lag_problem or onset is not None) else None,
        evidence=tuple(f.evidence for f in findings),
        remediation=REMEDIATION[cause],
        alternatives=alternatives,
        counter_evidence=against,
    )


def scores(history: Sequence[GroupTopicSample], onset: float | None = None,
           shown_capacity: float | None = None) -> dict[str, float]:
    """Raw 0-1 score of every cause (for reports and tests)."""
    sig = derive_signals(history)
    if onset is not None:
        oi = _refine_onset(sig, onset)
    else:
        found = find_onset_index(sig.lag, sig.t, _min_rise(sig))
        oi = max(1, sig.n // 2) if found is None else found
    return _score_and_evidence(sig, _windows(sig, oi), shown_capacity)[0]
