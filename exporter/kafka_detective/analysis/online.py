"""The online analytics engine the exporter runs once per collection cycle (pure Python).

    analytics = OnlineAnalytics()
    analytics.observe(samples)          # one GroupTopicSample per group/topic, every cycle
    for analysis in analytics.results():
        ...                             # rendered as the `analysis` metrics of the catalogue

Per group/topic it keeps a `LagForecaster` (lag trend tests, produce/consume rate models with a daily profile),
one `SignalDetector` per anomaly signal, and a compact bounded history (array of floats, at most
`history_points` records over `history_seconds`) that is turned into `GroupTopicSample`s only when the
root-cause function needs it. `kafka_detective.analysis.rootcause.diagnose` is called only while the subject
shows a lag problem (a material backlog that is anomalous or growing, lag seconds high, retention breach near,
messages lost), at most once every `diagnose_every_seconds` per subject and at most `max_diagnoses_per_cycle`
times per observe() (the longest-waiting first), so its cost is amortised and bounded. Subjects not seen for
`stale_seconds` are dropped.

The offline CLI (`kafka-detective evaluate`, `investigate`) replays traces through this same class.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import replace

from kafka_detective.analysis import episodes as episode_rules
from kafka_detective.analysis import rootcause
from kafka_detective.analysis.anomaly import SignalDetector
from kafka_detective.analysis.capacity import ShownCapacity
from kafka_detective.analysis.forecast import LagForecaster
from kafka_detective.analysis.model import ANOMALY_SIGNALS, Diagnosis, Evidence, GroupTopicAnalysis
from kafka_detective.kafka.group_state import GroupState
from kafka_detective.signals.samples import GroupTopicSample

log = logging.getLogger(__name__)

Subject = tuple[str, str, str]   # (cluster, group, topic)
# A past lag problem: (start, time of its last evidence, the single-episode cause most diagnosed during it)
Episode = tuple[float, float, str]

# A sample's state is stored as its index here: the order is an encoding, append only. "NotReady" (no
# GroupState) keeps the code it always had.
STATES: tuple[str, ...] = (GroupState.UNKNOWN, GroupState.STABLE, GroupState.EMPTY, GroupState.PREPARING_REBALANCE,
                           GroupState.COMPLETING_REBALANCE, GroupState.DEAD, GroupState.ASSIGNING,
                           GroupState.RECONCILING, "NotReady")
_STATE_CODE = {s: i for i, s in enumerate(STATES)}
_NAN = float("nan")
LAG_FLOOR_SECONDS = 30.0   # scale floor of the lag anomaly score: 30 s of production
# First signs that open a lag problem before the backlog is material (short and partial episodes):
FIRST_SIGN_SCORE = 0.95          # lag anomaly score of a first sign ...
FIRST_SIGN_BACKLOG_SECONDS = 30.0  # ... with at least this many seconds of production behind
FIRST_SIGN_AGE_SECONDS = 120.0   # ... and the oldest unconsumed message at least this old, when known
FIRST_SIGN_STEPS = 2             # consecutive cycles a first sign must hold (one noisy cycle is not a sign)
FROZEN_USUAL_AGE_FACTOR = 1.5    # frozen partitions are a sign once the oldest message is this many times older than
                                 # the group's usual at the current rate (a sawtooth's climb 1.5x its usual is no climb)
# A backlog under `min_backlog_seconds` of production and of age is unusual at most, never alarming: the published
# lag and lag-seconds scores stay under this (a slow partition or a deploy's pause on a quiet group).
IMMATERIAL_SCORE_CAP = 0.5
# An age-only backlog (few messages behind, the oldest old: one partition lagging) is material at this multiple of
# `min_backlog_seconds` beyond the usual age (5 minutes by default, the lag-seconds warning's default); a whole-group
# problem is material in messages as soon as in age
AGE_ONLY_FACTOR = 2.5
AGE_STOPPED_RATIO = 0.5          # ... or at `min_backlog_seconds` once the oldest message ages at half the clock's
AGE_STOPPED_STEPS = 2            # pace for this many consecutive cycles (a stopped partition; one cycle's jump is
                                 # the oldest message changing)
WARMED_SCORES = 30       # the lag detector scores once it has this many raw scores (anomaly.py)
USUAL_MAX_SCORE = 0.5   # the usual backlog learns only from cycles whose lag is not unusual (a ramp must not teach)
WARMUP_CYCLES = 10               # a subject's first cycles (new, or back after a gap) open no problem: its
                                 # rates are not known yet, so any backlog looks like runaway growth
COLD_LOW_POINT_CYCLES = 6        # then, until the lag detector has warmed (~50 cycles), a backlog is material only
                                 # if its low point over this many cycles is: a commit every 5 minutes is no backlog;
                                 # the price is up to 5 cycles' delay for a backlog that starts in that first hour

# Compact history record layout (one array('d') slot per field).
_FIELDS = ("timestamp", "lag", "log_end_offset", "committed_offset", "lag_seconds", "members", "state",
           "rebalances_total", "lost_messages_total", "retention_seconds", "leader_changes_total",
           "under_replicated_partitions", "offline_partitions", "consumer_cpu_ratio", "disk_used_ratio",
           "broker_leader_share_ratio", "partitions", "frozen_partitions", "brokers")
_NF = len(_FIELDS)


def _opt(x: float | None) -> float:
    return _NAN if x is None else float(x)


def _unopt(x: float) -> float | None:
    return None if x != x else x


def _int_or_none(x: float) -> int | None:
    return None if x != x else int(x)


class CompactHistory:
    """Ring buffer of samples as floats: 19 x 8 bytes per record, at most one record per `spacing` seconds."""

    __slots__ = ("capacity", "data", "extra_states", "head", "last_t", "spacing")

    def __init__(self, capacity: int, spacing: float):
        self.capacity = capacity
        self.spacing = spacing
        self.data = array("d")
        self.head = 0
        self.last_t: float | None = None
        self.extra_states: dict[int, str] | None = None   # state names outside STATES (rare)

    def __len__(self) -> int:
        return len(self.data) // _NF

    def add(self, s: GroupTopicSample) -> None:
        if self.last_t is not None and s.timestamp - self.last_t < self.spacing:
            return
        self.last_t = s.timestamp
        code = _STATE_CODE.get(s.state)
        if code is None:
            if self.extra_states is None:
                self.extra_states = {}
            code = 100 + len(self.extra_states)
            for k, v in self.extra_states.items():
                if v == s.state:
                    code = k
                    break
            self.extra_states[code] = s.state
        rec = (s.timestamp, s.lag, s.log_end_offset, s.committed_offset, _opt(s.lag_seconds), s.members, code,
               s.rebalances_total, s.lost_messages_total, _opt(s.retention_seconds), s.leader_changes_total,
               s.under_replicated_partitions, s.offline_partitions, _opt(s.consumer_cpu_ratio),
               _opt(s.disk_used_ratio), _opt(s.broker_leader_share_ratio), _opt(s.partitions),
               _opt(s.frozen_partitions), _opt(s.brokers))
        if len(self) < self.capacity:
            self.data.extend(rec)
        else:
            i = self.head * _NF
            self.data[i:i + _NF] = array("d", rec)
            self.head = (self.head + 1) % self.capacity

    def samples(self, cluster: str, group: str, topic: str) -> list[GroupTopicSample]:
        n = len(self)
        out = []
        d = self.data
        for j in range(n):
            i = ((self.head + j) % n) * _NF if n == self.capacity else j * _NF
            code = int(d[i + 6])
            state = STATES[code] if code < len(STATES) else (self.extra_states or {}).get(code, "Unknown")
            out.append(GroupTopicSample(
                cluster=cluster, group=group, topic=topic, timestamp=d[i], lag=int(d[i + 1]),
                log_end_offset=int(d[i + 2]), committed_offset=int(d[i + 3]), lag_seconds=_unopt(d[i + 4]),
                members=int(d[i + 5]), state=state, rebalances_total=int(d[i + 7]),
                lost_messages_total=int(d[i + 8]), retention_seconds=_unopt(d[i + 9]),
                leader_changes_total=int(d[i + 10]), under_replicated_partitions=int(d[i + 11]),
                offline_partitions=int(d[i + 12]), consumer_cpu_ratio=_unopt(d[i + 13]),
                disk_used_ratio=_unopt(d[i + 14]), broker_leader_share_ratio=_unopt(d[i + 15]),
                partitions=_int_or_none(d[i + 16]), frozen_partitions=_int_or_none(d[i + 17]),
                brokers=_int_or_none(d[i + 18])))
        return out


class UsualBacklog:
    """The 90th percentile of a group's healthy backlog, in seconds of production and in message age: the swing
    its commit style gives it (per-message commits: about 0; a commit every minute: about a minute). A streaming
    quantile (Robbins-Monro with a step proportional to the level, so it adapts at any scale), O(1) per cycle.

    Both are also learnt in messages (the backlog itself, the age times the produce rate): a group that commits
    every N messages (a batch) holds up to N messages and waits N / rate for its oldest, minutes at night for
    seconds by day. In seconds the quantiles climb into the night at 0.5 % a cycle at most; in messages the batch
    stays what it was."""

    __slots__ = ("age", "age_messages", "backlog", "backlog_messages", "n")
    QUANTILE = 0.9
    STEP = 0.05         # relative step once learnt: at most 5 % of (the estimate + FLOOR) per cycle
    FLOOR = 10.0        # seconds

    def __init__(self) -> None:
        self.backlog = 0.0
        self.backlog_messages = 0.0
        self.age = 0.0
        self.age_messages = 0.0
        self.n = 0

    def _step(self, q: float, x: float, floor: float) -> float:
        # large steps at first (a new subject learns its cadence within its warm-up cycles), then STEP
        gain = max(self.STEP, 2.0 / (self.n + 2))
        return max(0.0, q + gain * (q + floor) * (self.QUANTILE - (1.0 if x <= q else 0.0)))

    def update(self, backlog_seconds: float, age_seconds: float | None, produce_rate: float = 0.0) -> None:
        self.backlog = self._step(self.backlog, backlog_seconds, self.FLOOR)
        if produce_rate > 0:
            self.backlog_messages = self._step(self.backlog_messages, backlog_seconds * produce_rate,
                                               self.FLOOR * produce_rate)
        if age_seconds is not None:
            self.age = self._step(self.age, age_seconds, self.FLOOR)
            if produce_rate > 0:
                self.age_messages = self._step(self.age_messages, age_seconds * produce_rate,
                                               self.FLOOR * produce_rate)
        self.n += 1

    def backlog_at(self, produce_rate: float) -> float:
        """The usual backlog in messages at this produce rate: the backlog learnt in seconds of production, or the
        batch learnt in messages, whichever is larger."""
        return max(self.backlog * produce_rate, self.backlog_messages)

    def age_at(self, produce_rate: float) -> float:
        """The usual oldest-message age at this produce rate: the age learnt in seconds, or the batch learnt in
        messages at this rate, whichever is longer."""
        return max(self.age, self.age_messages / produce_rate) if produce_rate > 0 else self.age


class SubjectState:
    __slots__ = ("aging_steps", "capacity", "detectors", "diag_t", "diagnosis", "episodes", "first_seen", "forecaster",
                 "history", "last", "last_seen", "observed", "onset", "problem_since", "problem_until",
                 "rebalance_rate", "recent_lags", "result", "scores", "sign_steps", "usual", "votes")

    def __init__(self, history_points: int, history_spacing: float):
        self.forecaster = LagForecaster()
        self.detectors = [SignalDetector.for_signal(sig) for sig in ANOMALY_SIGNALS]
        self.history = CompactHistory(history_points, history_spacing)
        self.last: GroupTopicSample | None = None
        self.last_seen = 0.0
        self.scores: dict[str, float] = {}
        self.rebalance_rate = 0.0
        self.problem_since: float | None = None    # time the current lag problem was first seen
        self.problem_until = 0.0                   # the problem ends once calm after this time
        self.onset: float | None = None
        self.diagnosis: Diagnosis | None = None
        self.diag_t = -math.inf
        self.result: GroupTopicAnalysis | None = None
        # past problems (start, last evidence, cause of their single episode), oldest first
        self.episodes: list[Episode] = []
        self.first_seen: float | None = None
        self.observed = 0
        self.sign_steps = 0
        self.aging_steps = 0     # consecutive cycles the oldest message aged at the clock's pace (a stop)
        self.votes: dict[str, int] = {}    # single-episode causes diagnosed during the current problem
        self.usual = UsualBacklog()
        self.capacity = ShownCapacity()
        # the lag of the last cycles while the lag detector warms up (then None): the backlog's low point
        self.recent_lags: deque[float] | None = deque(maxlen=COLD_LOW_POINT_CYCLES)


class OnlineAnalytics:
    """Forecasts, anomaly scores and diagnoses for every group/topic, updated once per collection cycle."""

    def __init__(self, horizons_seconds: Sequence[int] = (300, 900, 1800), history_seconds: float = 7200,
                 history_points: int = 120, stale_seconds: float = 900.0, diagnose_every_seconds: float = 60.0,
                 problem_hold_seconds: float = 600.0, min_backlog_seconds: float = 120.0,
                 max_diagnoses_per_cycle: int = 25,
                 intermittent_min_gap_seconds: float = episode_rules.RULES.intermittent_min_gap_seconds):
        self.horizons = tuple(sorted(int(h) for h in horizons_seconds))
        self.history_seconds = float(history_seconds)
        self.history_points = max(2, int(history_points))
        self.history_spacing = self.history_seconds / self.history_points
        self.stale_seconds = stale_seconds
        self.diagnose_every = diagnose_every_seconds
        self.problem_hold = problem_hold_seconds
        self.min_backlog_seconds = min_backlog_seconds
        self.max_diagnoses = max_diagnoses_per_cycle
        self.episode_rules = replace(episode_rules.RULES, intermittent_min_gap_seconds=intermittent_min_gap_seconds)
        self._pending: list[SubjectState] = []
        self._subjects: dict[Subject, SubjectState] = {}
        self._diagnose_failed = False
        self._latest = -math.inf
        self._observes = 0

    # -- public API -----------------------------------------------------------------------------------

    def observe(self, samples: Iterable[GroupTopicSample]) -> None:
        subjects = self._subjects
        latest = self._latest
        for s in samples:
            key = (s.cluster, s.group, s.topic)
            st = subjects.get(key)
            if st is None:
                st = SubjectState(self.history_points, self.history_spacing)
                subjects[key] = st
            elif st.last is not None and s.timestamp <= st.last.timestamp:
                continue          # duplicate or out-of-order sample
            self._update(st, s)
            if s.timestamp > latest:
                latest = s.timestamp
        self._latest = latest
        if self._pending:
            self._diagnose_pending()
        self._observes += 1
        if self._observes % 10 == 0:
            self._expire()

    def results(self) -> list[GroupTopicAnalysis]:
        return [st.result for st in self._subjects.values() if st.result is not None]

    def result(self, cluster: str, group: str, topic: str) -> GroupTopicAnalysis | None:
        st = self._subjects.get((cluster, group, topic))
        return st.result if st else None

    def forget(self, subjects: Iterable[Subject]) -> None:
        for key in subjects:
            self._subjects.pop(key, None)

    def subjects(self) -> list[Subject]:
        return list(self._subjects)

    def history(self, cluster: str, group: str, topic: str) -> list[GroupTopicSample]:
        """The compact history kept for one subject, oldest first (at most one record per history spacing)."""
        st = self._subjects.get((cluster, group, topic))
        return st.history.samples(cluster, group, topic) if st else []

    def latest(self, cluster: str, group: str, topic: str) -> GroupTopicSample | None:
        """The newest sample observed for one subject (read-only; the history keeps one per spacing only)."""
        st = self._subjects.get((cluster, group, topic))
        return st.last if st else None

    def episodes(self, cluster: str, group: str, topic: str) -> list[Episode]:
        """The past lag problems remembered for one subject, (start, end, cause) oldest first, at most
        `episodes.RULES.keep` of them; the open problem, if any, is not among them (read-only: a copy)."""
        st = self._subjects.get((cluster, group, topic))
        return list(st.episodes) if st else []

    def replay(self, batches: Iterable[Sequence[GroupTopicSample]]) -> int:
        """Feed earlier cycles, oldest first, as if they had been observed live: the warm start
        (`kafka_detective.analysis.warm_start`). Returns the number of samples fed.

        No diagnosis runs during a replay: a diagnosis is about the present, so subjects with an open lag
        problem get theirs on the first live cycle, and a replay of hours stays cheap."""
        held, self.max_diagnoses = self.max_diagnoses, 0
        fed = 0
        try:
            for batch in batches:
                batch = list(batch)
                self.observe(batch)
                fed += len(batch)
        finally:
            self.max_diagnoses = held
        return fed

    def __len__(self) -> int:
        return len(self._subjects)

    # -- internals ------------------------------------------------------------------------------------

    def _expire(self) -> None:
        cutoff = self._latest - self.stale_seconds
        stale = [k for k, st in self._subjects.items() if st.last_seen < cutoff]
        for k in stale:
            del self._subjects[k]

    def _update(self, st: SubjectState, s: GroupTopicSample) -> None:
        t = s.timestamp
        prev = st.last
        fc = st.forecaster
        fc.update(t, s.lag, s.log_end_offset, s.committed_offset, s.lag_seconds)
        st.capacity.update(t, s.committed_offset, s.log_end_offset, s.lag)
        st.history.add(s)
        st.last = s
        st.last_seen = t
        if st.first_seen is None:
            st.first_seen = t
        st.observed += 1

        # anomaly scores
        dets = st.detectors
        scores = {}
        produce_rate = fc.produce.last_rate if prev is not None else None
        consume_rate = fc.consume.last_rate if prev is not None else None
        if produce_rate is not None:
            scores["produce_rate"] = dets[0].update(t, produce_rate)
        if consume_rate is not None:
            scores["consume_rate"] = dets[1].update(t, consume_rate)
        dets[2].abs_floor = max(10.0, LAG_FLOOR_SECONDS * fc.produce.level)
        scores["lag"] = dets[2].update(t, float(s.lag))
        if s.lag_seconds is not None:
            scores["lag_seconds"] = dets[3].update(t, s.lag_seconds)
        if prev is not None:
            # rebalances over the last ~10 minutes (exponentially decayed count)
            decay = math.exp(-(t - prev.timestamp) / 600.0)
            st.rebalance_rate = st.rebalance_rate * decay + max(0, s.rebalances_total - prev.rebalances_total)
            scores["rebalances"] = dets[4].update(t, st.rebalance_rate)
        st.scores = scores

        pred, lower, upper = fc.predict_interval(self.horizons)
        catch_up = fc.catch_up_seconds() if s.lag > 0 else None
        breach = fc.retention_breach_seconds(s.retention_seconds, s.lag_seconds)

        # lag problem? (hysteresis: stays on for problem_hold seconds after the last evidence)
        problem = False
        produce_level = max(fc.produce.level, 0.0)
        # a lag problem needs a material backlog: over `min_backlog_seconds` of production or of message age
        # beyond what the group usually shows (batched and every-N-seconds commits swing the lag by minutes of
        # production on a healthy group)
        usual = st.usual
        # An old message with few messages behind is one partition lagging: a hot key consumed at 90 % of its pace
        # ages its oldest message by minutes over an hour, and is material only once that age is alarming; a
        # stopped partition ages it as fast as the clock.
        aging = (prev is not None and s.lag_seconds is not None and prev.lag_seconds is not None and t > prev.timestamp
                 and s.lag_seconds - prev.lag_seconds >= AGE_STOPPED_RATIO * (t - prev.timestamp))
        st.aging_steps = st.aging_steps + 1 if aging else 0
        age_bar = self.min_backlog_seconds * (1.0 if st.aging_steps >= AGE_STOPPED_STEPS else AGE_ONLY_FACTOR)
        material = s.lag > 0 and (
            s.lag >= self.min_backlog_seconds * produce_level + usual.backlog_at(produce_level)
            or (s.lag_seconds is not None and s.lag_seconds >= age_bar + usual.age_at(produce_level)))
        warmed = dets[2].long_n >= WARMED_SCORES
        lows = st.recent_lags
        if lows is not None:
            # Until the lag detector knows the group, a commit sawtooth (a commit every few minutes: the lag climbs
            # to minutes of production and falls back near zero) reads as runaway growth and its peaks as a backlog
            # that the usual backlog, still learning, does not cover yet: after every exporter restart, an hour of
            # `unknown`. A backlog is then material only if its low point over the last cycles is too.
            lows.append(float(s.lag))
            material = material and min(lows) >= self.min_backlog_seconds * produce_level
            if warmed:
                st.recent_lags = None
        # learnt only from cycles whose lag is not unusual; while the anomaly detectors warm up (their scores are
        # 0) only from calm ones, no open problem and no lag trend: a backlog growing from the start must not
        # become the usual
        if scores.get("lag", 0.0) < USUAL_MAX_SCORE and scores.get("lag_seconds", 0.0) < USUAL_MAX_SCORE \
                and (warmed or (st.problem_since is None and fc.mode == 0)):
            usual.update(s.lag / produce_level if produce_level > 0 else 0.0, s.lag_seconds, produce_level)
        if material:
            # growing: the significant growth rate, damped over an hour, would add this much within the longest
            # horizon (the point forecast of a young growth projects it for only as long as it has lasted)
            hmax = self.horizons[-1] if self.horizons else 0
            growth = fc.growth_rate() * 3600.0 * (1.0 - math.exp(-hmax / 3600.0))
            if (scores.get("lag", 0.0) >= 0.8 or scores.get("lag_seconds", 0.0) >= 0.8
                    or (growth > 0 and growth >= max(300.0 * produce_level, 100.0) and growth >= 0.5 * s.lag)
                    or (s.lag_seconds is not None and s.lag_seconds >= 600.0
                        and (s.retention_seconds is None or s.lag_seconds >= 0.1 * s.retention_seconds))
                    or (breach is not None and breach < 6 * 3600.0)
                    or (prev is not None and s.lost_messages_total > prev.lost_messages_total)):
                problem = True
        # First signs: short, intermittent and partial episodes never build a material backlog.
        # A first sign is one the backlog confirms: the lag AND the age of the oldest message anomalous (a
        # commit sawtooth raises the lag, not the age), or a structural sign (frozen partitions, a leader change
        # while the lag rises, an empty group while messages arrive).
        behind = s.lag > 0 and s.lag >= FIRST_SIGN_BACKLOG_SECONDS * produce_level
        leader_changed = prev is not None and s.leader_changes_total > prev.leader_changes_total
        lag_score = scores.get("lag", 0.0)
        # frozen partitions sign only beyond the group's usual oldest message at this rate (with a margin): a batch
        # that takes minutes to fill in the night's trough leaves its partitions unconsumed that long every time
        frozen_sign = bool(s.frozen_partitions) and (
            s.lag_seconds is None or s.lag_seconds >= FROZEN_USUAL_AGE_FACTOR * usual.age_at(produce_level))
        sign = s.lag > 0 and (
            frozen_sign
            or (behind and lag_score >= FIRST_SIGN_SCORE
                and (s.lag_seconds is None or (scores.get("lag_seconds", 0.0) >= FIRST_SIGN_SCORE
                                               and s.lag_seconds >= FIRST_SIGN_AGE_SECONDS)))
            or (behind and lag_score >= 0.5 and leader_changed)
            or (behind and s.state in ("Empty", "Dead") and produce_level > 0))
        st.sign_steps = st.sign_steps + 1 if sign else 0
        # a leader change is an event, not noise: its lag bump may last a single cycle
        if st.sign_steps >= FIRST_SIGN_STEPS or (behind and leader_changed):
            problem = True
        # The recurrence itself opens the problem: a material backlog at the time of day of earlier explained
        # episodes is the nightly batch again, even once the daily profiles of the rates and the lag have learnt it
        # as normal (no anomaly) and it grows no faster than on other nights. A daily peak the consumers absorb
        # builds no material backlog, and a subject without earlier episodes at that hour opens nothing here.
        if material and not problem and st.episodes and _recurs(st, t, self.episode_rules):
            problem = True
        if st.observed <= WARMUP_CYCLES:
            problem = False
        if problem:
            if st.problem_since is None:
                st.problem_since = t
                st.onset = dets[2].excursion_start(t)
                st.diag_t = -math.inf
            st.problem_until = t + self.problem_hold
        elif st.problem_since is not None and t > st.problem_until:
            if st.votes:
                episodes = st.episodes
                episodes.append((st.problem_since, st.problem_until - self.problem_hold,
                                 _episode_cause(st.votes)))
                if len(episodes) > self.episode_rules.keep:
                    del episodes[0]
                st.votes = {}
            st.problem_since = None
            st.onset = None
            st.diagnosis = None

        if st.problem_since is not None and t - st.diag_t >= self.diagnose_every:
            self._pending.append(st)

        st.result = GroupTopicAnalysis(
            cluster=s.cluster, group=s.group, topic=s.topic,
            predicted_lag=pred, predicted_lag_upper=upper,
            catch_up_seconds=catch_up, retention_breach_seconds=breach,
            predicted_lag_lower=lower, lag_growth_rate=fc.growth_rate(),
            lag_seconds_growth_rate=fc.lag_seconds_growth_rate() if s.lag_seconds is not None else None,
            anomaly_scores=scores if material else _immaterial(scores),
            diagnosis=st.diagnosis if st.problem_since is not None else None,
        )

    def _diagnose_pending(self) -> None:
        """Run the due diagnoses, the longest-waiting first, at most `max_diagnoses_per_cycle` of them."""
        pending = self._pending
        self._pending = []
        pending.sort(key=lambda st: st.diag_t)
        for st in pending[: self.max_diagnoses]:
            s = st.last
            if s is None or st.result is None or st.problem_since is None:
                continue
            st.diag_t = s.timestamp
            st.diagnosis = self._run_diagnose(st, s)
            st.result = replace(st.result, diagnosis=st.diagnosis)

    def _run_diagnose(self, st: SubjectState, s: GroupTopicSample) -> Diagnosis | None:
        history = st.history.samples(s.cluster, s.group, s.topic)
        if history and history[-1].timestamp == s.timestamp:
            history[-1] = s          # the live sample carries what the compact record drops (frozen ids)
        else:
            history.append(s)
        try:
            d = rootcause.diagnose(history, onset=st.onset, shown_capacity=st.capacity.value(s.timestamp))
            st.votes[d.cause] = st.votes.get(d.cause, 0) + 1
            return _with_pattern(d, _episode_pattern(st, d.cause, s.timestamp, self.episode_rules), s.timestamp)
        except Exception:   # the exporter must keep serving whatever the analysis does
            if not self._diagnose_failed:
                log.exception("root-cause diagnosis failed for %s/%s/%s", s.cluster, s.group, s.topic)
                self._diagnose_failed = True
            return None


def _immaterial(scores: dict[str, float]) -> dict[str, float]:
    """The scores to publish while the backlog is immaterial: lag and lag seconds capped (the engine's own first
    signs still read the uncapped scores)."""
    if scores.get("lag", 0.0) <= IMMATERIAL_SCORE_CAP and scores.get("lag_seconds", 0.0) <= IMMATERIAL_SCORE_CAP:
        return scores          # the usual case: nothing to cap, no copy
    capped = dict(scores)
    for signal in ("lag", "lag_seconds"):
        if capped.get(signal, 0.0) > IMMATERIAL_SCORE_CAP:
            capped[signal] = IMMATERIAL_SCORE_CAP
    return capped


def _episode_cause(votes: dict[str, int]) -> str:
    """The cause an ended problem is remembered by: the one most diagnosed among those that explained it. A short
    burst is a producer spike for a few minutes, then its long drain has nothing left to explain (`unknown`):
    the episode was explained all the same, and the next night's recurrence must see it."""
    explained = {c: n for c, n in votes.items() if c != "unknown"} or votes
    return max(explained, key=explained.__getitem__)


