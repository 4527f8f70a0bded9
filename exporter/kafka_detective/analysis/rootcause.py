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
LOST = "kafka_consumergroup_lost_messages_total"
CPU = "consumer_cpu_ratio"
DISK = "disk_used_ratio"
SKEW = "broker_leader_share_ratio"
PARTITION_LAG = "kafka_consumergroup_lag"

# Named thresholds of the newer causes (relative to the subject's own topic, never absolute counts).
PARTIAL_MAX_SHARE = 0.5          # frozen partitions: at most this share of the group's partitions is "partial"
PARTIAL_STEPS = (0.2, 0.6)       # share of the post-onset steps with a partial freeze: ramp from/to
SPIRAL_CORRELATION = (0.4, 0.75)  # correlation of the produce rate with the lag after the onset: ramp
SPIRAL_PRODUCE_RISE = (0.1, 0.25)  # produce increase over its baseline (ratio - 1): ramp
SPIRAL_GROWTH = (0.05, 0.12)     # produce rise WITHIN the growth phase (last third vs first third, relative)
SPIRAL_MIN_POINTS = 6
LEADER_BUMP_SECONDS = 30.0       # a lag bump of this much production counts when leaders changed ...
LEADER_BUMP_SAMPLES = 15         # ... in the last samples (a short election wave: one or two cycles of lag)
SPIRAL_CONSUME_DROP = (0.1, 0.3)  # early sign: consume rate below its baseline by this much (1 - ratio): ramp
SPIRAL_EARLY_WEIGHT = 0.8        # the early sign counts a little less than the rise with the lag
SPIRAL_EXTRA_OF_CONSUMED = (0.8, 1.0)  # extra produce / consume rate: a spiral up to 0.8, none beyond 1.0

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

UNKNOWN_FLOOR = 0.25          # score of `unknown`: a cause must beat it to be reported
BASELINE_MAX_SAMPLES = 120    # the baseline is at most this many samples before the onset


# --- small robust statistics (stdlib) ---------------------------------------------------------------------


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
    x = list(t) if t is not None else [float(i) for i in range(n)]
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
    base_start = max(0, onset_index - BASELINE_MAX_SAMPLES)
    base = list(range(base_start, max(base_start, onset_index - 1)))   # leave one sample of margin
    if len(base) < 3:
        base = list(range(base_start, onset_index))
    # post window: from the onset to the lag peak after it (the growth phase), at least 4 samples
    tail = sig.lag[onset_index:]
    peak = onset_index + (tail.index(max(tail)) if tail else 0)
    end = max(peak, min(n - 1, onset_index + 3))
    post = list(range(onset_index, end + 1))
    return _Window(base, post, onset_index, peak)


def _vals(series: Sequence, idx: Sequence[int]) -> list[float]:
    return [float(series[i]) for i in idx if series[i] is not None]


@dataclass
class _Finding:
    evidence: Evidence
    weight: float                      # |effect| on a 0-1 scale, for ranking
    supports: tuple[str, ...] = ()     # causes this evidence supports


