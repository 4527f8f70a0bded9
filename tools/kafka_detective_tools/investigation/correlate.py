"""Which signals move with a consumer group's lag (offline CLI; numpy + scipy).

Why not simply correlate lag with every signal? Lag is an *integral*: lag(t) = lag(0) + the sum of
(produce - consume) over time, so it trends, and any other trending series (disk usage, a counter, a random
walk) correlates strongly with it by accident ("spurious regression", Granger & Newbold 1974). So:

* the target is the lag's growth per second, Δlag/Δt (the lag differenced once);
* counters become rates (differenced once, like the lag): produce rate, consume rate, rebalances, leader
  changes, lost messages; gauges (members, CPU, disk, under-replicated partitions) are used as levels, or
  differenced too with `difference_gauges=True`;
* p-values use an effective sample size n_eff = n (1 - r1x r1y) / (1 + r1x r1y) (Bretherton et al. 1999)
  that accounts for autocorrelation left in the series;
* the lead/lag cross-correlation tries shifts -K..K; the best shift's p-value is Bonferroni-corrected for
  the 2K+1 shifts tried, and the signals' p-values are then corrected for testing many signals with
  Benjamini-Hochberg (false discovery rate `alpha`).

A positive lead means the signal moves *before* the lag growth by that many steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kafka_detective.analysis.rootcause import derive_signals, mad, median
from kafka_detective.signals.samples import GroupTopicSample

EXPLANATION = (
    "Lag is the running sum of (produce - consume), so it trends; correlating the raw lag with another "
    "trending series (a counter, disk usage, a random walk) gives large, 'significant' but meaningless "
    "correlations. This analysis correlates the lag growth per second (Δlag/Δt) with each signal's rate "
    "(counters) or level (gauges), deflates p-values for autocorrelation (effective sample size), searches "
    "leads/lags with a Bonferroni correction and controls the false discovery rate across signals "
    "(Benjamini-Hochberg). 'naive r' shows the raw lag-vs-level correlation only to illustrate the trap. "
    "Correlation is not causation: a significant signal is a lead to check, not a verdict."
)

# name -> (kind, unit, description)
SIGNALS: dict[str, tuple[str, str, str]] = {
    "produce_rate": ("counter", "msg/s", "produce rate (log-end offset increase)"),
    "consume_rate": ("counter", "msg/s", "consume rate (committed offset increase)"),
    "rebalances": ("counter", "per step", "rebalances"),
    "leader_changes": ("counter", "per step", "partition leader changes on the topic"),
    "lost_messages": ("counter", "per step", "messages lost to retention"),
    "members": ("gauge", "", "group members"),
    "under_replicated": ("gauge", "", "under-replicated partitions of the topic"),
    "offline": ("gauge", "", "offline partitions of the topic"),
    "cpu": ("gauge", "0-1", "consumer CPU utilisation"),
    "disk": ("gauge", "0-1", "broker disk used ratio"),
    "leader_skew": ("gauge", "x", "busiest broker's leadership share"),
}


@dataclass
class SignalCorrelation:
    signal: str
    description: str
    transform: str                 # how the signal entered: "rate", "level" or "Δlevel"
    n: int
    n_eff: float
    pearson_r: float
    pearson_p: float
    spearman_r: float
    spearman_p: float
    lead_steps: int                # >0: the signal moves first
    lead_seconds: float
    lead_r: float
    lead_p: float                  # Bonferroni over the shifts tried
    p_adjusted: float              # Benjamini-Hochberg (or Holm) over the signals
    significant: bool
    naive_r: float                 # raw lag level vs raw signal level (the spurious one)
    naive_p: float
    interpretation: str


@dataclass
class CorrelationReport:
    target: str
    n: int
    step_seconds: float
    alpha: float
    correction: str
    max_shift: int
    rows: list[SignalCorrelation] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    explanation: str = EXPLANATION

    def significant(self) -> list[SignalCorrelation]:
        return [r for r in self.rows if r.significant]

    def to_dict(self) -> dict:
        return {**{k: v for k, v in asdict(self).items() if k not in ("rows", "skipped")},
                "rows": [asdict(r) for r in self.rows], "skipped": [list(s) for s in self.skipped]}


# --- statistics -------------------------------------------------------------------------------------------


def _lag1_autocorr(x) -> float:
    import numpy as np

    x = np.asarray(x, dtype=float)
    if len(x) < 3:
        return 0.0
    a, b = x[:-1] - x[:-1].mean(), x[1:] - x[1:].mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def effective_n(x, y) -> float:
    n = len(x)
    r1 = _lag1_autocorr(x) * _lag1_autocorr(y)
    r1 = max(-0.95, min(0.95, r1))
    return max(3.0, min(float(n), n * (1 - r1) / (1 + r1)))


def r_pvalue(r: float, n_eff: float) -> float:
    """Two-sided p-value of a correlation r with n_eff independent pairs (t test)."""
    from scipy import stats

    if not math.isfinite(r):
        return 1.0
    df = n_eff - 2
    if df <= 0:
        return 1.0
    r = max(-0.999999, min(0.999999, r))
    t = r * math.sqrt(df / (1 - r * r))
    return float(2 * stats.t.sf(abs(t), df))


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def holm(pvalues: Sequence[float]) -> list[float]:
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, pvalues[i] * (m - rank)))
        adjusted[i] = running
    return adjusted


def _pearson(x, y) -> float:
    import numpy as np

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def cross_correlation(x, y, max_shift: int) -> list[tuple[int, float, int]]:
    """[(shift, r, overlap)] with r = corr(x[t - shift], y[t]); shift > 0: x leads y."""
    out = []
    n = len(x)
    for k in range(-max_shift, max_shift + 1):
        if k >= 0:
            xs, ys = x[: n - k], y[k:]
        else:
            xs, ys = x[-k:], y[: n + k]
        out.append((k, _pearson(xs, ys), len(xs)))
    return out


# --- interpretation ---------------------------------------------------------------------------------------

_MEANING = {
    "produce_rate": ("lag grows when producers write faster: produce outpaces the consumers",
                     "lag grows while producers slow down (unusual: producer backpressure or retries?)"),
    "consume_rate": ("consumers speed up while lag grows: they are working through a backlog (a consequence "
                     "of the lag, not its cause)",
                     "lag grows when consumption slows: a consumer-side bottleneck"),
    "rebalances": ("rebalances coincide with lag growth: consumption pauses during rebalances",
                   "lag shrinks around rebalances (e.g. scaling out helped)"),
    "leader_changes": ("leader changes coincide with lag growth: consumers pause while leadership moves",
                       "lag shrinks after leader changes"),
    "lost_messages": ("messages are lost when lag grows: retention deletes what the group has not read",
                      "unusual inverse relationship with lost messages"),
    "members": ("lag grows as members join (rebalance pauses while scaling?)",
                "lag grows when the group loses members"),
    "under_replicated": ("lag grows while partitions are under-replicated: broker trouble",
                         "unusual inverse relationship with under-replicated partitions"),
    "offline": ("lag grows while partitions are offline: consumers cannot fetch them",
                "unusual inverse relationship with offline partitions"),
    "cpu": ("lag grows with consumer CPU: CPU saturation is a likely contributor",
            "CPU drops while lag grows: consumers idle or blocked (I/O wait, throttling, a crash)"),
    "disk": ("lag grows with broker disk usage (check for a full log dir, or a shared trend)",
             "unusual inverse relationship with disk usage"),
    "leader_skew": ("lag grows with leadership skew: one broker is the bottleneck",
                    "unusual inverse relationship with leadership skew"),
}


def interpret(signal: str, r: float, lead_steps: int, lead_seconds: float, significant: bool) -> str:
    if not math.isfinite(r):
        return "no variation"
    pos, neg = _MEANING.get(signal, ("positive correlation", "negative correlation"))
    text = pos if r > 0 else neg
    if lead_steps > 0:
        timing = f"; the signal moves {lead_steps} step(s) ({lead_seconds:.0f}s) before the lag growth, " \
                 "consistent with it being a driver"
    elif lead_steps < 0:
        timing = f"; the signal moves {-lead_steps} step(s) ({-lead_seconds:.0f}s) after the lag growth, " \
                 "so it is more likely a consequence than a cause"
    else:
        timing = "; they move in the same step (no lead either way)"
    if not significant:
        return f"not significant after correction (would read: {text})"
    return text + timing


# --- main -------------------------------------------------------------------------------------------------


def signals_from_samples(history: Sequence[GroupTopicSample]) -> tuple[list[float], list[float], dict]:
    """(timestamps, lag, {name: (kind, values with None for unknown)})."""
    sig = derive_signals(history)
    series = {
        "produce_rate": sig.produce_rate, "consume_rate": sig.consume_rate, "rebalances": sig.rebalances,
        "leader_changes": sig.leader_changes, "lost_messages": sig.lost, "members": sig.members,
        "under_replicated": sig.under_replicated, "offline": sig.offline, "cpu": sig.cpu, "disk": sig.disk,
        "leader_skew": sig.skew,
    }
    return sig.t, sig.lag, {k: (SIGNALS[k][0], v) for k, v in series.items()}


def correlate_series(t: Sequence[float], lag: Sequence[float], signals: dict[str, tuple[str, Sequence]], *,
                     alpha: float = 0.05, max_shift: int | None = None, correction: str = "bh",
                     difference_gauges: bool = False, counters_as_rates: bool = False) -> CorrelationReport:
    """Correlate the lag growth with each signal.

    `signals[name] = (kind, values)`: kind "counter" values are per-step rates already (as from
    `derive_signals`) unless `counters_as_rates` is False *and* they are cumulative -- pass kind
    "cumulative" for raw counters to have them differenced here. "gauge" values are levels."""
    import numpy as np
    from scipy import stats

    times = np.asarray(t, dtype=float)
    lags = np.asarray(lag, dtype=float)
    n_all = len(times)
    if n_all < 10:
        from kafka_detective.errors import UserError

        raise UserError(f"need at least 10 samples to correlate, got {n_all}")
    dt = np.diff(times)
    step = float(np.median(dt))
    growth = np.diff(lags) / np.where(dt > 0, dt, step)          # aligned with samples 1..n-1
    if max_shift is None:
        max_shift = int(max(1, min(10, (n_all - 1) // 10)))
    report = CorrelationReport(target="lag growth Δlag/Δt (messages/s)", n=n_all - 1, step_seconds=step,
                               alpha=alpha, correction="Benjamini-Hochberg" if correction == "bh" else "Holm",
                               max_shift=max_shift)
    pending: list[dict[str, Any]] = []
    for name, (kind, values) in signals.items():
        raw = [math.nan if v is None else float(v) for v in values]
        arr = np.asarray(raw, dtype=float)
        if len(arr) != n_all:
            report.skipped.append((name, "length differs from the lag"))
            continue
        if kind == "cumulative":
            x = np.diff(arr) / np.where(dt > 0, dt, step)
            transform = "rate"
        elif kind == "counter":
            x = arr[1:]
            transform = "rate"
        elif difference_gauges:
            x = np.diff(arr)
            transform = "Δlevel"
        else:
            x = arr[1:]
            transform = "level"
        y = growth
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 10:
            report.skipped.append((name, "not available"))
            continue
        # Use the longest run without gaps for the shifted correlations.
        xs, ys = x[ok], y[ok]
        if float(np.std(xs)) == 0.0:
            report.skipped.append((name, "constant over the range"))
            continue
        n = len(xs)
        n_eff = effective_n(xs, ys)
        pr = _pearson(xs, ys)
        sr = float(stats.spearmanr(xs, ys).statistic)
        pp, sp = r_pvalue(pr, n_eff), r_pvalue(sr, n_eff)
        shifts = cross_correlation(xs, ys, max_shift)
        best = max((s for s in shifts if math.isfinite(s[1])), key=lambda s: (abs(s[1]), -abs(s[0])),
                   default=(0, math.nan, n))
        k, rk, overlap = best
        lead_p = min(1.0, r_pvalue(rk, n_eff * overlap / n) * len(shifts))
        naive = arr[np.isfinite(arr)]
        lag_naive = lags[np.isfinite(arr)]
        nr = _pearson(naive, lag_naive)
        np_ = float(stats.pearsonr(naive, lag_naive).pvalue) if math.isfinite(nr) else 1.0
        pending.append(dict(signal=name, description=SIGNALS.get(name, (kind, "", name))[2], transform=transform,
                            n=n, n_eff=round(n_eff, 1), pearson_r=pr, pearson_p=pp, spearman_r=sr, spearman_p=sp,
                            lead_steps=int(k), lead_seconds=float(k * step), lead_r=rk, lead_p=lead_p,
                            naive_r=nr, naive_p=np_))
    primary = [min(1.0, min(p["lead_p"], p["pearson_p"] * 2)) for p in pending]  # lag 0 or best shift (x2)
    adjusted = (benjamini_hochberg if correction == "bh" else holm)(primary) if primary else []
    for p, adj in zip(pending, adjusted, strict=True):
        significant = adj < alpha and abs(p["lead_r"]) >= 0.1
        r_for_text = p["lead_r"] if math.isfinite(p["lead_r"]) else p["pearson_r"]
        report.rows.append(SignalCorrelation(
            **p, p_adjusted=adj, significant=significant,
            interpretation=interpret(p["signal"], r_for_text, p["lead_steps"], p["lead_seconds"], significant)))
    report.rows.sort(key=lambda r: (not r.significant, r.p_adjusted, -abs(r.lead_r)))
    return report


def correlate(history: Sequence[GroupTopicSample], **kwargs) -> CorrelationReport:
    """Correlation report of one subject's history (see `correlate_series` for the options)."""
    t, lag, signals = signals_from_samples(history)
    return correlate_series(t, lag, signals, **kwargs)


