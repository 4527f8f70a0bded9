"""Forecast and predictive-alert figures per trace: the lag forecaster against least squares and persistence,
the coverage of its interval, and the lead time of the predictive alerts per breach kind.

The figures are read off a trace's replay through the online engine (`replay.py`, the one `evaluate` scores
too), oldest sample first, so each forecast uses only the samples before it. Per trace (primary subject):

* MAE of the lag forecast 30 minutes ahead (after 1 h of warm-up) — the engine, least squares over 1 h
  (`predict_linear(...[1h], 1800)`) and persistence (the lag now);
* coverage — the share of the outcomes inside the engine's interval [lower, upper] at 30 minutes;
* lead time per breach kind, the predictive rules evaluated on the engine's series as Prometheus would
  (thresholds and `for:` of patterns/config.yaml, mirrored below and in `lag_threshold.py`, pinned by a test):

  - lag (messages): the first time the lag reaches KafkaConsumerLagHigh's threshold of that step (120 s of the
    topic's produce rate over 1 h, at least 100 messages: `StepRecord.lag_threshold`) after an hour under it;
    KafkaConsumerLagBreachPredicted fires when (threshold - lag) / growth < `predicted_lag_lead_seconds`, the
    growth averaged over `predicted_lag_growth_window` while it is positive now;
  - lag seconds: the same on the oldest unconsumed message's age and `lag_seconds_warning`;
  - retention: the first lost message; the rule is `retention_breach_seconds < 3600`;
  - disk: the first time a log dir is `disk_used_ratio_warning` full; the rule's time to full is the free bytes
    over their fall per second, a least-squares slope over `disk_full_predict_window` (PromQL `deriv`).

  A breach counts as "ramped" when the mean of its signal rose by >= 5 % of the threshold at the breach (disk: 0.5 %
  of the volume) from each 10-minute block to the next over the 40 minutes before it: a ramp of >= 30 minutes (the
  target: a warning >= 20 minutes ahead of every ramped breach). False warnings are the firing episodes on quiet
  traces.

`kafka-detective evaluate --forecasts` adds these figures for every split; docs/analytics.md quotes the
test split only.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path

from kafka_detective_tools.scenarios.replay import HORIZON, ReplayResult, find_traces, firing_episodes, replay
from kafka_detective_tools.scenarios.trace import Series

WARMUP = 3600.0
# mirrors of patterns/config.yaml (tests/unit/scenarios/test_forecast_eval.py checks them)
LAG_LEAD = 2700.0                 # predicted_lag_lead_seconds
LAG_FOR = 120.0                   # predicted_lag_for
LAG_GROWTH_WINDOW = 600.0         # predicted_lag_growth_window
LAG_SECONDS_THRESHOLD = 300.0     # lag_seconds_warning
RETENTION_THRESHOLD = 3600.0      # retention_breach_seconds_warning
RETENTION_FOR = 600.0             # retention_breach_for
DISK_WARNING = 0.85               # disk_used_ratio_warning
DISK_WINDOW = 1200.0              # disk_full_predict_window (20m)
DISK_LONG_WINDOW = 3600.0         # the fill must also show over an hour
DISK_HOURS = 4.0                  # disk_full_predict_hours
DISK_MIN_USED = 0.5               # disk_full_min_used_ratio
DISK_FOR = 300.0                  # disk_full_for
TARGET_LEAD = 1200.0              # >= 20 min before a ramped breach
RAMP = 1800.0
RAMP_RISE = 0.05                  # a ramp rises >= 5 % of the threshold every 10 minutes ...
DISK_RAMP_RISE = 0.005            # ... a disk fill >= 0.5 % of the volume


def _lead(times: Sequence[float], flags: Sequence[bool], hold: float, breach: float, step: float) -> float | None:
    """Seconds between the start of the firing episode that reaches the breach and the breach."""
    on_time = [e for e in firing_episodes(times, flags, hold) if e[0] <= breach and e[1] >= breach - 2 * step]
    return breach - on_time[0][0] if on_time else None


def _first_crossing(times: Sequence[float], values: Sequence[float | None],
                    threshold: float | Sequence[float | None], calm: float = 3600.0) -> float | None:
    """First time the value reaches `threshold` (one for all, or one per time, None where unknown) after at least
    `calm` seconds under it."""
    limits = [threshold] * len(times) if isinstance(threshold, float | int) else threshold
    below_since = None
    for t, v, limit in zip(times, values, limits, strict=True):
        if v is None or limit is None:
            continue
        if v < limit:
            if below_since is None:
                below_since = t
        elif below_since is not None and t - below_since >= calm:
            return t
        else:
            below_since = None
    return None


def _ramped(times: Sequence[float], values: Sequence[float | None], breach: float, min_rise: float) -> bool:
    """Was the breach preceded by a ramp of `RAMP` seconds: the mean of each 10-minute block of the `RAMP`
    seconds before it at least `min_rise` above the block before (block means, so a sawtooth of batched commits
    is not taken for a ramp, and a lag that sits still and jumps in the last minutes had none)?"""
    blocks = []
    for k in range(int(RAMP // 600.0) + 1):
        a, b = breach - RAMP - 600.0 + 600.0 * k, breach - RAMP + 600.0 * k
        inside = [v for t, v in zip(times, values, strict=True) if a <= t < b and v is not None]
        if not inside:
            return False
        blocks.append(sum(inside) / len(inside))
    return all(b - a >= min_rise for a, b in pairwise(blocks))


def window_means(times: Sequence[float], values: Sequence[float | None], window: float) -> list[float | None]:
    """PromQL's `avg_over_time(v[window])` at each time: the mean of the samples in [t - window, t] (both ends, as
    Prometheus 2 counts them), None where there is none."""
    out: list[float | None] = []
    total, count, j = 0.0, 0, 0
    for i, t in enumerate(times):
        v = values[i]
        if v is not None:
            total, count = total + v, count + 1
        while times[j] < t - window:
            old = values[j]
            if old is not None:
                total, count = total - old, count - 1
            j += 1
        out.append(total / count if count else None)
    return out


def _breach_warned(growth_now: float | None, growth_mean: float | None, value: float | None,
                   limit: float | None) -> bool:
    """KafkaConsumerLagBreachPredicted's condition on one signal: growing now, under its limit, and at the
    window's mean growth the limit is less than LAG_LEAD seconds away."""
    return bool(growth_now and growth_now > 0 and growth_mean and growth_mean > 0 and value is not None
                and limit is not None and value < limit and (limit - value) / growth_mean < LAG_LEAD)


