"""`/detective`: the case file of every open mystery, server-rendered from the online analytics.

Two read-only pages on the metrics port, plain HTML with inline CSS and SVG, no JavaScript:

- `/detective` lists every group/topic with an active diagnosis or a high anomaly score, worst first: cause,
  confidence, onset, lag, lag seconds, forecast and the alerts expected to fire;
- `/detective/case?cluster=..&group=..&topic=..` is the case file of one of them: the diagnosis, charts of the
  compact history the analytics keep (lag, lag seconds, produce vs consume rate, rebalances and leader changes,
  the onset marked), the ranked causes with the findings for and against each, the evidence, the subject's
  past lag problems (newest first, with the recurrence the analytics named from them) and the runbook with its
  PromQL filled in.

Safety: group and topic names are user input, so every value is escaped with `html.escape` where it is
written; query parameters are only ever keys of a dictionary lookup (an unknown subject is a 404); responses
carry a Content-Security-Policy that allows nothing but inline styles and data: images. The pages are pure
functions of a `Source` (what the collectors hold), so they are unit-tested and benchmarked without a server.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from itertools import pairwise
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from kafka_detective.analysis.model import Diagnosis, GroupTopicAnalysis
from kafka_detective.analysis.online import Episode, OnlineAnalytics, pattern_note
from kafka_detective.analysis.rootcause import SUMMARY
from kafka_detective.analysis.runbook import build_runbook
from kafka_detective.analysis.signatures import growth_phase, signature, similar_incidents
from kafka_detective.gathering.sharding import UNSHARDED, Shard, shard_of
from kafka_detective.serving import svg
from kafka_detective.serving.collector import Collector
from kafka_detective.signals.samples import GroupTopicSample

log = logging.getLogger(__name__)

PATH = "/detective"
CASE_PATH = "/detective/case"
CONTENT_TYPE = "text/html; charset=utf-8"
# Nothing may load or run: no scripts, no remote images or fonts, no frames, no form posts.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
AGAINST = "\u2717"          # the mark of a finding that argues against a cause ("✗ no rebalance around the onset")
HIGH_ANOMALY = 0.8          # the score at which the online analytics start treating a lag as a problem
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


# The pattern library's alerts specific to each cause (patterns/*.yaml `root_causes`; a unit test keeps this
# table in step with the library, which the exporter's image does not ship).
CAUSE_ALERTS: dict[str, tuple[str, ...]] = {
    "producer_spike": ("KafkaProducerTrafficSpike", "KafkaConsumerLagGrowing"),
    "consumer_down": ("KafkaConsumerGroupEmpty",),
    "consumer_stalled": ("KafkaConsumerStalled",),
    "rebalance_storm": ("KafkaConsumerRebalanceStorm",),
    "consumer_cpu_saturation": ("KafkaConsumerSlowdown", "KafkaConsumerRebalanceStorm"),
    "consumer_slowdown": ("KafkaConsumerSlowdown", "KafkaConsumerLagGrowing"),
    "leader_election": ("KafkaLeaderElections",),
    "broker_failure": ("KafkaBrokerMissing", "KafkaOfflinePartitions", "KafkaUnderReplicatedPartitions"),
    "broker_skew": ("KafkaBrokerLeaderSkew", "KafkaPreferredLeaderImbalance"),
    "disk_pressure": ("KafkaBrokerDiskPressure", "KafkaBrokerDiskFullPredicted"),
    "retention_loss": ("KafkaConsumerMessagesLost",),
}
# Default thresholds of patterns/config.yaml, for the alerts that follow directly from the current values.
LAG_SECONDS_WARNING = 300.0
LAG_SECONDS_CRITICAL = 1800.0
RETENTION_BREACH_WARNING = 3600.0


# --- what the pages read ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subject:
    analysis: GroupTopicAnalysis
    latest: GroupTopicSample | None = None   # the newest sample the analytics saw (lag, lag seconds, members)

    @property
    def key(self) -> tuple[str, str, str]:
        a = self.analysis
        return (a.cluster, a.group, a.topic)


class Source(Protocol):
    def subjects(self) -> list[Subject]: ...

    def history(self, cluster: str, group: str, topic: str) -> list[GroupTopicSample]: ...

    def episodes(self, cluster: str, group: str, topic: str) -> list[Episode]: ...


class CollectorSource:
    """The collectors' latest analysis results; nothing here writes to them.

    A collector replaces its result list whole each cycle, so reading it from an HTTP thread needs no lock."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def subjects(self) -> list[Subject]:
        out: list[Subject] = []
        for collector in self.collectors:
            analytics = getattr(collector, "analytics", None)
            latest = getattr(analytics, "latest", None)
            for a in getattr(collector, "analysis", ()):
                out.append(Subject(a, latest(a.cluster, a.group, a.topic) if latest and listed(a) else None))
        return out

    def history(self, cluster: str, group: str, topic: str) -> list[GroupTopicSample]:
        for collector in self.collectors:
            analytics: OnlineAnalytics | None = getattr(collector, "analytics", None)
            if analytics is not None and collector.cluster.name == cluster:
                try:
                    return analytics.history(cluster, group, topic)
                except (IndexError, RuntimeError):   # the ring buffer turned while it was read: draw without
                    return []
        return []

    def episodes(self, cluster: str, group: str, topic: str) -> list[Episode]:
        for collector in self.collectors:
            analytics = getattr(collector, "analytics", None)
            if analytics is not None and collector.cluster.name == cluster:
                past: list[Episode] = analytics.episodes(cluster, group, topic)   # a copy, taken in one step
                return past
        return []