def format_table(report: CorrelationReport, markdown: bool = False) -> str:
    """The rows as a text (or markdown) table."""
    head = ["signal", "as", "r", "p(adj)", "spearman", "lead", "naive r", "significant", "interpretation"]
    lines = []
    rows = []
    for r in report.rows:
        rows.append([r.signal, r.transform, f"{r.lead_r:+.2f}", f"{r.p_adjusted:.3g}", f"{r.spearman_r:+.2f}",
                     f"{r.lead_steps:+d} ({r.lead_seconds:+.0f}s)", f"{r.naive_r:+.2f}",
                     "yes" if r.significant else "no", r.interpretation])
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines.extend("| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows)
    else:
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head[:-1])]
        fmt = "  ".join(f"{{:{w}}}" for w in widths) + "  {}"
        lines.append(fmt.format(*head))
        lines.extend(fmt.format(*row) for row in rows)
    for name, why in report.skipped:
        lines.append(f"{'- ' if markdown else ''}skipped {name}: {why}")
    return "\n".join(lines)


# --- which signal moved first: a lead ranking across a whole cluster -----------------------------------------

# (metric, kind, labels summed by, display name). Counters are turned into per-second rates; gauges are levels.
LEAD_SIGNALS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("kafka_topic_produce_rate_messages_per_second", "gauge", ("topic",), "produce rate"),
    ("kafka_consumergroup_consume_rate_messages_per_second", "gauge", ("consumergroup", "topic"), "consume rate"),
    ("kafka_consumergroup_lag_sum", "gauge", ("consumergroup", "topic"), "lag"),
    ("kafka_consumergroup_max_lag_seconds", "gauge", ("consumergroup", "topic"), "lag seconds"),
    ("kafka_consumergroup_rebalances_total", "counter", ("consumergroup",), "rebalances"),
    ("kafka_consumergroup_members", "gauge", ("consumergroup",), "members"),
    ("kafka_topic_partition_under_replicated_partition", "gauge", ("topic",), "under-replicated partitions"),
    ("kafka_topic_partition_leader_changes_total", "counter", ("topic",), "leader changes"),
    ("kafka_broker_leader_partitions", "gauge", ("broker_id",), "leader partitions"),
    ("kafka_broker_log_dir_usable_bytes", "gauge", ("broker_id", "log_dir"), "free disk bytes"),
    ("consumergroup:cpu_utilisation:ratio", "gauge", ("consumergroup",), "consumer CPU"),
)