def _slope(ts: Sequence[float], vs: Sequence[float]) -> float | None:
    n = len(ts)
    if n < 2:
        return None
    mt, mv = sum(ts) / n, sum(vs) / n
    den = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (v - mv) for t, v in zip(ts, vs, strict=True)) / den if den > 0 else None


def disk_rule_flags(usable: Series, total: Series) -> tuple[list[float], list[bool], list[float]]:
    """KafkaBrokerDiskFullPredicted on one log dir, as Prometheus evaluates it at each sample: (times, flags,
    used ratio)."""
    ts, vs = usable.timestamps, usable.values
    flags, used = [], []
    for i, t in enumerate(ts):
        tot = total.at(t)
        ratio = 1.0 - vs[i] / tot if tot else 0.0
        used.append(ratio)
        a = bisect_left(ts, t - DISK_WINDOW)
        b = bisect_left(ts, t - DISK_LONG_WINDOW)
        short = _slope(ts[a:i + 1], vs[a:i + 1])
        long = _slope(ts[b:i + 1], vs[b:i + 1])
        fire = (short is not None and long is not None and short < 0 and long < 0
                and vs[i] / -short < DISK_HOURS * 3600.0 and ratio > DISK_MIN_USED)
        flags.append(fire)
    return ts, flags, used


def trace_figures(trace_path: Path, truth_path: Path) -> dict:
    """Forecast error, interval coverage and predictive lead times of one trace (primary subject)."""
    return replay_figures(replay(trace_path, truth_path))