def _explained(st: SubjectState) -> list[tuple[float, float]]:
    """The subject's past episodes that had a cause (an `unknown` one is no evidence of a pattern)."""
    return [(a, b) for a, b, c in st.episodes if c != "unknown"]


def _recurs(st: SubjectState, t: float, rules: episode_rules.EpisodeRules) -> bool:
    """Did explained episodes start at this time of day on earlier days (the `recurring` rule, asked now)?"""
    return episode_rules.recurring(_explained(st), t, st.first_seen or t, rules) is not None


def _episode_pattern(st: SubjectState, cause: str, now: float,
                     rules: episode_rules.EpisodeRules) -> episode_rules.Pattern | None:
    """Does the current episode repeat earlier ones: at the same time of day on other days (any cause, even an
    `unknown` one: a batch can look like a spike one night, a slowdown the next and too little to tell on a
    third, and the time of day is the evidence), or a few hours ago with the same cause (intermittent)?"""
    if not st.episodes:
        return None
    since, first = st.problem_since or now, st.first_seen or now
    if cause == "unknown":
        return episode_rules.recurring(_explained(st), since, first, rules)
    pattern = episode_rules.pattern(_explained(st), since, first, rules)
    if pattern is None or pattern.cause != "intermittent":
        return pattern
    same = episode_rules.pattern([(a, b) for a, b, c in st.episodes if c == cause], since, first, rules)
    return same if same is not None and same.cause == "intermittent" else None