LEAD_EXPLANATION = (
    "Each series (counters as rates) is compared with its own baseline (median and MAD of the first quarter of "
    "the range); a two-sided CUSUM of the robust z-scores (k = 1, h = 10: a 1-sigma allowance, so a baseline "
    "estimated from a few dozen points does not drift into an alarm) finds the first lasting change, and its "
    "onset is where that CUSUM excursion began (the classic CUSUM change-point estimate, refined to the first "
    "point at half the excursion's mean size), not where it alarmed. Series are ranked by onset: the first "
    "domino comes first. Moving first is necessary for being the cause, not sufficient: check the leader "
    "against the diagnosis and the correlation report.")


@dataclass
class LeadRow:
    series: str                    # e.g. "lag orders-service/orders"
    signal: str                    # the display name of the signal
    labels: dict[str, str]
    onset: float | None            # unix seconds the change began; None: did not move
    alarm: float | None            # when the CUSUM crossed h
    direction: str                 # "up", "down" or ""
    peak_z: float                  # largest |robust z| after the onset
    rank: int | None = None        # 1 = moved first (ties within one step share a rank)
    after_first_seconds: float | None = None


@dataclass
class LeadRanking:
    cluster: str
    start: float
    end: float
    step_seconds: float
    rows: list[LeadRow] = field(default_factory=list)
    explanation: str = LEAD_EXPLANATION

    def moved(self) -> list[LeadRow]:
        return [r for r in self.rows if r.onset is not None]

    def to_dict(self) -> dict:
        return {**{k: v for k, v in asdict(self).items() if k != "rows"}, "rows": [asdict(r) for r in self.rows]}