def replay_figures(rep: ReplayResult) -> dict:
    """`trace_figures` of a trace already replayed."""
    trace, truth = rep.trace, rep.truth
    subject = truth.subject
    records = rep.records[subject]
    times = [r.t for r in records]
    lags = [float(r.lag) for r in records]
    lag_secs = [r.lag_seconds for r in records]
    lag_limits = [r.lag_threshold for r in records]
    rows = [(a.predicted_lag.get(HORIZON) if a else None,
             a.predicted_lag_lower.get(HORIZON) if a else None,
             a.predicted_lag_upper.get(HORIZON) if a else None,
             r.ls_pred,
             a.lag_growth_rate if a else None,
             a.lag_seconds_growth_rate if a else None,
             a.retention_breach_seconds if a else None)
            for r, a in ((r, r.analysis) for r in records)]
    index = {t: i for i, t in enumerate(times)}
    err = {"engine": 0.0, "least_squares": 0.0, "persistence": 0.0}
    n = covered = 0
    for i, t in enumerate(times):
        if t - times[0] < WARMUP:
            continue
        j = index.get(t + HORIZON)
        pred, lower, upper, ls_pred = rows[i][:4]
        if j is None or pred is None or ls_pred is None:
            continue
        actual = lags[j]
        err["engine"] += abs(pred - actual)
        err["least_squares"] += abs(ls_pred - actual)
        err["persistence"] += abs(lags[i] - actual)
        covered += lower is not None and upper is not None and lower <= actual <= upper
        n += 1
    out: dict = {"scenario": truth.name, "quiet": truth.quiet, "forecasts": n,
                 "mae": {k: (round(v / n, 1) if n else None) for k, v in err.items()},
                 "coverage": round(covered / n, 4) if n else None, "breaches": [], "false_warnings": {}}
    step = truth.step_seconds

    growth = window_means(times, [row[4] for row in rows], LAG_GROWTH_WINDOW)
    ls_growth = window_means(times, [row[5] for row in rows], LAG_GROWTH_WINDOW)

    def lag_flag(i: int) -> bool:
        return _breach_warned(rows[i][4], growth[i], lags[i], lag_limits[i])

    def ls_flag(i: int) -> bool:
        return _breach_warned(rows[i][5], ls_growth[i], lag_secs[i], LAG_SECONDS_THRESHOLD)

    def ret_flag(i: int) -> bool:
        e = rows[i][6]
        return e is not None and e < RETENTION_THRESHOLD and lags[i] > 0

    rules: dict[str, tuple[Callable[[int], bool], float]] = {
        "lag": (lag_flag, LAG_FOR), "lag_seconds": (ls_flag, LAG_FOR), "retention": (ret_flag, RETENTION_FOR)}
    flags = {k: [fn(i) for i in range(len(times))] for k, (fn, _) in rules.items()}
    breaches: list[tuple[str, float, bool, float | None]] = []
    if not truth.quiet:
        b = _first_crossing(times, lags, lag_limits)
        if b is not None:
            at_breach = lag_limits[index[b]]    # known: a crossing is a step with a threshold
            breaches.append(("lag", b, at_breach is not None and _ramped(times, lags, b, RAMP_RISE * at_breach),
                             _lead(times, flags["lag"], LAG_FOR, b, step)))
        b = _first_crossing(times, lag_secs, LAG_SECONDS_THRESHOLD)
        if b is not None:
            breaches.append(("lag_seconds", b, _ramped(times, lag_secs, b, RAMP_RISE * LAG_SECONDS_THRESHOLD),
                             _lead(times, flags["lag_seconds"], LAG_FOR, b, step)))
        lost = trace.one("kafka_consumergroup_lost_messages_total", cluster=subject[0], consumergroup=subject[1],
                         topic=subject[2])
        if lost is not None:
            b = next((t for t, v in zip(lost.timestamps, lost.values, strict=True) if v > 0), None)
            if b is not None:
                breaches.append(("retention", b, True,
                                 _lead(times, flags["retention"], RETENTION_FOR, b, step)))
    disk_eps = 0
    for usable in trace.select("kafka_broker_log_dir_usable_bytes"):
        total = trace.one("kafka_broker_log_dir_total_bytes", **usable.labels)
        if total is None:
            continue
        dts, dflags, used = disk_rule_flags(usable, total)
        b = None if truth.quiet else _first_crossing(dts, used, DISK_WARNING)
        if b is not None:
            breaches.append(("disk", b, _ramped(dts, used, b, DISK_RAMP_RISE), _lead(dts, dflags, DISK_FOR, b, step)))
        elif truth.quiet:
            disk_eps += len(firing_episodes(dts, dflags, DISK_FOR))
    out["breaches"] = [{"kind": k, "time": b, "ramped": r, "lead_seconds": lead} for k, b, r, lead in breaches]
    if truth.quiet:
        out["false_warnings"] = {k: len(firing_episodes(times, flags[k], hold)) for k, (_, hold) in rules.items()}
        out["false_warnings"]["disk"] = disk_eps
        out["days"] = round((times[-1] - times[0]) / 86400.0, 2) if times else 0.0
    return out


def forecast_evaluate(directory: str | Path, progress: bool = False) -> dict:
    """Per-trace figures and their summary for every trace of `directory`."""
    import sys

    per_trace = []
    pairs = find_traces(directory)
    for k, (trace_path, truth_path) in enumerate(pairs, 1):
        if progress:
            print(f"[{k}/{len(pairs)}] forecasts {trace_path.name} ...", file=sys.stderr, flush=True)
        per_trace.append(trace_figures(trace_path, truth_path))
    return {"traces": per_trace, "summary": summarise(per_trace)}


