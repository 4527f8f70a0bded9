"""Learning patterns from labelled incidents (`kafka-detective learn`).

An incident file names a window, a subject and a cause:

    name: checkout-3am-spike            # optional (default: <consumergroup>-<cause>-<date>)
    window: {start: 2026-11-20T03:00:00Z, end: 2026-11-20T03:40:00Z}   # RFC 3339 or unix seconds
    subject: {cluster: prod, consumergroup: checkout, topic: orders}
    cause: producer_spike               # one of ROOT_CAUSES
    notes: Nightly import job doubled the order events.
    recurrences: [{start: ..., end: ...}]   # optional: other windows of the same incident (firing there is correct)

From the subject's history around the window `signature()` extracts which signals deviated from their
pre-window baseline, in which direction, by how much (robust effect size) and in which order.
`pattern_from_signature()` turns the signature into an alert expression over the exporter's metrics (and
the library's recording rules): the lag is high and growing AND every deviated signal is beyond a threshold
relative to its own recent baseline. `replay_rule()` evaluates that expression in Python on a 1-minute grid over
the whole history (the same windows as the PromQL) and the thresholds are tuned to fire on the incident
and stay silent elsewhere; the precision is reported. The pattern file (patterns/learned/<name>.yaml,
pattern library format, with promtool unit tests cut from the incident) and the signature
(<name>.signature.json, which feeds "similar past incidents" in `investigate`) are written side by side.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kafka_detective.analysis.model import ROOT_CAUSES
from kafka_detective.analysis.signatures import COUNT_SIGNALS, Signature, signature
from kafka_detective.errors import UserError
from kafka_detective.signals.samples import GroupTopicSample
from kafka_detective_tools.patterns.model import Library

EVAL_STEP = 60.0              # replay / promtool evaluation interval (seconds)
RATE_WINDOW = 300.0           # the library's recording rules use rate(...[5m])
BASELINE_WINDOW = 3600.0      # avg_over_time(...[1h] offset 30m)
BASELINE_OFFSET = 1800.0
COUNT_WINDOW = 600.0          # increase(...[10m])
LAG_WINDOW = 600.0            # deriv(...[10m])
FOR_SECONDS = 120.0


# --- incident file ----------------------------------------------------------------------------------------


@dataclass
class LabelledIncident:
    name: str
    start: float
    end: float
    cluster: str
    consumergroup: str
    topic: str
    cause: str
    notes: str = ""
    path: str = ""
    recurrences: list[tuple[float, float]] = field(default_factory=list)   # other windows of the same incident


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "incident"


def load_incident(path: str | Path) -> LabelledIncident:
    from kafka_detective.yamlio import load_file
    from kafka_detective_tools.investigation.sources import parse_time

    path = Path(path)
    data = load_file(path, "incident")
    if not isinstance(data, dict):
        raise UserError(f"{path}: an incident must be a YAML mapping")

    def need(doc, key, where):
        if not isinstance(doc, dict) or doc.get(key) in (None, ""):
            raise UserError(f"{path}: missing field '{where}{key}'")
        return doc[key]

    window = need(data, "window", "")
    subject = need(data, "subject", "")
    start = need(window, "start", "window.")
    end = need(window, "end", "window.")
    cluster = str(need(subject, "cluster", "subject."))
    group = str(need(subject, "consumergroup", "subject."))
    topic = str(need(subject, "topic", "subject."))
    cause = str(need(data, "cause", ""))
    if cause not in ROOT_CAUSES:
        raise UserError(f"{path}: field 'cause': {cause!r} is not one of {', '.join(ROOT_CAUSES)}")
    try:
        t0, t1 = parse_time(start if not isinstance(start, datetime) else start.timestamp()), \
            parse_time(end if not isinstance(end, datetime) else end.timestamp())
    except UserError as error:
        raise UserError(f"{path}: field 'window': {error}") from None
    if t1 <= t0:
        raise UserError(f"{path}: field 'window.end' must be after window.start")
    name = data.get("name") or f"{group}-{cause}-{datetime.fromtimestamp(t0, tz=UTC):%Y%m%d-%H%M}"
    recurrences = []
    for i, w in enumerate(data.get("recurrences") or []):
        a = need(w, "start", f"recurrences[{i}].")
        b = need(w, "end", f"recurrences[{i}].")
        try:
            recurrences.append((parse_time(a), parse_time(b)))
        except UserError as error:
            raise UserError(f"{path}: field 'recurrences[{i}]': {error}") from None
    return LabelledIncident(name=_slug(str(name)), start=t0, end=t1, cluster=cluster, consumergroup=group, topic=topic,
                    cause=cause, notes=str(data.get("notes") or ""), path=str(path), recurrences=recurrences)


# --- signature --------------------------------------------------------------------------------------------

# --- conditions, PromQL and replay ------------------------------------------------------------------------


@dataclass
class Condition:
    signal: str
    op: str                 # ">" or "<" (ratio conditions compare with factor x baseline)
    threshold: float        # factor for ratio conditions, absolute value otherwise
    kind: str               # ratio | count | level

    def promql(self, sel: dict[str, str | None]) -> str:
        from kafka_detective.prometheus_api import selector

        gt = selector(cluster=sel["cluster"], consumergroup=sel["consumergroup"], topic=sel["topic"])
        g = selector(cluster=sel["cluster"], consumergroup=sel["consumergroup"])
        tp = selector(cluster=sel["cluster"], topic=sel["topic"])
        c = selector(cluster=sel["cluster"])
        thr = _fmt(self.threshold)
        base = f"[{int(BASELINE_WINDOW // 60)}m] offset {int(BASELINE_OFFSET // 60)}m"
        cw = f"[{int(COUNT_WINDOW // 60)}m]"
        if self.signal == "produce_rate":
            m = f"kafka:topic_produce_rate:rate[[ rate_window ]]{tp}"
            return f"on (cluster, topic) {m} {self.op} {thr} * avg_over_time({m}{base})"
        if self.signal == "consume_rate":
            m = f"kafka:consumergroup_consume_rate:rate[[ rate_window ]]{gt}"
            return f"on (cluster, consumergroup, topic) {m} {self.op} {thr} * avg_over_time({m}{base})"
        if self.signal == "rebalances":
            return f"on (cluster, consumergroup) increase(kafka_consumergroup_rebalances_total{g}{cw}) >= {thr}"
        if self.signal == "leader_changes":
            return (f"on (cluster, topic) sum by (cluster, topic) "
                    f"(increase(kafka_topic_partition_leader_changes_total{tp}{cw})) >= {thr}")
        if self.signal == "lost_messages":
            return (f"on (cluster, consumergroup, topic) "
                    f"increase(kafka_consumergroup_lost_messages_total{gt}{cw}) >= {thr}")
        if self.signal == "members":
            return f"on (cluster, consumergroup) kafka_consumergroup_members{g} {self.op} {thr}"
        if self.signal in ("under_replicated", "offline"):
            metric = ("kafka_topic_partition_under_replicated_partition" if self.signal == "under_replicated"
                      else "kafka_topic_partition_offline")
            return f"on (cluster, topic) sum by (cluster, topic) ({metric}{tp}) {self.op} {thr}"
        if self.signal == "disk":
            return f"on (cluster) max by (cluster) (kafka:broker_log_dir_used:ratio{c}) {self.op} {thr}"
        raise ValueError(self.signal)


PROMQL_SIGNALS = ("produce_rate", "consume_rate", "rebalances", "leader_changes", "lost_messages", "members",
                  "under_replicated", "offline", "disk")


def _fmt(v: float) -> str:
    if v == int(v):
        return str(int(v))
    return f"{v:.3g}"


@dataclass
class LearnedRule:
    """The learned alert condition. `expr()` keeps the library's `[[ rate_window ]]` placeholder (the recording
    rules' names depend on it); `resolved(config)` substitutes it."""

    conditions: list[Condition]
    lag_min: float
    subject: dict[str, str | None]
    rate_window: float = RATE_WINDOW

    def resolved(self, config: dict) -> str:
        return resolve(self.expr(), config)

    def expr(self) -> str:
        from kafka_detective.prometheus_api import selector

        sel = self.subject
        gt = selector(cluster=sel["cluster"], consumergroup=sel["consumergroup"], topic=sel["topic"])
        lines = [f"kafka_consumergroup_lag_sum{gt} > {_fmt(self.lag_min)}",
                 f"and on (cluster, consumergroup, topic) deriv(kafka_consumergroup_lag_sum{gt}"
                 f"[{int(LAG_WINDOW // 60)}m]) > 0"]
        for c in self.conditions:
            lines.append(f"and {c.promql(sel)}")
        return "\n".join(lines) + "\n"