def change_onset(t: Sequence[float], x: Sequence[float | None], *, baseline_fraction: float = 0.25,
                 k: float = 1.0, h: float = 10.0, min_baseline: int = 10
                 ) -> tuple[float | None, float | None, str, float]:
    """(onset, alarm, direction, peak |z|) of the first lasting change of `x` after its baseline period.

    The baseline is the first `baseline_fraction` of the points (at least `min_baseline`): median and
    MAD x 1.4826 (1 % of the median's size when the baseline is flat, so it still has a scale). A two-sided CUSUM
    of the z-scores clipped at +-10 alarms at `h`; the onset is the first point of the excursion that alarmed."""
    pts = [(ti, float(v)) for ti, v in zip(t, x, strict=True) if v is not None and math.isfinite(float(v))]
    n = len(pts)
    nb = max(min_baseline, int(n * baseline_fraction))
    if n < nb + 2:
        return None, None, "", 0.0
    base = [v for _, v in pts[:nb]]
    med = median(base)
    spread = mad(base, med)
    scale = spread if spread > 0 else max(0.01 * abs(med), 1e-9)
    up = down = 0.0
    up_start = down_start = nb
    for i in range(nb, n):
        z = max(-10.0, min(10.0, (pts[i][1] - med) / scale))
        if up <= 0.0:
            up_start = i
        if down <= 0.0:
            down_start = i
        up = max(0.0, up + z - k)
        down = max(0.0, down - z - k)
        if up > h or down > h:
            rising = up > h
            j = up_start if rising else down_start
            # the excursion may start on a few noise points just above k: begin where the change itself does,
            # the first point at half the excursion's mean size
            sign = 1.0 if rising else -1.0
            zs = [sign * max(-10.0, min(10.0, (pts[m][1] - med) / scale)) for m in range(j, i + 1)]
            half = max(k, sum(zs) / len(zs) / 2.0)
            j += next((m for m, z in enumerate(zs) if z >= half), 0)
            peak = max(abs((v - med) / scale) for _, v in pts[j:])
            return pts[j][0], pts[i][0], "up" if rising else "down", round(min(peak, 1e6), 2)
    return None, None, "", 0.0