@dataclass
class StaticSource:
    """A fixed set of subjects and histories (tests, the benchmark, `investigate --html`)."""

    items: list[Subject]
    histories: dict[tuple[str, str, str], list[GroupTopicSample]]
    past_episodes: dict[tuple[str, str, str], list[Episode]] = field(default_factory=dict)

    def subjects(self) -> list[Subject]:
        return list(self.items)

    def history(self, cluster: str, group: str, topic: str) -> list[GroupTopicSample]:
        return self.histories.get((cluster, group, topic), [])

    def episodes(self, cluster: str, group: str, topic: str) -> list[Episode]:
        return self.past_episodes.get((cluster, group, topic), [])


# --- ordering -----------------------------------------------------------------------------------------------


def max_score(a: GroupTopicAnalysis) -> tuple[float, str]:
    best, name = 0.0, ""
    for signal, score in a.anomaly_scores.items():
        if score > best:
            best, name = score, signal
    return best, name


def listed(a: GroupTopicAnalysis) -> bool:
    return a.diagnosis is not None or max_score(a)[0] >= HIGH_ANOMALY


def worst_first(subjects: Iterable[Subject]) -> list[Subject]:
    """Listed subjects, worst first: severity, then diagnosed before merely anomalous, then confidence, anomaly
    score and the age of the oldest unconsumed message; names break ties so the order is stable."""
    def key(s: Subject) -> tuple[int, bool, float, float, float, str, str, str]:
        a, d = s.analysis, s.analysis.diagnosis
        lag_seconds = s.latest.lag_seconds if s.latest and s.latest.lag_seconds is not None else 0.0
        return (SEVERITY_RANK.get(d.severity, 3) if d else 3, d is None, -(d.confidence if d else 0.0),
                -max_score(a)[0], -lag_seconds, a.cluster, a.group, a.topic)
    return sorted((s for s in subjects if listed(s.analysis)), key=key)


def expected_alerts(a: GroupTopicAnalysis, latest: GroupTopicSample | None) -> list[str]:
    """Alerts of the pattern library this state is expected to raise (at the library's default thresholds)."""
    out: list[str] = []
    if latest is not None and latest.lag_seconds is not None:
        if latest.lag_seconds >= LAG_SECONDS_CRITICAL:
            out.append("KafkaConsumerLagSecondsCritical")
        elif latest.lag_seconds >= LAG_SECONDS_WARNING:
            out.append("KafkaConsumerLagSecondsHigh")
    if a.retention_breach_seconds is not None and a.retention_breach_seconds < RETENTION_BREACH_WARNING:
        out.append("KafkaConsumerRetentionBreachPredicted")
    if a.diagnosis is not None:
        out += [name for name in CAUSE_ALERTS.get(a.diagnosis.cause, ()) if name not in out]
    return out