class _Grid:
    """Step-held values of the samples on the evaluation grid (like Prometheus' lookback)."""

    def __init__(self, history: Sequence[GroupTopicSample], step: float = EVAL_STEP) -> None:
        self.history = history
        self.t0 = history[0].timestamp
        self.t1 = history[-1].timestamp
        n = int((self.t1 - self.t0) // step) + 1
        self.times = [self.t0 + i * step for i in range(n)]
        idx, j = [], 0
        for x in self.times:
            while j + 1 < len(history) and history[j + 1].timestamp <= x + 1e-6:
                j += 1
            idx.append(j)
        self.idx = idx
        self.step = step

    def at(self, k: int, attr: str) -> float | None:
        if k < 0:
            return None
        v = getattr(self.history[self.idx[k]], attr)
        return None if v is None else float(v)


def _rate(grid: _Grid, k: int, attr: str, window: float) -> float | None:
    back = round(window / grid.step)
    if k - back < 0:
        return None
    a, b = grid.at(k - back, attr), grid.at(k, attr)
    if a is None or b is None:
        return None
    return max(0.0, b - a) / window


def replay_rule(history: Sequence[GroupTopicSample], rule: LearnedRule, for_seconds: float = FOR_SECONDS
           ) -> list[tuple[float, bool]]:
    """(time, firing) on the 1-minute grid: the Python twin of the PromQL expression and its `for`."""
    grid = _Grid(history)
    n = len(grid.times)
    rates: dict[str, list[float | None]] = {}
    for name, attr in (("produce_rate", "log_end_offset"), ("consume_rate", "committed_offset")):
        rates[name] = [_rate(grid, k, attr, rule.rate_window) for k in range(n)]
    cond_true = []
    back_base = round(BASELINE_OFFSET / grid.step)
    span_base = round(BASELINE_WINDOW / grid.step)
    cw = round(COUNT_WINDOW / grid.step)
    lw = round(LAG_WINDOW / grid.step)
    for k in range(n):
        lag = grid.at(k, "lag")
        ok = lag is not None and lag > rule.lag_min
        if ok:
            # deriv over the window: least-squares slope of the lag
            window = [(grid.times[j], grid.at(j, "lag")) for j in range(max(0, k - lw + 1), k + 1)]
            pts = [(x, y) for x, y in window if y is not None]
            if len(pts) < 2:
                ok = False
            else:
                mx = sum(x for x, _ in pts) / len(pts)
                my = sum(y for _, y in pts) / len(pts)
                sxx = sum((x - mx) ** 2 for x, _ in pts)
                slope = sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else 0.0
                ok = slope > 0
        for c in rule.conditions if ok else ():
            if c.kind == "ratio":
                cur = rates[c.signal][k]
                lo, hi = k - back_base - span_base + 1, k - back_base
                if cur is None or lo < 0:
                    ok = False
                    break
                vals = [v for j in range(lo, hi + 1) if (v := rates[c.signal][j]) is not None]
                if not vals:
                    ok = False
                    break
                base = sum(vals) / len(vals)
                ok = cur > c.threshold * base if c.op == ">" else cur < c.threshold * base
            elif c.kind == "count":
                attr = {"rebalances": "rebalances_total", "leader_changes": "leader_changes_total",
                        "lost_messages": "lost_messages_total"}[c.signal]
                a, b = grid.at(k - cw, attr), grid.at(k, attr)
                ok = a is not None and b is not None and max(0.0, b - a) >= c.threshold
            else:
                attr = {"members": "members", "under_replicated": "under_replicated_partitions",
                        "offline": "offline_partitions", "disk": "disk_used_ratio"}[c.signal]
                v = grid.at(k, attr)
                ok = v is not None and (v > c.threshold if c.op == ">" else v < c.threshold)
            if not ok:
                break
        cond_true.append(ok)
    need = round(for_seconds / grid.step)
    out, run = [], 0
    for k in range(n):
        run = run + 1 if cond_true[k] else 0
        out.append((grid.times[k], run > need))
    return out


@dataclass
class ReplayScore:
    fired_on_incident: bool
    precision: float             # firing minutes inside the incident (+ grace) / all firing minutes
    recall: float                # incident minutes with the alert firing / incident minutes
    first_fire_delay: float | None   # seconds after the window start
    firing_minutes: int
    false_minutes: int
    false_episodes: list[tuple[float, float]] = field(default_factory=list)   # firing outside, (start, end)
    recurrence_minutes: int = 0  # firing inside the listed recurrences (counted as correct)


def score_replay(firing: list[tuple[float, bool]], start: float, end: float, grace: float = 900.0,
                 recurrences: Sequence[tuple[float, float]] = ()) -> ReplayScore:
    def near(t: float, a: float, b: float) -> bool:
        return a - 300 <= t <= b + grace

    inside = [f for t, f in firing if near(t, start, end)]
    fired = [t for t, f in firing if f]
    good = [t for t in fired if near(t, start, end)]
    again = [t for t in fired if not near(t, start, end) and any(near(t, a, b) for a, b in recurrences)]
    bad = [t for t in fired if not near(t, start, end) and not any(near(t, a, b) for a, b in recurrences)]
    in_window = [f for t, f in firing if start <= t <= end]
    first = next((t for t in fired if t >= start - 300), None)
    episodes: list[tuple[float, float]] = []
    step = firing[1][0] - firing[0][0] if len(firing) > 1 else EVAL_STEP
    for t in bad:
        if episodes and t - episodes[-1][1] <= step * 1.5:
            episodes[-1] = (episodes[-1][0], t)
        else:
            episodes.append((t, t))
    return ReplayScore(
        fired_on_incident=any(inside),
        precision=((len(good) + len(again)) / len(fired)) if fired else 0.0,
        recall=(sum(in_window) / len(in_window)) if in_window else 0.0,
        first_fire_delay=None if first is None else first - start,
        firing_minutes=len(fired), false_minutes=len(bad), false_episodes=episodes,
        recurrence_minutes=len(again))


def _candidate_conditions(sig: Signature, alpha: float) -> list[Condition]:
    conds = []
    by = {s.signal: s for s in sig.signals}
    for name in PROMQL_SIGNALS:
        s = by.get(name)
        if s is None or not s.deviated:
            continue
        if name in ("produce_rate", "consume_rate"):
            if not s.ratio or s.ratio <= 0:
                if name == "consume_rate" and s.direction == "down":
                    conds.append(Condition(name, "<", 0.5 ** alpha * 0.5, "ratio"))
                continue
            factor = s.ratio ** alpha
            conds.append(Condition(name, ">" if s.direction == "up" else "<", round(factor, 3), "ratio"))
        elif name in COUNT_SIGNALS:
            if s.direction != "up":
                continue
            per_window = s.value * COUNT_WINDOW / max(1.0, sig.end - sig.start)
            conds.append(Condition(name, ">=", max(1.0, float(math.floor(per_window * alpha + 0.5))), "count"))
        elif name == "disk":
            conds.append(Condition(name, ">" if s.direction == "up" else "<",
                                   round(s.baseline + (s.value - s.baseline) * alpha, 3), "level"))
        else:   # members, under_replicated, offline
            mid = s.baseline + (s.value - s.baseline) * alpha
            if name == "members" and s.value <= 0:
                conds.append(Condition(name, "<", 0.5, "level"))
            else:
                conds.append(Condition(name, ">" if s.direction == "up" else "<", round(mid, 3), "level"))
    return conds


@dataclass
class LearnResult:
    incident: LabelledIncident
    signature: Signature
    rule: LearnedRule
    score: ReplayScore
    tried: list[tuple[float, ReplayScore]]
    expression: str = ""          # the learned alert expression, placeholders resolved with the library's config
    pattern_path: Path | None = None
    signature_path: Path | None = None
    promtool: str | None = None     # "passed", "failed: ...", "skipped: ..."
    library_check: str | None = None    # the pattern library's loader on the library with the new file


def learn_rule(history: Sequence[GroupTopicSample], incident: LabelledIncident, sig: Signature, scope: str = "subject",
               rate_window: float = RATE_WINDOW) -> tuple[LearnedRule, ReplayScore, list[tuple[float, ReplayScore]]]:
    """Choose the thresholds (a fraction alpha of the observed deviation, in log space for ratios) that fire
    on the incident with the best precision."""
    subject: dict[str, str | None] = {"cluster": incident.cluster, "consumergroup": incident.consumergroup,
                                      "topic": incident.topic}
    if scope == "cluster":
        subject = {"cluster": incident.cluster, "consumergroup": None, "topic": None}
    elif scope == "all":
        subject = {"cluster": None, "consumergroup": None, "topic": None}
    lag = next((s for s in sig.signals if s.signal == "lag"), None)
    peak = lag.value if lag else max(s.lag for s in history)
    base_lag = lag.baseline if lag else 0.0
    tried = []
    best = None
    for alpha in (0.5, 0.3, 0.7, 0.9):
        for lag_frac in (0.2, 0.1, 0.4):
            lag_min = float(round(max(10.0, base_lag + lag_frac * (peak - base_lag))))
            rule = LearnedRule(_candidate_conditions(sig, alpha), lag_min, subject, rate_window)
            sc = score_replay(replay_rule(history, rule), incident.start, incident.end,
                              recurrences=incident.recurrences)
            tried.append((alpha, sc))
            key = (sc.fired_on_incident, round(sc.precision, 3), sc.recall > 0.2, -(sc.first_fire_delay or 1e9))
            if best is None or key > best[0]:
                best = (key, rule, sc)
    assert best is not None
    return best[1], best[2], tried


# --- pattern file -----------------------------------------------------------------------------------------

_SEVERITY = {"consumer_down": "critical", "consumer_stalled": "critical", "retention_loss": "critical",
             "broker_failure": "critical"}


def alert_name(name: str) -> str:
    return "KafkaLearned" + "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]+", name) if part)