def _as_rates(t: Sequence[float], v: Sequence[float | None]) -> list[float | None]:
    out: list[float | None] = [None]
    for i in range(1, len(t)):
        a, b = v[i - 1], v[i]
        dt = t[i] - t[i - 1]
        # a counter going backwards (a restart) is no rate
        out.append((b - a) / dt if a is not None and b is not None and dt > 0 and b >= a else None)
    return out


def lead_ranking_series(cluster: str, series: Sequence[tuple[str, str, dict[str, str], str, Sequence[float],
                                                             Sequence[float | None]]],
                        **onset_kwargs) -> LeadRanking:
    """Rank series by the onset of their first lasting change. `series`: (display name, signal, labels, kind,
    timestamps, values) with kind "counter" (turned into rates) or "gauge"."""
    all_t = [ti for s in series for ti in s[4]]
    steps = [b - a for s in series for a, b in zip(s[4], s[4][1:], strict=False) if b > a]
    step = median(steps) if steps else 0.0
    ranking = LeadRanking(cluster=cluster, start=min(all_t, default=0.0), end=max(all_t, default=0.0),
                          step_seconds=step)
    for name, signal, labels, kind, ts, vs in series:
        values = _as_rates(ts, vs) if kind == "counter" else list(vs)
        onset, alarm, direction, peak = change_onset(ts, values, **onset_kwargs)
        ranking.rows.append(LeadRow(series=name, signal=signal, labels=dict(labels), onset=onset, alarm=alarm,
                                    direction=direction, peak_z=peak))
    moved = sorted(ranking.moved(), key=lambda r: (r.onset, r.alarm, r.series))
    first = moved[0].onset if moved else None
    rank, prev = 0, None
    for i, r in enumerate(moved, 1):
        assert r.onset is not None and first is not None   # moved() holds the rows that have an onset
        if prev is None or r.onset - prev > max(step, 1e-9) * 1.01:
            rank = i
            prev = r.onset
        r.rank = rank
        r.after_first_seconds = r.onset - first
    ranking.rows = moved + sorted((r for r in ranking.rows if r.onset is None), key=lambda r: r.series)
    return ranking