# --- formatting ---------------------------------------------------------------------------------------------


def fmt_time(t: float | None) -> str:
    if t is None or not math.isfinite(t):
        return "-"
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_num(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == int(v):
        return f"{v:.0f}"
    return f"{v:.3g}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = abs(seconds)
    if s < 90:
        text = f"{s:.0f} s"
    elif s < 5400:
        text = f"{s / 60:.0f} min"
    elif s < 172800:
        text = f"{s / 3600:.1f} h"
    else:
        text = f"{s / 86400:.1f} d"
    return ("-" if seconds < 0 else "") + text


def case_href(a: GroupTopicAnalysis) -> str:
    # urlencode quotes every character a name may hold; escape() then makes the href attribute-safe.
    return f"{CASE_PATH}?{urlencode({'cluster': a.cluster, 'group': a.group, 'topic': a.topic})}"


def forecast_text(a: GroupTopicAnalysis) -> str:
    if not a.predicted_lag:
        return "-"
    h = max(a.predicted_lag)
    upper = a.predicted_lag_upper.get(h)
    text = f"{fmt_num(a.predicted_lag[h])} in {fmt_duration(h)}"
    if upper is not None and math.isfinite(upper) and upper > a.predicted_lag[h]:
        text += f" (up to {fmt_num(upper)})"
    return text


STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d2b3a;color:#fff;padding:10px 20px}header a{color:#cfe3ff}
h1{font-size:18px;margin:0}h2{font-size:16px;margin:22px 0 8px}main{padding:12px 20px 40px;max-width:1400px}
table{border-collapse:collapse;background:#fff;width:100%;margin:6px 0}
th,td{border-bottom:1px solid #e3e6ea;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;color:#fff;background:#888}
.critical{background:#c62828}.ok{background:#2e7d32}.warning{background:#ef8f00}.info{background:#5b7083}.anomaly{background:#6a4fb3}
.name{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}td.name{min-width:10ch}.t{white-space:nowrap}
.muted{color:#5b6570}.alert{font-family:ui-monospace,Menlo,monospace;font-size:12px;overflow-wrap:anywhere}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #e3e6ea;padding:8px 12px}
.card b{display:block;font-size:18px}.charts{display:flex;flex-wrap:wrap;gap:10px}
svg.chart{background:#fff;border:1px solid #e3e6ea}.ct{font-size:12px;font-weight:600;fill:#1d232a}
.cl{font-size:10px;fill:#5b6570}.cb{fill:none;stroke:#e3e6ea}.co{stroke:#c62828;stroke-dasharray:4 3}
.co-t{fill:#c62828}.against{color:#a4262c}.cn{font-size:12px;fill:#5b6570}
pre{background:#1d232a;color:#e8eef3;padding:8px 10px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;
margin:4px 0}ol li{margin-bottom:10px;background:#fff;padding:6px 10px;border:1px solid #e3e6ea}
"""


def _page(title: str, body: str, *, refresh: int | None = None, back: bool = False) -> str:
    meta = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    nav = f' <a href="{PATH}">all open cases</a>' if back else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"{meta}<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>Kafka Detective{nav}</h1></header><main>{body}</main></body></html>\n")


def _sev_badge(d: Diagnosis | None) -> str:
    if d is None:
        return '<span class="sev anomaly">anomaly</span>'
    sev = d.severity if d.severity in SEVERITY_RANK else "info"
    return f'<span class="sev {sev}">{escape(sev)}</span>'


# --- the list -----------------------------------------------------------------------------------------------


def render_index(subjects: Sequence[Subject], now: float | None = None, limit: int = 500) -> str:
    """The open cases, worst first (at most `limit` rows: past that the page would not be read anyway)."""
    now = time.time() if now is None else now
    rows = worst_first(subjects)
    shown = rows[:limit]
    out = [f"<p class=\"muted\">{len(rows)} of {len(subjects)} group/topic(s) need attention "
           f"(an active diagnosis, or an anomaly score of at least {HIGH_ANOMALY:g}). "
           f"Updated {escape(fmt_time(now))}; this page refreshes every 30 s.</p>"]
    if not rows:
        out.append("<p>No open case: no group/topic has a lag problem or an anomaly right now.</p>")
        return _page("Kafka Detective: open cases", "".join(out), refresh=30)
    out.append("<table id=\"cases\"><thead><tr><th>severity</th><th>cluster</th><th>group</th><th>topic</th>"
               "<th>cause</th><th>confidence</th><th>onset</th><th>lag</th><th>lag seconds</th>"
               "<th>forecast</th><th>anomaly</th><th>alerts expected</th></tr></thead><tbody>")
    for s in shown:
        a, d = s.analysis, s.analysis.diagnosis
        score, signal = max_score(a)
        href = escape(case_href(a))
        cause = (f'<a href="{href}">{escape(SUMMARY.get(d.cause, d.cause))}</a>'
                 f' <span class="muted name">{escape(d.cause)}</span>') if d else \
            f'<a href="{href}">not diagnosed yet</a>'
        onset = "-"
        if d is not None and d.onset is not None:
            short = datetime.fromtimestamp(d.onset, tz=UTC).strftime("%m-%d %H:%M UTC")
            onset = f"{escape(short)}<br><span class=\"muted\">{fmt_duration(now - d.onset)} ago</span>"
        lag = s.latest.lag if s.latest else None
        lag_s = s.latest.lag_seconds if s.latest else None
        alerts = "<br>".join(f'<span class="alert">{escape(n)}</span>' for n in expected_alerts(a, s.latest))
        out.append(
            f"<tr class=\"case\"><td>{_sev_badge(d)}</td><td class=\"name\">{escape(a.cluster)}</td>"
            f"<td class=\"name group\">{escape(a.group)}</td><td class=\"name\">{escape(a.topic)}</td>"
            f"<td class=\"cause\">{cause}</td><td class=\"n\">{f'{d.confidence:.0%}' if d else '-'}</td>"
            f"<td class=\"t\">{onset}</td><td class=\"n\">{fmt_num(lag)}</td><td class=\"n\">{fmt_duration(lag_s)}</td>"
            f"<td>{escape(forecast_text(a))}</td>"
            f"<td class=\"n\">{f'{score:.2f} {escape(signal)}' if score > 0 else '-'}</td><td>{alerts or '-'}</td>"
            "</tr>")
    out.append("</tbody></table>")
    if len(rows) > limit:
        out.append(f"<p class=\"muted\">{len(rows) - limit} more not shown.</p>")
    return _page("Kafka Detective: open cases", "".join(out), refresh=30)


# --- the case file ------------------------------------------------------------------------------------------


def _rates(history: Sequence[GroupTopicSample]) -> tuple[list[svg.Point], list[svg.Point]]:
    """Produce and consume rates (messages/s) from the two offset counters between consecutive records."""
    produce: list[svg.Point] = []
    consume: list[svg.Point] = []
    for prev, cur in pairwise(history):
        dt = cur.timestamp - prev.timestamp
        if dt <= 0:
            continue
        dp = cur.log_end_offset - prev.log_end_offset
        dc = cur.committed_offset - prev.committed_offset
        # A counter that went backwards (topic recreated, offsets reset) is a gap, not a negative rate.
        produce.append((cur.timestamp, dp / dt if dp >= 0 else None))
        consume.append((cur.timestamp, dc / dt if dc >= 0 else None))
    return produce, consume


def _increments(history: Sequence[GroupTopicSample], attr: str) -> list[svg.Point]:
    return [(cur.timestamp, float(max(0, getattr(cur, attr) - getattr(prev, attr))))
            for prev, cur in pairwise(history)]


def charts(history: Sequence[GroupTopicSample], onset: float | None) -> list[str]:
    lag = [(s.timestamp, float(s.lag)) for s in history]
    lag_s = [(s.timestamp, s.lag_seconds) for s in history]
    produce, consume = _rates(history)
    return [
        svg.chart("Lag", [svg.Series("messages", "#1565c0", lag)], onset=onset, unit="messages"),
        svg.chart("Lag in seconds", [svg.Series("oldest message age", "#6a4fb3", lag_s)], onset=onset,
                  unit="s"),
        svg.chart("Produce vs consume rate", [svg.Series("produce", "#ef6c00", produce),
                                              svg.Series("consume", "#2e7d32", consume)],
                  onset=onset, unit="msg/s"),
        svg.chart("Rebalances and leader changes", [
            svg.Series("rebalances", "#c62828", _increments(history, "rebalances_total"), bars=True),
            svg.Series("leader changes", "#5b7083", _increments(history, "leader_changes_total"), bars=True)],
            onset=onset, unit="per step"),
    ]


def _runbook_html(d: Diagnosis, cluster: str, group: str, topic: str) -> str:
    rb = build_runbook(d, cluster, group, topic)
    out = [f"<h2>{escape(rb.title)}</h2><ol id=\"runbook\">"]
    for step in rb.steps:
        lang = "PromQL" if step.command.startswith("promql: ") else "shell"
        out.append(f"<li><b>{escape(step.description)}</b> <span class=\"muted\">({lang})</span>"
                   f"<pre>{escape(step.command.removeprefix('promql: '))}</pre>"
                   f"<span class=\"muted\">Expected:</span> {escape(step.expected)}</li>")
    out.append("</ol><h2>Validation</h2><table><thead><tr><th>check</th><th>PromQL</th></tr></thead><tbody>")
    out += [f"<tr><td>{escape(check)}</td><td><pre>{escape(q)}</pre></td></tr>" for check, q in rb.validation]
    out.append(f"</tbody></table><h2>Escalation</h2><p>{escape(rb.escalation)}</p>")
    return "".join(out)


def _evidence_for_and_against(d: Diagnosis, cause: str) -> str:
    """The findings of the diagnosis that point to `cause` (as the root-cause analysis marked them), then those
    that argue against it, marked with AGAINST, one a line."""
    lines = ([escape(e.note or e.metric) for e in d.evidence_for(cause)]
             or ["<span class=\"muted\">no finding points to it specifically</span>"])
    lines += [f"<span class=\"against\">{AGAINST} {escape(e.note or e.metric)}</span>"
              for e in d.evidence_against(cause)]
    return "<br>".join(lines)


def _episodes_html(episodes: Sequence[Episode], d: Diagnosis | None) -> str:
    """The subject's past lag problems, newest first, and the recurrence the engine named from them."""
    out = ["<h2>History</h2>"]
    note = pattern_note(d)
    if note is not None:
        out.append(f"<p id=\"pattern\">{escape(note)}</p>")
    out.append("<table id=\"episodes\"><thead><tr><th>start</th><th>duration</th><th>cause</th></tr></thead>"
               "<tbody>")
    out += [f"<tr><td class=\"t\">{escape(fmt_time(start))}</td><td class=\"n\">{fmt_duration(end - start)}</td>"
            f"<td>{escape(SUMMARY.get(cause, cause))} <span class=\"muted name\">{escape(cause)}</span></td></tr>"
            for start, end, cause in reversed(episodes)]
    out.append("</tbody></table><p class=\"muted\">Earlier lag problems of this group/topic the analytics "
               "remember (the open one is not listed); the duration runs to its last evidence.</p>")
    return "".join(out)


def render_case(subject: Subject, history: Sequence[GroupTopicSample], now: float | None = None, *,
                standalone: bool = False, similar: Sequence[dict[str, Any]] = (),
                episodes: Sequence[Episode] = ()) -> str:
    """The case file of one group/topic. `standalone`: no links back to the exporter (a file for a ticket).
    `episodes`: the subject's past lag problems (start, end, cause), oldest first; none leaves the section out."""
    now = time.time() if now is None else now
    a, d = subject.analysis, subject.analysis.diagnosis
    latest = subject.latest or (history[-1] if history else None)
    title = f"Case: {a.group} on {a.topic} ({a.cluster})"
    out = [f"<h1 class=\"name\" style=\"font-size:20px\">{escape(a.group)} <span class=\"muted\">on</span> "
           f"{escape(a.topic)} <span class=\"muted\">in cluster</span> {escape(a.cluster)}</h1>"]
    if d is not None:
        out.append(f"<p id=\"verdict\">{_sev_badge(d)} <b>{escape(SUMMARY.get(d.cause, d.cause))}</b> "
                   f"(<span class=\"name\">{escape(d.cause)}</span>), confidence <b>{d.confidence:.0%}</b>, "
                   f"onset {escape(fmt_time(d.onset))}"
                   + (f" ({fmt_duration(now - d.onset)} ago)" if d.onset is not None and not standalone else "")
                   + ".</p>")
        if d.remediation:
            out.append(f"<p>{escape(d.remediation)}</p>")
    score, signal = max_score(a)
    if d is None and score >= HIGH_ANOMALY:
        out.append(f"<p id=\"verdict\">{_sev_badge(None)} No diagnosis yet: the analytics see an anomaly "
                   f"({escape(signal)}) but no lag problem (yet).</p>")
    elif d is None:
        out.append("<p id=\"verdict\"><span class=\"sev ok\">ok</span> No open case: no lag problem and no "
                   "anomaly right now.</p>")
    cards = [("lag", fmt_num(latest.lag) if latest else "-"),
             ("lag seconds", fmt_duration(latest.lag_seconds) if latest else "-"),
             ("members", fmt_num(latest.members) if latest else "-"),
             ("state", latest.state if latest else "-"),
             ("forecast", forecast_text(a)),
             ("catch-up", fmt_duration(a.catch_up_seconds)),
             ("retention breach in", fmt_duration(a.retention_breach_seconds)),
             ("top anomaly", f"{score:.2f} {signal}" if score > 0 else "-")]
    out.append("<div class=\"cards\">" + "".join(
        f"<div class=\"card\"><span class=\"muted\">{escape(k)}</span><b>{escape(v)}</b></div>" for k, v in cards)
        + "</div>")
    alerts = expected_alerts(a, latest)
    out.append("<h2>Alerts expected to fire</h2>" + (
        "<p>" + ", ".join(f'<span class="alert">{escape(n)}</span>' for n in alerts) + "</p>" if alerts
        else "<p class=\"muted\">None at the pattern library's default thresholds.</p>"))
    span = f"{fmt_duration(history[-1].timestamp - history[0].timestamp)}" if len(history) > 1 else "no"
    out.append(f"<h2>The last {span} of history</h2><div class=\"charts\" id=\"charts\">"
               + "".join(charts(history, d.onset if d else None)) + "</div>")
    if d is not None:
        out.append("<h2>Ranked causes</h2><table id=\"causes\"><thead><tr><th>rank</th><th>cause</th>"
                   f"<th>confidence</th><th>evidence for it ({AGAINST} against it)</th></tr></thead><tbody>")
        out += [f"<tr><td class=\"n\">{i}</td><td>{escape(SUMMARY.get(c, c))} <span class=\"muted name\">"
                f"{escape(c)}</span></td><td class=\"n\">{p:.0%}</td><td>{_evidence_for_and_against(d, c)}</td></tr>"
                for i, (c, p) in enumerate(d.alternatives, 1)]
        out.append("</tbody></table><p class=\"muted\">Confidence is the best cause's score discounted by how "
                   "close the runner-up comes. The evidence for each cause is the findings below that point to "
                   f"it; {AGAINST} marks a finding against it: a measure that contradicts it, or the absence of "
                   "what it would show (a missing signal says so, and weighs less).</p>")
        out.append("<h2>Evidence</h2><table id=\"evidence\"><thead><tr><th>metric</th><th>value</th>"
                   "<th>baseline</th><th>threshold</th><th>time</th><th>note</th></tr></thead><tbody>")
        out += [f"<tr><td class=\"name\">{escape(e.metric)}</td><td class=\"n\">{fmt_num(e.value)}</td>"
                f"<td class=\"n\">{fmt_num(e.baseline)}</td><td class=\"n\">{fmt_num(e.threshold)}</td>"
                f"<td>{escape(fmt_time(e.timestamp))}</td><td>{escape(e.note)}</td></tr>" for e in d.evidence]
        out.append("</tbody></table>")
    if episodes:
        out.append(_episodes_html(episodes, d))
    if similar:
        out.append("<h2>Similar past incidents</h2><table><thead><tr><th>incident</th><th>cause</th>"
                   "<th>similarity</th><th>notes</th></tr></thead><tbody>")
        out += [f"<tr><td>{escape(str(s.get('name', '')))}</td><td class=\"name\">{escape(str(s.get('cause', '')))}"
                f"</td><td class=\"n\">{float(s.get('similarity', 0.0)):.2f}</td>"
                f"<td>{escape(str(s.get('notes', '')).strip()[:200])}</td></tr>" for s in similar]
        out.append("</tbody></table>")
    if d is not None:
        out.append(_runbook_html(d, a.cluster, a.group, a.topic))
    out.append(f"<p class=\"muted\">Generated {escape(fmt_time(now))} by kafka-detective.</p>")
    return _page(title, "".join(out), back=not standalone)


# --- the HTTP side --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = HEADERS
    content_type: str = CONTENT_TYPE


def _not_found(message: str) -> Response:
    return Response(404, _page("Kafka Detective: not found", f"<p>{escape(message)}</p>", back=True).encode())


def handles(path: str) -> bool:
    return path == PATH or path.startswith(PATH + "/")


def respond(target: str, source: Source | Callable[[], Source], *, enabled: bool = True,
            now: float | None = None, library_dir: str | None = None, shard: Shard = UNSHARDED) -> Response:
    """The response to a GET of `target` (path and query) under /detective."""
    if not enabled:
        return Response(404, b"not found\n", (), "text/plain; charset=utf-8")
    try:
        return _respond(target, source, now, library_dir, shard)
    except Exception:   # a page bug must never take the metrics endpoint's thread down with a traceback
        log.exception("rendering %s failed", PATH)
        return Response(500, _page("Kafka Detective: error", "<p>The page could not be rendered; see the "
                                   "exporter's log.</p>").encode())


def similar_for(history: Sequence[GroupTopicSample], d: Diagnosis | None, library_dir: str | None
                ) -> list[dict[str, Any]]:
    """Learned incidents (`kafka-detective learn`) whose signature resembles this one's, as `investigate` finds
    them: the signature of the growth phase (analysis/signatures.py growth_phase)."""
    if not library_dir or d is None or len(history) < 2:
        return []
    window = growth_phase(history, d)
    if window is None:
        return []
    try:
        return similar_incidents(signature(history, *window, name="current", cause=d.cause), library_dir)
    except Exception:   # too little history for a signature, unreadable library: the case file goes on without
        log.debug("similar incidents unavailable", exc_info=True)
        return []


def _respond(target: str, source: Source | Callable[[], Source], now: float | None,
             library_dir: str | None = None, shard: Shard = UNSHARDED) -> Response:
    parts = urlsplit(target)
    path = parts.path.rstrip("/") or "/"
    src = source() if callable(source) else source
    if path == PATH:
        return Response(200, render_index(src.subjects(), now).encode("utf-8"))
    if path != CASE_PATH:
        return _not_found("No such page.")
    query = parse_qs(parts.query, keep_blank_values=True)

    def one(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    # an empty topic is an alert whose series has no topic label (Prometheus expands it to ""): no topic
    cluster, group, topic = one("cluster"), one("group"), one("topic") or None
    if cluster is None or group is None:
        return _not_found("A case needs cluster and group (and topic).")
    by_key = {s.key: s for s in src.subjects()}
    subject = by_key.get((cluster, group, topic)) if topic is not None else None
    if subject is None and topic is None:
        # An alert without a topic label (a group-level alert) opens the group's worst case.
        candidates = worst_first(s for k, s in by_key.items() if k[0] == cluster and k[1] == group)
        subject = candidates[0] if candidates else None
    if subject is None and not shard.owns(group):   # a case link that reached another shard's pod
        return _not_found(f"No such case here: this exporter is shard {shard.index} of {shard.total}, and group "
                          f"{group} is collected by shard {shard_of(group, shard.total)} (with the chart, the pod "
                          f"whose name ends in -{shard_of(group, shard.total)}).")
    if subject is None:
        return _not_found("No such case: the group/topic is not known to the analytics (any more).")
    history = src.history(*subject.key)
    similar = similar_for(history, subject.analysis.diagnosis, library_dir)
    return Response(200, render_case(subject, history, now, similar=similar,
                                     episodes=src.episodes(*subject.key)).encode("utf-8"))