def _input_series(history: Sequence[GroupTopicSample], rule: LearnedRule, until: float, start: float
                  ) -> list[dict]:
    """promtool input series (1m interval, starting at `start`) for the metrics the expression reads."""
    from kafka_detective.prometheus_api import selector

    s0 = history[0]
    grid = _Grid(history)
    ks = [k for k, t in enumerate(grid.times) if start <= t <= until]
    sel = {"cluster": s0.cluster, "consumergroup": s0.group, "topic": s0.topic}
    gt = selector(**sel)
    g = selector(cluster=s0.cluster, consumergroup=s0.group)
    p0 = selector(cluster=s0.cluster, topic=s0.topic, partition="0")
    wanted = [("kafka_consumergroup_lag_sum" + gt, "lag")]
    used = {c.signal for c in rule.conditions}
    if "produce_rate" in used:
        wanted.append(("kafka_topic_partition_current_offset" + p0, "log_end_offset"))
    if "consume_rate" in used:
        wanted.append(("kafka_consumergroup_current_offset_sum" + gt, "committed_offset"))
    if "rebalances" in used:
        wanted.append(("kafka_consumergroup_rebalances_total" + g, "rebalances_total"))
    if "leader_changes" in used:
        wanted.append(("kafka_topic_partition_leader_changes_total" + p0, "leader_changes_total"))
    if "lost_messages" in used:
        wanted.append(("kafka_consumergroup_lost_messages_total" + gt, "lost_messages_total"))
    if "members" in used:
        wanted.append(("kafka_consumergroup_members" + g, "members"))
    if "under_replicated" in used:
        wanted.append(("kafka_topic_partition_under_replicated_partition" + p0, "under_replicated_partitions"))
    if "offline" in used:
        wanted.append(("kafka_topic_partition_offline" + p0, "offline_partitions"))
    out = []
    for series, attr in wanted:
        vals = [grid.at(k, attr) for k in ks]
        out.append({"series": series, "values": " ".join("_" if v is None else _fmt(round(v, 6)) for v in vals)})
    if "disk" in used:
        d = selector(cluster=s0.cluster, broker_id="1", log_dir="/data")
        vals = [grid.at(k, "disk_used_ratio") for k in ks]
        out.append({"series": "kafka_broker_log_dir_total_bytes" + d, "values": " ".join(
            "_" if v is None else "1000000" for v in vals)})
        out.append({"series": "kafka_broker_log_dir_usable_bytes" + d, "values": " ".join(
            "_" if v is None else str(round(1_000_000 * (1 - v))) for v in vals)})
    return out