def summarise(per_trace: list[dict]) -> dict:
    scored = [p for p in per_trace if p["forecasts"]]
    total = {m: sum(p["mae"][m] * p["forecasts"] for p in scored) for m in ("engine", "least_squares",
                                                                            "persistence")}
    n = sum(p["forecasts"] for p in scored)
    mae = {m: round(v / n, 1) if n else None for m, v in total.items()}

    def reduction(base: str) -> float | None:
        return round(1.0 - total["engine"] / total[base], 4) if total[base] else None

    better_ls = sum(p["mae"]["engine"] <= p["mae"]["least_squares"] for p in scored)
    quiet = [p for p in scored if p["quiet"]]
    quiet_worst = max((p["mae"]["engine"] / p["mae"]["least_squares"] - 1.0 for p in quiet
                       if p["mae"]["least_squares"]), default=None)
    covered = sum((p["coverage"] or 0.0) * p["forecasts"] for p in scored)
    kinds: dict[str, dict] = {}
    for p in per_trace:
        for b in p["breaches"]:
            k = kinds.setdefault(b["kind"], {"breaches": 0, "warned": 0, "ramped": 0, "ramped_warned_20m": 0,
                                             "leads": []})
            k["breaches"] += 1
            k["warned"] += b["lead_seconds"] is not None
            k["ramped"] += b["ramped"]
            k["ramped_warned_20m"] += bool(b["ramped"] and b["lead_seconds"] is not None
                                           and b["lead_seconds"] >= TARGET_LEAD)
            if b["lead_seconds"] is not None:
                k["leads"].append(b["lead_seconds"])
    for k in kinds.values():
        leads = sorted(k.pop("leads"))
        k["median_lead_seconds"] = leads[len(leads) // 2] if leads else None
        k["min_lead_seconds"] = leads[0] if leads else None
    false: dict[str, float] = {}
    days = sum(p.get("days", 0.0) for p in per_trace if p["quiet"])
    for p in per_trace:
        for k, v in p.get("false_warnings", {}).items():
            false[k] = false.get(k, 0) + v
    return {"traces": len(scored), "forecasts": n, "mae": mae,
            "reduction_vs_least_squares": reduction("least_squares"),
            "reduction_vs_persistence": reduction("persistence"),
            "better_than_least_squares": better_ls,
            "quiet_traces": len(quiet), "quiet_worst_vs_least_squares": None if quiet_worst is None
            else round(quiet_worst, 4),
            "coverage": round(covered / n, 4) if n else None,
            "breaches": kinds, "quiet_days": round(days, 2), "false_warnings": false}


def _m(x: float | None) -> str:
    return "-" if x is None else f"{x / 60:.1f}"


def format_forecast_report(result: dict, title: str = "") -> str:
    s = result["summary"]
    lines = [f"Forecasts and predictive alerts{' — ' + title if title else ''} (lag 30 min ahead, primary subject)"]
    lines.append(f"  {'trace':34} {'engine':>9} {'lsq':>9} {'persist':>9} {'cover':>6}  breaches (kind: lead min)")
    for p in result["traces"]:
        mae = p["mae"]
        br = ", ".join(f"{b['kind']}{'*' if b['ramped'] else ''}: {_m(b['lead_seconds'])}" for b in p["breaches"])
        lines.append(f"  {p['scenario'][:34]:34} {_f(mae['engine'])} {_f(mae['least_squares'])} "
                     f"{_f(mae['persistence'])} {_p(p['coverage'])}  {br}")
    lines.append(f"  MAE: engine {s['mae']['engine']}, least squares {s['mae']['least_squares']}, persistence "
                 f"{s['mae']['persistence']}; reduction vs least squares {_pct(s['reduction_vs_least_squares'])}, "
                 f"vs persistence {_pct(s['reduction_vs_persistence'])}")
    lines.append(f"  better than least squares on {s['better_than_least_squares']}/{s['traces']} traces; worst quiet "
                 f"trace: MAE {_above_below(s['quiet_worst_vs_least_squares'])} least squares'; 90% interval "
                 f"coverage {_p(s['coverage'])}")
    for kind, k in sorted(s["breaches"].items()):
        lines.append(f"  {kind:12} breaches {k['breaches']}, warned {k['warned']}, ramped {k['ramped']} of which "
                     f"warned >= 20 min {k['ramped_warned_20m']}; lead median {_m(k['median_lead_seconds'])} min, "
                     f"min {_m(k['min_lead_seconds'])} min")
    lines.append(f"  false predictive warnings on {s['quiet_days']} quiet days: "
                 + (", ".join(f"{k} {v}" for k, v in sorted(s["false_warnings"].items())) or "-"))
    lines.append("  (* = ramped breach: a ramp of >= 30 min before it)")
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return f"{'-':>9}" if x is None else f"{x:9.0f}"


def _p(x: float | None) -> str:
    return f"{'-':>6}" if x is None else f"{x:6.2f}"


def _above_below(x: float | None) -> str:
    """A relative difference in words (a bare sign read either way: lower is better here, higher in a reduction)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{abs(x):.1%} {'above' if x > 0 else 'below'}"


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.1%}"