def _display(signal: str, labels: dict[str, str]) -> str:
    if "consumergroup" in labels and "topic" in labels:
        who = f"{labels['consumergroup']}/{labels['topic']}"
    elif "consumergroup" in labels:
        who = f"group {labels['consumergroup']}"
    elif "broker_id" in labels:
        who = f"broker {labels['broker_id']}" + (f" {labels['log_dir']}" if "log_dir" in labels else "")
    else:
        who = f"topic {labels.get('topic', '?')}"
    return f"{signal} {who}"


def lead_series_from_trace(trace, cluster: str | None, start: float | None = None, end: float | None = None
                           ) -> tuple[str, list]:
    """The `LEAD_SIGNALS` of one cluster of a trace (`kafka_detective_tools.scenarios.trace.Trace`), summed by their
    labels, between `start` and `end`."""
    from kafka_detective.errors import UserError

    clusters = sorted({s.labels.get("cluster", "") for s in trace.series
                       if s.name == "kafka_consumergroup_lag_sum"})
    if cluster is None:
        if len(clusters) != 1:
            raise UserError(f"the trace has clusters {', '.join(clusters) or 'none'}; pass --cluster")
        cluster = clusters[0]
    elif cluster not in clusters:
        raise UserError(f"the trace has no cluster {cluster!r}; it has: {', '.join(clusters) or 'none'}")
    out = []
    for metric, kind, by, signal in LEAD_SIGNALS:
        sums: dict[tuple[str, ...], dict[float, float]] = {}
        for s in trace.select(metric, cluster=cluster):
            key = tuple(s.labels.get(label, "") for label in by)
            acc = sums.setdefault(key, {})
            for ti, v in zip(s.timestamps, s.values, strict=True):
                if (start is None or ti >= start) and (end is None or ti <= end) and math.isfinite(v):
                    acc[ti] = acc.get(ti, 0.0) + v
        for key, points in sorted(sums.items()):
            if len(points) < 2:
                continue
            labels = dict(zip(by, key, strict=True))
            ts = sorted(points)
            out.append((_display(signal, labels), signal, labels, kind, ts, [points[ti] for ti in ts]))
    return cluster, out


def lead_series_from_prometheus(prom, cluster: str | None, start: float, end: float, step: float
                                ) -> tuple[str, list]:
    """The `LEAD_SIGNALS` of one cluster from Prometheus (one query_range per signal, summed by its labels)."""
    from kafka_detective.errors import UserError
    from kafka_detective.prometheus_api import selector

    if cluster is None:
        found = prom.query("count by (cluster) (kafka_consumergroup_lag_sum)", at=end)
        clusters = sorted({r["metric"].get("cluster", "") for r in found})
        if len(clusters) != 1:
            raise UserError(f"Prometheus at {prom.shown_url} has clusters {', '.join(clusters) or 'none'}; "
                            "pass --cluster")
        cluster = clusters[0]
    out = []
    for metric, kind, by, signal in LEAD_SIGNALS:
        result = prom.query_range(f"sum by ({', '.join(by)}) ({metric}{selector(cluster=cluster)})", start, end, step)
        for r in result:
            labels = {label: r.get("metric", {}).get(label, "") for label in by}
            pts = [(float(ti), float(v)) for ti, v in r.get("values", []) if math.isfinite(float(v))]
            if len(pts) < 2:
                continue
            out.append((_display(signal, labels), signal, labels, kind, [p[0] for p in pts], [p[1] for p in pts]))
    if not out:
        raise UserError(f"Prometheus at {prom.shown_url} has none of the exporter's series for cluster {cluster!r} "
                        "in the range (check --cluster and --since)")
    return cluster, out


def format_lead_ranking(ranking: LeadRanking, limit: int = 25) -> str:
    from datetime import UTC, datetime

    def when(ts: float | None) -> str:
        return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")

    moved = ranking.moved()
    lines = [f"{'rank':>4}  {'onset (UTC)':19}  {'after 1st':>9}  {'dir':4}  {'peak z':>7}  series"]
    for r in moved[:limit]:
        lines.append(f"{r.rank:>4}  {when(r.onset):19}  {(r.after_first_seconds or 0.0) / 60:8.1f}m  "
                     f"{r.direction:4}  {r.peak_z:7.1f}  {r.series}")
    if len(moved) > limit:
        lines.append(f"      ... {len(moved) - limit} more series moved later")
    still = len(ranking.rows) - len(moved)
    lines.append(f"{still} series did not move" if still else "every series moved")
    return "\n".join(lines)