def _minutes(seconds: float) -> str:
    return f"{max(1, round(seconds / 60))}m"


def build_pattern(history: Sequence[GroupTopicSample], incident: LabelledIncident, sig: Signature, rule: LearnedRule,
                  firing: list[tuple[float, bool]]) -> tuple[dict, dict]:
    """(pattern document, promtool test plan) for the learned rule."""
    from kafka_detective.analysis.rootcause import REMEDIATION, SUMMARY
    from kafka_detective.analysis.runbook import build_runbook

    name = incident.name
    alert = alert_name(name)
    fire_times = [t for t, f in firing if f and incident.start - 300 <= t <= incident.end + 900]
    quiet_times = [t for t, f in firing if not f and t < incident.start - 300]
    # The test slice starts late enough to be short, early enough for the baseline windows.
    needed_history = BASELINE_OFFSET + BASELINE_WINDOW + rule.rate_window + 120
    slice_start = max(history[0].timestamp, incident.start - needed_history - 600)
    slice_start = history[0].timestamp + math.ceil((slice_start - history[0].timestamp) / EVAL_STEP) * EVAL_STEP
    tests = []
    plan = {}
    if fire_times:
        t_fire = fire_times[min(len(fire_times) - 1, 2)]
        labels = {"cluster": incident.cluster, "consumergroup": incident.consumergroup, "topic": incident.topic}
        summary = f"Learned pattern {name} ({incident.cause}) matches {incident.consumergroup} on {incident.topic}."
        description = (f"Group {incident.consumergroup} in cluster {incident.cluster} shows the signature of "
                       f"incident {name}: lag growing, {sig.describe()}.")
        tests.append({"name": f"replay of incident {name}", "kind": "firing", "interval": "1m",
                      "input_series": _input_series(history, rule, t_fire, slice_start),
                      "eval_time": _minutes(t_fire - slice_start), "exp_labels": labels,
                      "exp_annotations": {"summary": summary, "description": description}})
        plan["fire_at"] = t_fire
    # Prefer a quiet time with the full baseline available (a real near miss); otherwise any quiet time.
    quiet = [t for t in quiet_times if t - slice_start >= needed_history] or \
        [t for t in quiet_times if t - slice_start >= 600]
    if quiet:
        t_quiet = quiet[-1]
        tests.append({"name": f"quiet history before incident {name}", "kind": "near_miss", "interval": "1m",
                      "input_series": _input_series(history, rule, t_quiet, slice_start),
                      "eval_time": _minutes(t_quiet - slice_start)})
        plan["quiet_at"] = t_quiet
    plan["slice_start"] = slice_start
    from kafka_detective.analysis.model import Diagnosis

    d = Diagnosis(cause=incident.cause, confidence=1.0, severity=_SEVERITY.get(incident.cause, "warning"),
                  onset=incident.start)
    rb = build_runbook(d, "$cluster", "$consumergroup", "$topic")
    gt = 'cluster="$cluster", consumergroup="$consumergroup", topic="$topic"'
    mitigation = [{"title": s.description, **({"promql": s.command.removeprefix("promql: ")}
                                              if s.command.startswith("promql: ") else {"command": s.command}),
                   "expected": s.expected} for s in rb.steps[1:]] or [
        {"title": "Follow the remediation", "command": "(see meaning)", "expected": "Lag decreasing"}]
    doc = {
        "alert": alert,
        "group": "kafka-detective.learned",
        "severity": _SEVERITY.get(incident.cause, "warning"),
        "scope": "consumergroup",
        "root_causes": [incident.cause],
        "diagnosis_label": True,
        "dashboard": "kafka-detective-consumer-groups",
        "dashboard_vars": ["cluster", "consumergroup"],
        "summary": f"Learned pattern {name} ({incident.cause}) matches {{{{ $labels.consumergroup }}}} on "
                   f"{{{{ $labels.topic }}}}.",
        "description": f"Group {{{{ $labels.consumergroup }}}} in cluster {{{{ $labels.cluster }}}} shows the "
                       f"signature of incident {name}: lag growing, {sig.describe()}.",
        "expr": rule.expr(),
        "for": _minutes(FOR_SECONDS),
        "meaning": (f"Learned by `kafka-detective learn` from incident {name} "
                    f"({datetime.fromtimestamp(incident.start, tz=UTC):%Y-%m-%d %H:%M} to "
                    f"{datetime.fromtimestamp(incident.end, tz=UTC):%H:%M} UTC, "
                    f"{incident.consumergroup}/{incident.topic} in {incident.cluster}), labelled "
                    f"`{incident.cause}` ({SUMMARY[incident.cause]}). Signature: {sig.describe()}. The "
                    f"expression fires when the lag is above {_fmt(rule.lag_min)} and growing and every deviated "
                    "signal is beyond its threshold relative to its own baseline (the hour ending 30 minutes "
                    "earlier)." + (f"\nNotes: {incident.notes.strip()}" if incident.notes.strip() else "")),
        "impact": REMEDIATION[incident.cause].split(". ")[0] + ". Lag grows until the cause is removed.",
        "diagnosis": [
            {"title": "Lag and its growth", "promql": f"kafka_consumergroup_lag_sum{{{gt}}}",
                          "expected": f"Above {_fmt(rule.lag_min)} and rising, as in incident {name}."},
            {"title": "What the analysis says", "promql": f"kafka_detective_diagnosis{{{gt}}}",
             "expected": f"Cause {incident.cause} with a high confidence if this is a repeat of {name}."},
            {"title": "Full investigation report",
             "command": "kafka-detective investigate --group $consumergroup --topic $topic --prometheus "
                        "$PROMETHEUS --since 2h",
             "expected": f"Diagnosis {incident.cause}; {name} listed under similar past incidents."},
        ],
        "mitigation": mitigation,
        "validation": [{"title": check, "promql": q, "expected": "Returns a result (the condition holds)."}
                       for check, q in rb.validation[:3]],
        "escalation": rb.escalation,
        "tests": tests,
    }
    return doc, plan