def _score_and_evidence(sig: Signals, w: _Window) -> tuple[dict[str, float], list[_Finding]]:
    base, post = w.base, w.post
    t_onset = sig.t[w.onset_index]
    scores = dict.fromkeys(ROOT_CAUSES, 0.0)
    scores["unknown"] = UNKNOWN_FLOOR
    findings: list[_Finding] = []
    have_base = len(base) >= 3

    # -- produce / consume rates: the later half of a long growth phase (a gradual change is fully developed
    # there; a step change looks the same in both halves)
    rate_post = post[len(post) // 2:] if len(post) >= 8 else post
    p_post, p_base, p_z = robust_z(_vals(sig.produce_rate, rate_post), _vals(sig.produce_rate, base), 0.05, 1e-3)
    c_post, c_base, c_z = robust_z(_vals(sig.consume_rate, rate_post), _vals(sig.consume_rate, base), 0.05, 1e-3)
    p_ratio = p_post / p_base if have_base and p_base > 1e-9 else (math.inf if p_post > 0 and have_base else 1.0)
    c_ratio = c_post / c_base if have_base and c_base > 1e-9 else 1.0
    # Significance of the shift of medians (effect size x sqrt of the effective sample size; 1.25 is the
    # efficiency loss of the median against the mean): a small but sustained shift over many samples counts.
    n_eff = math.sqrt(len(rate_post) * len(base) / max(1, len(rate_post) + len(base))) / 1.25
    p_t, c_t = p_z * n_eff, c_z * n_eff
    p_peak_i = max(rate_post, key=lambda i: sig.produce_rate[i])
    c_low_i = min(rate_post, key=lambda i: sig.consume_rate[i])
    # Attribution of the deficit that makes the lag grow: before the onset the group kept up (consume ~
    # produce), so deficit = (produce increase) + (consume decrease).
    d_prod = max(0.0, p_post - p_base) if have_base else 0.0
    d_cons = max(0.0, c_base - c_post) if have_base else 0.0
    share_p = d_prod / (d_prod + d_cons) if d_prod + d_cons > 0 else 0.0
    share_c = d_cons / (d_prod + d_cons) if d_prod + d_cons > 0 else 0.0

    # -- membership and commits
    n_post = len(post)
    # Membership unknown (no members/state series: state "Unknown" with 0 members) is not "Empty".
    empty = [i for i in post if sig.state[i] in EMPTY_STATES or (sig.members[i] <= 0 and sig.state[i] != "Unknown")]
    frac_empty = len(empty) / n_post
    producing = p_post > 0 or any(sig.produce_rate[i] > 0 for i in post)
    empty_set = set(empty)
    with_members = [i for i in post if i not in empty_set]
    frozen = [i for i in with_members if sig.committed_delta[i] <= 0 and sig.lag[i] > 0]
    frac_frozen = len(frozen) / n_post
    rebalancing_state = [i for i in post if sig.state[i] in REBALANCING_STATES]

    # -- counts around the onset (two samples before it to the end of the post window)
    around = list(range(max(0, w.onset_index - 2), post[-1] + 1))
    reb_post = sum(sig.rebalances[i] for i in around)
    reb_base_rate = (sum(sig.rebalances[i] for i in base) / len(base)) if base else 0.0
    reb_expected = reb_base_rate * len(around)
    lc_near = sum(sig.leader_changes[i] for i in range(max(0, w.onset_index - 3),
                                                        min(sig.n, w.onset_index + 4)))
    lc_post = sum(sig.leader_changes[i] for i in around)
    # Losses trail the lag peak (the oldest message must age past the retention first): count to the end.
    after_onset = range(max(0, w.onset_index - 2), sig.n)
    lost_post = sum(sig.lost[i] for i in after_onset)
    urp = _vals(sig.under_replicated, around)
    off = _vals(sig.offline, around)
    urp_frac = sum(1 for v in urp if v > 0) / max(1, len(urp))
    off_max = max(off) if off else 0.0
    urp_max = max(urp) if urp else 0.0
    urp_base = max(_vals(sig.under_replicated, base), default=0.0)

    cpu_post = _vals(sig.cpu, post)
    cpu_base = _vals(sig.cpu, base)
    cpu_med = median(cpu_post) if cpu_post else math.nan
    disk_all = _vals(sig.disk, list(range(sig.n)))
    disk_max = max(disk_all) if disk_all else math.nan
    skew_post = _vals(sig.skew, post)
    skew_med = median(skew_post) if skew_post else math.nan

    # ---- scores
    consumer_present = 1.0 - frac_empty
    # producer spike: produce rate well above its baseline, consumers not slower than before
    spike = (max(ramp(p_ratio, 1.25, 2.0), share_p * ramp(p_ratio - 1, 0.05, 0.2)) * ramp(p_t, 2.0, 4.0)
             if have_base else 0.0)
    healthy = ramp(c_ratio, 0.55, 0.9) if have_base else 0.5
    scores["producer_spike"] = 0.95 * spike * healthy * consumer_present * (1 - 0.7 * frac_frozen)

    scores["consumer_down"] = (ramp(frac_empty, 0.0, 0.5) if producing else 0.3 * ramp(frac_empty, 0.0, 0.5))
    # A freeze right after a leader election or while partitions are offline is explained by the broker side.
    broker_ind = max(1.0 if off_max > 0 else 0.0, ramp(urp_frac, 0.0, 0.3) * (0.5 if urp_base > 0 else 1.0))
    scores["consumer_stalled"] = 0.95 * ramp(frac_frozen, 0.2, 0.7) * (1 - ramp(reb_post, 1, 4) * 0.5) * \
        (1 - 0.6 * ramp(lc_near, 0.0, 1.0)) * (1 - 0.8 * broker_ind)

    slowed = (max(ramp(1 - c_ratio, 0.15, 0.5), share_c * ramp(1 - c_ratio, 0.05, 0.2)) * ramp(-c_t, 2.0, 4.0)
              if have_base else 0.0)
    # A dip right after a leader election is explained by the election.
    election = ramp(lc_near, 0.0, 1.0)
    reb_signif = ramp(reb_post - reb_expected, 0.5, 3.0)
    # Rebalances while partitions are offline are often the broker failure's doing (lost coordinator,
    # reassigned partitions): the broker side is upstream.
    scores["rebalance_storm"] = 0.95 * reb_signif * consumer_present * max(
        slowed, ramp(len(rebalancing_state) / n_post, 0.0, 0.3), ramp(reb_post, 2.0, 5.0)) * (1 - 0.25 * broker_ind)
    cpu_sat = ramp(cpu_med, 0.7, 0.9) if cpu_post else 0.0
    scores["consumer_cpu_saturation"] = 0.95 * slowed * cpu_sat * consumer_present
    not_cpu = 1.0 - cpu_sat
    not_frozen = 1.0 - ramp(frac_frozen, 0.2, 0.7)
    scores["consumer_slowdown"] = 0.85 * slowed * (1 - reb_signif) * not_cpu * consumer_present * not_frozen * \
        (1 - 0.5 * election)

    scores["broker_failure"] = 0.95 * max(1.0 if off_max > 0 else 0.0,
                                          0.9 * ramp(urp_frac, 0.0, 0.3) * (0.5 if urp_base > 0 else 1.0))
    if lc_post > 0:
        scores["broker_failure"] = min(1.0, scores["broker_failure"] * 1.05)
    scores["leader_election"] = 0.8 * ramp(lc_near, 0.0, 1.0) * (1 - 0.7 * broker_ind) * \
        (1 - 0.5 * max(spike, ramp(frac_empty, 0, 0.5)))
    scores["broker_skew"] = 0.7 * ramp(skew_med, 1.4, 2.0) if skew_post else 0.0
    scores["disk_pressure"] = 0.8 * ramp(disk_max, 0.8, 0.95) if disk_all else 0.0
    # data loss: the headline whenever it happened (the other causes are discounted once all are scored, below)
    loss = ramp(lost_post, 0.0, 1.0)
    scores["retention_loss"] = 0.98 * loss

    # partial stall: a few partitions frozen (per-partition evidence), the group as a whole still consuming
    def partial(i: int) -> bool:
        f, n = sig.frozen_partitions[i], sig.partitions[i]
        return bool(f) and n is not None and f <= max(1.0, PARTIAL_MAX_SHARE * n)

    have_partitions = bool(sig.frozen_partitions) and any(sig.frozen_partitions[i] is not None for i in post)
    frac_partial = sum(1 for i in post if partial(i)) / n_post if have_partitions else 0.0
    frac_partial_base = (sum(1 for i in base if partial(i)) / len(base)) if have_partitions and base else 0.0
    partial_s = ramp(frac_partial - frac_partial_base, *PARTIAL_STEPS)
    scores["partial_stall"] = 0.95 * partial_s * consumer_present * (1 - 0.8 * broker_ind)
    for c in ("consumer_slowdown", "consumer_stalled", "consumer_cpu_saturation", "leader_election"):
        scores[c] *= 1 - 0.8 * partial_s

    # retry death spiral: failures re-produced to the topic, so the produce rate rises WITH the lag
    spiral_idx = rate_post if len(rate_post) >= SPIRAL_MIN_POINTS else post
    spiral_corr = spiral_growth = 0.0
    if have_base and len(spiral_idx) >= SPIRAL_MIN_POINTS:
        smooth = median_filter(sig.produce_rate, 5)
        spiral_corr = correlation([smooth[i] for i in spiral_idx], [sig.lag[i] for i in spiral_idx])
        # A noisy but flat produce rate can correlate with a rising lag by chance: the rate must also keep
        # rising through the growth phase (a spike jumps at the onset, then stays flat).
        third = max(2, len(spiral_idx) // 3)
        first, last = median([smooth[i] for i in spiral_idx[:third]]), median([smooth[i] for i in spiral_idx[-third:]])
        spiral_growth = (last - first) / max(median([smooth[i] for i in spiral_idx]), 1e-9)
    # Before the feedback shows, a spiral starts as produce up AND consume down at once; the re-produced
    # messages are a share of what the consumers read, so the extra produce never exceeds the consume rate
    # (a producer spike that also slows the consumers does).
    spiral = 0.0
    if have_base:
        rising = ramp(spiral_corr, *SPIRAL_CORRELATION) * ramp(spiral_growth, *SPIRAL_GROWTH)
        both = SPIRAL_EARLY_WEIGHT * ramp(1 - c_ratio, *SPIRAL_CONSUME_DROP)
        bounded = ramp((p_post - p_base) / max(c_post, 1e-9), SPIRAL_EXTRA_OF_CONSUMED[1],
                       SPIRAL_EXTRA_OF_CONSUMED[0])
        spiral = (max(rising, both) * ramp(p_ratio - 1, *SPIRAL_PRODUCE_RISE) * bounded * ramp(p_t, 2.0, 4.0)
                  * consumer_present)
    scores["retry_death_spiral"] = 0.95 * spiral
    scores["producer_spike"] *= 1 - 0.6 * spiral
    scores["consumer_slowdown"] *= 1 - 0.5 * spiral

    # Data loss is the headline whenever it happened; the consumer-side causes that let the backlog age past
    # the retention stay in the ranking, discounted as "explained by" the loss.
    for c in ("consumer_down", "consumer_stalled", "consumer_slowdown", "consumer_cpu_saturation",
              "rebalance_storm", "producer_spike", "partial_stall", "retry_death_spiral"):
        scores[c] *= 1 - 0.3 * loss

    # ---- evidence
    def add(metric, value, baseline, threshold, ts, note, weight, supports):
        findings.append(_Finding(Evidence(metric, float(value), float(baseline), float(threshold), float(ts),
                                          note), max(0.0, min(1.0, weight)), supports))

    lag_base = median(_vals(sig.lag, base)) if base else 0.0
    peak_i = w.peak_index
    add(LAG, sig.lag[peak_i], lag_base, lag_base + max(3 * mad(_vals(sig.lag, base)) if base else 0, 10),
        sig.t[peak_i], f"lag rose from {lag_base:.0f} to a peak of {sig.lag[peak_i]:.0f}", 0.5, ())
    ls = sig.lag_seconds[peak_i]
    if ls is not None:
        ls_base = median(_vals(sig.lag_seconds, base)) if _vals(sig.lag_seconds, base) else 0.0
        add(LAG_SECONDS, ls, ls_base, ls_base * 2 + 60, sig.t[peak_i],
            f"oldest unconsumed message {ls:.0f}s old at the peak", 0.4, ())
    if have_base:
        add(PRODUCE_RATE, p_post, p_base, 2 * p_base, sig.t[p_peak_i],
            f"produce rate x{p_ratio:.2f} of baseline (robust z {p_z:+.1f})",
            ramp(abs(p_z), 1, 6) * ramp(abs(math.log(max(p_ratio, 1e-9))) if math.isfinite(p_ratio) else 9,
                                        0.05, 0.7),
            ("producer_spike",) if p_z > 0 else ())
        add(CONSUME_RATE, c_post, c_base, 0.5 * c_base, sig.t[c_low_i],
            f"consume rate x{c_ratio:.2f} of baseline (robust z {c_z:+.1f})",
            ramp(abs(c_z), 1, 6) * ramp(abs(math.log(max(c_ratio, 1e-9))), 0.05, 0.7),
            ("consumer_slowdown", "consumer_cpu_saturation", "rebalance_storm") if c_z < 0 else ())
    if empty:
        add(MEMBERS, 0, median(_vals(sig.members, base)) if base else 0, 1, sig.t[empty[0]],
            f"group had no members in {frac_empty:.0%} of the window while produce continued "
            f"({p_post:.1f} msg/s)", frac_empty, ("consumer_down",))
    if frozen:
        add(COMMITTED, 0, c_base if have_base else 0, 0, sig.t[frozen[0]],
            f"committed offset did not move in {len(frozen)} of {n_post} steps with "
            f"{int(median([sig.members[i] for i in frozen]))} members present and lag > 0",
            frac_frozen, ("consumer_stalled",))
    if reb_post > 0:
        add(REBALANCES, reb_post, reb_expected, reb_expected + 1, sig.t[next(
            (i for i in around if sig.rebalances[i] > 0), w.onset_index)],
            f"{reb_post:.0f} rebalances around the onset (baseline expectation {reb_expected:.1f})",
            ramp(reb_post - reb_expected, 0, 4), ("rebalance_storm",))
    if cpu_post:
        add(CPU, cpu_med, median(cpu_base) if cpu_base else math.nan, 0.8, t_onset,
            f"consumer CPU {cpu_med:.0%} after the onset", ramp(cpu_med, 0.6, 0.95),
            ("consumer_cpu_saturation",) if cpu_sat > 0 else ())
    if lc_post > 0:
        first = next((i for i in around if sig.leader_changes[i] > 0), w.onset_index)
        add(LEADER_CHANGES, lc_post, 0, 1, sig.t[first],
            f"{lc_post:.0f} partition leader changes on the topic around the onset", ramp(lc_post, 0, 2),
            ("leader_election", "broker_failure"))
    if urp_max > 0 or off_max > 0:
        add(OFFLINE if off_max > 0 else UNDER_REPLICATED, off_max if off_max > 0 else urp_max, urp_base, 1,
            t_onset, f"{off_max:.0f} offline and up to {urp_max:.0f} under-replicated partitions on the topic",
            1.0 if off_max > 0 else ramp(urp_frac, 0, 0.3), ("broker_failure",))
    if lost_post > 0:
        first = next((i for i in after_onset if sig.lost[i] > 0), w.onset_index)
        add(LOST, lost_post, 0, 0, sig.t[first], f"{lost_post:.0f} messages deleted by retention before the "
            "group read them", 1.0, ("retention_loss",))
    if frac_partial > 0:
        ids = ", ".join(str(p) for p in sig.frozen_ids) or "?"
        last = next((i for i in reversed(post) if partial(i)), post[-1])
        add(PARTITION_LAG, sig.frozen_partitions[last] or 0, 0, 1, sig.t[last],
            f"{sig.frozen_partitions[last]:.0f} of {sig.partitions[last]:.0f} partitions frozen (partitions {ids}) "
            f"in {frac_partial:.0%} of the window while the others are consumed", partial_s, ("partial_stall",))
    if spiral > 0:
        add(PRODUCE_RATE, p_post, p_base, p_base * (1 + SPIRAL_PRODUCE_RISE[1]), t_onset,
            f"produce rate rises with the lag (correlation {spiral_corr:+.2f}, x{p_ratio:.2f} of baseline): "
            "failed messages re-produced", spiral, ("retry_death_spiral",))
    if disk_all and disk_max >= 0.7:
        add(DISK, disk_max, median(disk_all), 0.85, t_onset, f"broker log dir {disk_max:.0%} full",
            ramp(disk_max, 0.7, 0.95), ("disk_pressure",))
    if skew_post and skew_med >= 1.3:
        add(SKEW, skew_med, 1.0, 1.5, t_onset, f"busiest broker leads x{skew_med:.1f} its fair share of "
            "partitions", ramp(skew_med, 1.3, 2.5), ("broker_skew",))
    return scores, findings


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
    if any(sig.leader_changes[-LEADER_BUMP_SAMPLES:]):
        normal = min(normal, LEADER_BUMP_SECONDS * median(sig.produce_rate))
    return max(10.0, normal)


def confidence_from_scores(ranked: Sequence[tuple[str, float]]) -> float:
    """Best score, discounted when the runner-up explains the evidence almost as well."""
    s1 = ranked[0][1]
    s2 = ranked[1][1] if len(ranked) > 1 else 0.0
    margin = max(0.0, s1 - s2)
    return max(0.0, min(1.0, s1 * (0.5 + 0.5 * min(1.0, margin / 0.4))))


def diagnose(history: Sequence[GroupTopicSample], onset: float | None = None) -> Diagnosis:
    """Most probable root cause of the lag problem in `history` (oldest sample first).

    `onset` (unix seconds) is where the problem started; found from the lag when not given."""
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
    scores, findings = _score_and_evidence(sig, w)
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
    findings.sort(key=lambda f: (cause not in f.supports, -f.weight))
    severity = _severity(cause, sig, w, lag_problem, findings)
    return Diagnosis(
        cause=cause,
        confidence=round(conf, 3),
        severity=severity,
        onset=sig.t[oi] if (lag_problem or onset is not None) else None,
        evidence=tuple(f.evidence for f in findings),
        remediation=REMEDIATION[cause],
        alternatives=alternatives,
    )


def scores(history: Sequence[GroupTopicSample], onset: float | None = None) -> dict[str, float]:
    """Raw 0-1 score of every cause (for reports and tests)."""
    sig = derive_signals(history)
    if onset is not None:
        oi = _refine_onset(sig, onset)
    else:
        oi = find_onset_index(sig.lag, sig.t, _min_rise(sig))
        oi = max(1, sig.n // 2) if oi is None else oi
    return _score_and_evidence(sig, _windows(sig, oi))[0]