PATTERN_CAUSES: tuple[str, ...] = ("recurring", "intermittent")   # the causes `_with_pattern` names


def pattern_note(d: Diagnosis | None) -> str | None:
    """The sentence naming the recurrence of a `recurring` or `intermittent` diagnosis ("daily at ~03:00 UTC, 3
    of the last 4 days ...; each time: producer_spike"): `_with_pattern` makes it the first evidence line."""
    if d is None or d.cause not in PATTERN_CAUSES or not d.evidence:
        return None
    return d.evidence[0].note


def _with_pattern(d: Diagnosis, pattern: episode_rules.Pattern | None, t: float) -> Diagnosis:
    """A recurring or intermittent episode is named as such; the single-episode cause stays second (it tells
    what happens each time) and the recurrence is the first evidence line."""
    if pattern is None or d.cause in ("retention_loss", "broker_failure", "disk_pressure"):
        return d
    alternatives = ((pattern.cause, d.confidence),
                    *((c, v) for c, v in d.alternatives if c != pattern.cause))[:3]
    note = Evidence("kafka_consumergroup_lag_sum", float(pattern.count), 1.0, 2.0, t,
                    f"{pattern.note}; each time: {d.cause}", (pattern.cause,))
    remediation = rootcause.REMEDIATION
    return replace(d, cause=pattern.cause, alternatives=alternatives, evidence=(note, *d.evidence),
                   remediation=remediation[pattern.cause] + " Each episode looks like: " + remediation[d.cause])