def promtool_confirm(doc: dict, library: Library) -> str:
    """Run the pattern's tests with promtool on a minimal rule file (the library's recording rules + this alert)."""
    from kafka_detective_tools.patterns import promql

    if not any(t["kind"] == "firing" for t in doc["tests"]):
        return "skipped: the rule never fired on the incident"
    try:
        promql.find_tool("promtool")
    except UserError:
        return "skipped: promtool not found"
    alert = {"alert": doc["alert"], "expr": resolve(doc["expr"], library.config), "for": doc["for"]}
    recording = [{"record": r.record, "expr": r.expr} for r in library.recording_rules]
    groups = [{"name": "recording", "rules": recording}, {"name": "learned", "rules": [alert]}]
    tests = []
    for t in doc["tests"]:
        exp = [{"exp_labels": dict(t["exp_labels"])}] if t["kind"] == "firing" else []
        tests.append({"interval": t["interval"], "input_series": t["input_series"],
                      "alert_rule_test": [{"eval_time": t["eval_time"], "alertname": doc["alert"],
                                           "exp_alerts": exp}]})
    problem = promql.run_rule_tests(groups, tests)
    return "passed" if problem is None else "failed: " + problem[:600]


def resolve(text: str, config: dict) -> str:
    """Substitute the library's `[[ key ]]` placeholders with the values of its config.yaml."""
    from kafka_detective_tools.patterns.config import substitute

    def missing(key: str) -> None:
        raise UserError(f"placeholder [[ {key} ]] is not a key of the pattern library's config.yaml")

    return substitute(text, config, missing)


def read_library(library_dir: Path, check_promql: bool = False) -> Library:
    """The pattern library learn extends, through the library's own loader (a broken file is an error naming
    it). The PromQL parse check (promtool) is left to `check_library`, after the new file is written."""
    from kafka_detective_tools.patterns.loader import load_library

    library_dir = Path(library_dir).resolve()
    return load_library(library_dir.parent, patterns_dir=library_dir, check_promql=check_promql)


def _rate_window(library: Library) -> float:
    from kafka_detective.durations import parse_promql_duration

    value = library.config.get("rate_window")
    if value is None:
        raise UserError("pattern library config.yaml: field 'rate_window': missing (the learned expressions read "
                        "the kafka:*:rate<window> recording rules)")
    return parse_promql_duration(str(value))


def write_learned(result_doc: dict, sig: Signature, library_dir: Path, name: str, overwrite: bool = False
                  ) -> tuple[Path, Path]:
    from kafka_detective_tools.patterns.render import dump_yaml

    out_dir = Path(library_dir) / "learned"
    out_dir.mkdir(parents=True, exist_ok=True)
    pattern_path = out_dir / f"{name}.yaml"
    sig_path = out_dir / f"{name}.signature.json"
    if pattern_path.exists() and not overwrite:
        raise UserError(f"{pattern_path} exists; pass --force to replace it or give the incident another name")
    header = (f"# Learned by `kafka-detective learn` from incident {name}. Edit freely; regenerate the rules\n"
              "# with `kafka-detective generate`. The signature beside it feeds `investigate`.\n")
    pattern_path.write_text(header + dump_yaml(result_doc), encoding="utf-8")
    sig_path.write_text(json.dumps(sig.to_dict(), indent=2) + "\n", encoding="utf-8")
    return pattern_path, sig_path


def learn(history: Sequence[GroupTopicSample], incident: LabelledIncident, library_dir: str | Path, *,
          scope: str = "subject", overwrite: bool = False, confirm_with_promtool: bool = True) -> LearnResult:
    sig = signature(history, incident.start, incident.end, name=incident.name, cause=incident.cause,
                    notes=incident.notes)
    library_dir = Path(library_dir)
    library = read_library(library_dir)
    rule, score, tried = learn_rule(history, incident, sig, scope, _rate_window(library))
    firing = replay_rule(history, rule)
    doc, _plan = build_pattern(history, incident, sig, rule, firing)
    result = LearnResult(incident, sig, rule, score, tried, expression=rule.resolved(library.config))
    if confirm_with_promtool:
        result.promtool = promtool_confirm(doc, library)
    result.pattern_path, result.signature_path = write_learned(doc, sig, library_dir, incident.name, overwrite)
    result.library_check = check_library(library_dir)
    return result


def check_library(library_dir: Path) -> str:
    """Load the whole library with its own loader (schema, metric names, PromQL via promtool)."""
    try:
        read_library(library_dir, check_promql=True)
    except UserError as error:
        return f"failed: {error}"
    return "passed"
