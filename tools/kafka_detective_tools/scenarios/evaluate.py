"""Evaluation of the analytics on the scenario library, through the ONLINE code path.

Each trace is replayed step by step: `samples_from_trace` → `OnlineAnalytics.observe` (the exporter's engine,
same code, same results). The figures:

* root-cause accuracy top-1 / top-3 — the first diagnosis the engine emits inside each incident window (and its
  alternatives) against the ground truth; an incident without any diagnosis counts as a miss;
* forecast error of the lag 30 minutes ahead — MAE and WAPE (sum |error| / sum |actual|, a MAPE that tolerates
  zero lag) of the rate model against `predict_linear` (least squares over 1 h) and the brief's regression with
  R² (over 10 min, trusted when R² >= 0.5), over all steps and over incident windows;
* predictive-alert lead time on slow-growth scenarios — first time predicted lag 30m crosses the lag threshold
  (KafkaConsumerLagHigh's, of each step: `StepRecord.lag_threshold`) (or the retention ETA drops below 1 h) before
  the breach, raw and held for 10 minutes (the rules' `for:`),
  against the same rule on the baselines;
* detection delay — first time the engine flags a lag problem (a diagnosis) after each incident's onset;
* false alerts per day on quiet traces — episodes of: a diagnosis, an anomaly score >= 0.9 held 5 minutes, a
  predictive lag or retention alert held 10 minutes;
* per-root-cause precision/recall of the engine's diagnoses; optionally (`--prometheus`) per-alert
  precision/recall of the real alert rules evaluated by a real Prometheus (see `promeval.py`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka_detective.errors import UserError
from kafka_detective_tools.scenarios.forecast_eval import replay_figures, summarise
from kafka_detective_tools.scenarios.replay import (
    HORIZON,
    StepRecord,
    find_traces,
    firing_episodes,
    replay,
)

RETENTION_ETA_THRESHOLD = 3600.0
HOLD_SECONDS = 600.0
ANOMALY_ALERT = 0.9
ANOMALY_HOLD = 300.0          # an anomaly alert needs the score held 5 minutes (a rule's `for: 5m`)
DIAGNOSIS_DELAY = 300.0      # the diagnosis judged is the one in effect 5 min after the engine flagged the problem
EPISODE_GRACE = 2 * 3600.0   # an alert up to 2 h after an incident's end still belongs to it


# --- metrics ------------------------------------------------------------------------------------------------


def _anomaly_flags(records: list[StepRecord]) -> list[bool]:
    """Some signal's anomaly score >= ANOMALY_ALERT (held ANOMALY_HOLD seconds by the caller)."""
    return [bool(r.analysis and any(v >= ANOMALY_ALERT for v in r.analysis.anomaly_scores.values()))
            for r in records]


def _predictive_flags(records: list[StepRecord], pred: Callable[[StepRecord], float | None],
                      eta: Callable[[StepRecord], float | None] | None) -> list[bool]:
    """The predicted lag reaches the step's lag threshold while the lag is under it, or retention is due within
    RETENTION_ETA_THRESHOLD (held HOLD_SECONDS by the caller)."""
    flags = []
    for r in records:
        p = pred(r)
        e = eta(r) if eta else None
        limit = r.lag_threshold
        flags.append(bool((p is not None and limit is not None and p >= limit and r.lag < limit)
                          or (e is not None and e <= RETENTION_ETA_THRESHOLD)))
    return flags


def _ours_pred(r: StepRecord) -> float | None:
    return r.analysis.predicted_lag.get(HORIZON) if r.analysis else None


def _ours_eta(r: StepRecord) -> float | None:
    return r.analysis.retention_breach_seconds if r.analysis else None


def _ls_eta_factory(retention: float | None) -> Callable[[StepRecord], float | None]:
    def eta(r: StepRecord) -> float | None:
        if retention is None or r.ls_lag_seconds_pred is None or r.lag_seconds is None:
            return None
        # predict_linear(lag_seconds[1h], 1800) >= retention  <=>  breach within 30 min
        return 0.0 if r.ls_lag_seconds_pred >= retention else None
    return eta


def evaluate(directory: str | Path, progress: bool = True,
             keep_replays: Callable[[str], bool] | None = None, forecasts: bool = False) -> dict:
    """Score every trace of `directory`. `summary["_replays"]` holds the replays `keep_replays(trace file name)`
    accepts (default: all; a family split is too large to keep every replay in memory). With `forecasts`,
    `summary["forecasts"]` has the per-trace forecast and predictive-alert figures of `forecast_eval`, from the
    same replays."""
    pairs = find_traces(directory)
    forecast = {m: {"abs": 0.0, "actual": 0.0, "n": 0, "inc_abs": 0.0, "inc_actual": 0.0, "inc_n": 0}
                for m in ("rate_model", "least_squares", "regression_r2", "persistence")}
    rootcause_cases: list[dict[str, Any]] = []
    detection: list[float | None] = []
    lead_times = []
    quiet: list[dict[str, Any]] = []
    per_cause: dict[str, dict[str, int]] = {}
    scenarios_out = []
    replays = {}
    forecast_traces = []
    for n, (trace_path, truth_path) in enumerate(pairs, 1):
        if progress:
            print(f"[{n}/{len(pairs)}] replaying {trace_path.name} ...", file=sys.stderr, flush=True)
        rep = replay(trace_path, truth_path)
        if keep_replays is None or keep_replays(trace_path.name):
            replays[trace_path.name] = rep
        if forecasts:
            forecast_traces.append(replay_figures(rep))
        truth = rep.truth
        recs = rep.records[truth.subject]
        times = [r.t for r in recs]
        index = {r.t: i for i, r in enumerate(recs)}
        sc_out: dict = {"scenario": truth.name, "quiet": truth.quiet, "incidents": [],
                        "days": round((times[-1] - times[0]) / 86400.0, 4) if times else 0.0}
        # diagnoses of the primary subject that no incident explains (30 min before an onset to 2 h after an end)
        sc_out["diagnoses_outside_incidents"] = sum(
            1 for a, b in firing_episodes(times, [bool(r.analysis and r.analysis.diagnosis) for r in recs])
            if not any(a <= i.end + EPISODE_GRACE and b >= i.onset - 1800.0 for i in truth.incidents))
        # forecast error at 30 min (after 1 h of warm-up)
        windows = [(i.onset - 1800, i.end) for i in truth.incidents]
        sc_fc = {m: [0.0, 0] for m in forecast}
        for r in recs:
            if r.t - times[0] < 3600:
                continue
            j = index.get(r.t + HORIZON)
            if j is None:
                continue
            actual = recs[j].lag
            in_inc = any(a <= r.t <= b for a, b in windows)
            for method, p in (("rate_model", _ours_pred(r)), ("least_squares", r.ls_pred),
                              ("regression_r2", r.r2_pred), ("persistence", r.lag)):
                if p is None:
                    continue
                f = forecast[method]
                sc_fc[method][0] += abs(p - actual)
                sc_fc[method][1] += 1
                f["abs"] += abs(p - actual)
                f["actual"] += abs(actual)
                f["n"] += 1
                if in_inc:
                    f["inc_abs"] += abs(p - actual)
                    f["inc_actual"] += abs(actual)
                    f["inc_n"] += 1
        sc_out["forecast_mae"] = {m: round(v[0] / v[1], 1) if v[1] else None for m, v in sc_fc.items()}
        # root cause + detection delay, for the primary and the other subjects
        for subject, srecs in rep.records.items():
            for inc in truth.incidents:
                inside = [r for r in srecs if inc.onset <= r.t <= inc.end]
                # (time, diagnosis) of each record inside the incident with a diagnosis
                flagged = [(r.t, r.analysis.diagnosis) for r in inside
                           if r.analysis is not None and r.analysis.diagnosis is not None]
                first = flagged[0] if flagged else None

                def at(delay: float, flagged=flagged, first=first):
                    if first is None:
                        return None
                    chosen = [d for t, d in flagged if t <= first[0] + delay]
                    return chosen[-1]

                diag = at(DIAGNOSIS_DELAY)
                later = at(900.0)
                votes: dict[str, int] = {}
                for _, diagnosis in flagged:
                    votes[diagnosis.cause] = votes.get(diagnosis.cause, 0) + 1
                majority = max(votes, key=lambda c: votes[c]) if votes else None
                ranked = [diag.cause, *[c for c, _ in diag.alternatives if c != diag.cause]] if diag else []
                case: dict[str, Any] = {
                        "scenario": truth.name, "subject": "/".join(subject), "primary": subject == truth.subject,
                        "truth": inc.root_cause, "onset": inc.onset,
                        "diagnosis": diag.cause if diag else None,
                        "confidence": round(diag.confidence, 3) if diag else None,
                        "top3": ranked[:3], "top1_ok": bool(ranked) and ranked[0] == inc.root_cause,
                        "top3_ok": inc.root_cause in ranked[:3],
                        "first_diagnosis": first[1].cause if first else None,
                        "diagnosis_15m": later.cause if later else None,
                        "majority_diagnosis": majority,
                        "detection_delay_seconds": (first[0] - inc.onset) if first else None}
                rootcause_cases.append(case)
                if subject == truth.subject:
                    detection.append(case["detection_delay_seconds"])
                    sc_out["incidents"].append(case)
        # per-cause precision/recall of diagnoses (primary subject)
        cause_flags: dict[str, list[bool]] = {}
        for r in recs:
            d = r.analysis.diagnosis if r.analysis else None
            for c in {d.cause} if d else set():
                cause_flags.setdefault(c, [False] * len(recs))
        for k, r in enumerate(recs):
            d = r.analysis.diagnosis if r.analysis else None
            if d:
                cause_flags[d.cause][k] = True
        for cause, flags in cause_flags.items():
            stats = per_cause.setdefault(cause, {"tp": 0, "fp": 0, "incidents": 0, "caught": 0})
            for a, b in firing_episodes(times, flags):
                hit = any(inc.root_cause == cause and a <= inc.end + EPISODE_GRACE and b >= inc.onset
                          for inc in truth.incidents)
                stats["tp" if hit else "fp"] += 1
        for inc in truth.incidents:
            stats = per_cause.setdefault(inc.root_cause, {"tp": 0, "fp": 0, "incidents": 0, "caught": 0})
            stats["incidents"] += 1
            raised = cause_flags.get(inc.root_cause)
            if raised and any(f for t, f in zip(times, raised, strict=True) if inc.onset <= t <= inc.end):
                stats["caught"] += 1
        # predictive lead time
        breach = truth.extra.get("breach_time")
        if breach is not None:
            samples_ret = truth.extra.get("retention_breach")
            retention = None
            if samples_ret:
                s = rep.trace.one("kafka_topic_retention_seconds", cluster=truth.cluster, topic=truth.topic)
                retention = s.values[-1] if s else None
            entry = {"scenario": truth.name, "breach_time": breach,
                     "kind": "retention" if samples_ret else "lag"}
            no_pred: Callable[[StepRecord], float | None] = lambda r: None  # noqa: E731
            methods = {
                "rate_model": _predictive_flags(recs, _ours_pred, _ours_eta),
                "least_squares": _predictive_flags(recs, no_pred if samples_ret else (lambda r: r.ls_pred),
                                                   _ls_eta_factory(retention) if samples_ret else None),
                "regression_r2": _predictive_flags(recs, no_pred if samples_ret else (lambda r: r.r2_pred),
                                                   None),
            }
            step = truth.step_seconds
            for method, flags in methods.items():
                for hold, label in ((0.0, "raw"), (HOLD_SECONDS, "held_10m")):
                    # the warning that counts is the episode still on when the breach happens
                    on_time = [e for e in firing_episodes(times, flags, hold)
                               if e[0] <= breach and e[1] >= breach - 2 * step]
                    entry[f"{method}_{label}_lead_seconds"] = (breach - on_time[0][0]) if on_time else None
            lead_times.append(entry)
            sc_out["lead_time"] = entry
        # false alerts on quiet traces
        if truth.quiet:
            days = max((times[-1] - times[0]) / 86400.0, 1e-9)
            diag_eps = firing_episodes(times, [bool(r.analysis and r.analysis.diagnosis) for r in recs])
            anom_eps = firing_episodes(times, _anomaly_flags(recs), ANOMALY_HOLD)
            pred_eps = firing_episodes(times, _predictive_flags(recs, _ours_pred, _ours_eta), HOLD_SECONDS)
            ls_eps = firing_episodes(times, _predictive_flags(recs, lambda r: r.ls_pred, None), HOLD_SECONDS)
            q = {"scenario": truth.name, "days": round(days, 2),
                 "diagnosis_episodes": len(diag_eps), "anomaly_episodes": len(anom_eps),
                 "predictive_episodes": len(pred_eps), "least_squares_predictive_episodes": len(ls_eps),
                 "false_alerts_per_day": round((len(diag_eps) + len(anom_eps) + len(pred_eps)) / days, 3),
                 "max_anomaly_score": round(max((max(r.analysis.anomaly_scores.values(), default=0.0)
                                                 for r in recs if r.analysis), default=0.0), 3)}
            quiet.append(q)
            sc_out["quiet_alerts"] = q
        scenarios_out.append(sc_out)

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 4) if b else None

    primary = [c for c in rootcause_cases if c["primary"]]
    later_ok = sum(c["diagnosis_15m"] == c["truth"] for c in primary)
    majority_ok = sum(c["majority_diagnosis"] == c["truth"] for c in primary)
    first_ok = sum(c["first_diagnosis"] == c["truth"] for c in primary)
    fc_out = {}
    for m, f in forecast.items():
        fc_out[m] = {"mae": ratio(f["abs"], f["n"]), "wape": ratio(f["abs"], f["actual"]), "n": f["n"],
                     "incident_mae": ratio(f["inc_abs"], f["inc_n"]),
                     "incident_wape": ratio(f["inc_abs"], f["inc_actual"]), "incident_n": f["inc_n"]}
    for base in ("least_squares", "regression_r2", "persistence"):
        for key in ("mae", "incident_mae"):
            ours, theirs = fc_out["rate_model"][key], fc_out[base][key]
            if ours is not None and theirs:
                fc_out["rate_model"][f"{key}_reduction_vs_{base}"] = round(1.0 - ours / theirs, 4)
    delays = [d for d in detection if d is not None]
    summary = {
        "root_cause": {
            "cases": len(primary),
            "top1": ratio(sum(c["top1_ok"] for c in primary), len(primary)),
            "top3": ratio(sum(c["top3_ok"] for c in primary), len(primary)),
            "all_subjects_cases": len(rootcause_cases),
            "all_subjects_top1": ratio(sum(c["top1_ok"] for c in rootcause_cases), len(rootcause_cases)),
            "all_subjects_top3": ratio(sum(c["top3_ok"] for c in rootcause_cases), len(rootcause_cases)),
            "undiagnosed": sum(1 for c in primary if c["diagnosis"] is None),
            "top1_first_diagnosis": ratio(first_ok, len(primary)),
            "top1_at_15m": ratio(later_ok, len(primary)),
            "top1_majority": ratio(majority_ok, len(primary)),
        },
        "forecast_30m": fc_out,
        "predictive_lead_time": lead_times,
        "detection_delay_seconds": {
            "incidents": len(detection), "detected": len(delays),
            "median": _median(delays), "max": max(delays) if delays else None,
        },
        "quiet": quiet,
        "false_alerts_per_day": round(sum(q["false_alerts_per_day"] * q["days"] for q in quiet)
                                      / max(sum(q["days"] for q in quiet), 1e-9), 3) if quiet else None,
        "per_cause": {c: {**s, "precision": ratio(s["tp"], s["tp"] + s["fp"]),
                          "recall": ratio(s["caught"], s["incidents"])} for c, s in sorted(per_cause.items())},
        "cases": rootcause_cases,
        "scenarios": scenarios_out,
    }
    if forecasts:
        summary["forecasts"] = {"traces": forecast_traces, "summary": summarise(forecast_traces)}
    summary["_replays"] = replays
    return summary


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _fmt(x, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "-"
        return f"{x:.3f}{unit}" if abs(x) < 100 else f"{x:.0f}{unit}"
    return f"{x}{unit}"


def format_report(summary: dict) -> str:
    lines = []
    rc = summary["root_cause"]
    lines.append("Root cause (primary subject; the diagnosis in effect 5 min after the engine flagged the problem)")
    lines.append(f"  cases {rc['cases']}  top-1 {_fmt(rc['top1'])}  top-3 {_fmt(rc['top3'])}  "
                 f"undiagnosed {rc['undiagnosed']}   (all subjects: {rc['all_subjects_cases']} cases, "
                 f"top-1 {_fmt(rc['all_subjects_top1'])}, top-3 {_fmt(rc['all_subjects_top3'])})")
    lines.append(f"  top-1 of the first diagnosis {_fmt(rc['top1_first_diagnosis'])}, 15 min after the flag "
                 f"{_fmt(rc['top1_at_15m'])}, majority over the incident {_fmt(rc['top1_majority'])}")
    for c in summary["cases"]:
        if c["primary"]:
            mark = "ok " if c["top1_ok"] else ("top3" if c["top3_ok"] else "MISS")
            lines.append(f"    {mark:4} {c['scenario']:28} truth {c['truth']:24} got {c['diagnosis']!s:24} "
                         f"top3 {','.join(c['top3'])}  delay {_fmt(c['detection_delay_seconds'], 's')}")
    lines.append("")
    lines.append("Forecast MAE at 30 min per scenario (rate model / least squares / regression R2 / persistence)")
    for sc in summary["scenarios"]:
        f = sc.get("forecast_mae", {})
        lines.append(f"  {sc['scenario']:28} " + " / ".join(_fmt(f.get(m)) for m in
                                                           ("rate_model", "least_squares", "regression_r2",
                                                            "persistence")))
    lines.append("")
    lines.append("Forecast of lag 30 minutes ahead (MAE messages, WAPE)")
    for m, f in summary["forecast_30m"].items():
        lines.append(f"  {m:15} all: MAE {_fmt(f['mae'])} WAPE {_fmt(f['wape'])} (n={f['n']})   incidents: "
                     f"MAE {_fmt(f['incident_mae'])} WAPE {_fmt(f['incident_wape'])} (n={f['incident_n']})")
    rm = summary["forecast_30m"]["rate_model"]
    lines.append("  rate model MAE reduction: " + ", ".join(
        f"{k.removeprefix('mae_reduction_vs_').removeprefix('incident_mae_reduction_vs_')}"
        f"{' (incidents)' if k.startswith('incident') else ''} {v:+.1%}"
        for k, v in rm.items() if "reduction" in k))
    lines.append("")
    lines.append("Predictive alert lead time before the breach (minutes; raw / held 10 min like the rule's for:)")
    for e in summary["predictive_lead_time"]:
        parts = []
        for m in ("rate_model", "least_squares", "regression_r2"):
            raw = e.get(f"{m}_raw_lead_seconds")
            held = e.get(f"{m}_held_10m_lead_seconds")
            parts.append(f"{m} {_fmt(raw / 60 if raw is not None else None)}/"
                         f"{_fmt(held / 60 if held is not None else None)}")
        lines.append(f"  {e['scenario']:28} ({e['kind']}): " + "  ".join(parts))
    lines.append("")
    dd = summary["detection_delay_seconds"]
    lines.append(f"Detection delay: {dd['detected']}/{dd['incidents']} incidents detected, median "
                 f"{_fmt(dd['median'], 's')}, max {_fmt(dd['max'], 's')}")
    lines.append("")
    lines.append(f"False alerts per day on quiet traces: {_fmt(summary['false_alerts_per_day'])}")
    for q in summary["quiet"]:
        lines.append(f"  {q['scenario']:20} {q['days']} d: diagnosis {q['diagnosis_episodes']}, anomaly "
                     f"{q['anomaly_episodes']}, predictive {q['predictive_episodes']} (least squares "
                     f"{q['least_squares_predictive_episodes']}), max anomaly score {q['max_anomaly_score']}")
    lines.append("")
    lines.append("Per root cause (engine's diagnoses): precision / recall")
    for c, s in summary["per_cause"].items():
        lines.append(f"  {c:24} precision {_fmt(s['precision'])} ({s['tp']}/{s['tp'] + s['fp']})  recall "
                     f"{_fmt(s['recall'])} ({s['caught']}/{s['incidents']})")
    if "prometheus" in summary:
        lines.append("")
        lines.append("Per alert rule (real Prometheus on the traces): precision / recall")
        for name, s in summary["prometheus"].get("alerts", {}).items():
            if "error" in s:
                lines.append(f"  {name:40} query error: {s['error']}")
                continue
            if not (s["tp"] or s["fp"] or s["incidents"]):
                continue
            lines.append(f"  {name:40} precision {_fmt(s['precision'])} ({s['tp']}/{s['tp'] + s['fp']}, "
                         f"{s['off_pattern']} off-pattern)  recall {_fmt(s['recall'])} "
                         f"({s['caught']}/{s['incidents']})")
        if summary["prometheus"].get("error"):
            lines.append(f"  (error: {summary['prometheus']['error']})")
        else:
            lines.append(f"  false alerts per day on quiet traces: "
                         f"{_fmt(summary['prometheus'].get('quiet_false_alerts_per_day'))} "
                         f"{summary['prometheus'].get('quiet_false_alerts') or ''}")
            if "quiet_false_alerts_per_day_before" in summary["prometheus"]:
                lines.append(f"  ... with the --compare-rules file (the *_before alerts): "
                             f"{_fmt(summary['prometheus']['quiet_false_alerts_per_day_before'])} "
                             f"{summary['prometheus'].get('quiet_false_alerts_before') or ''}")
    return "\n".join(lines)


# --- scenario families: train and test side by side ---------------------------------------------------------

SPLIT_NAMES = ("train", "validation", "test")


def split_dirs(directory: str | Path) -> dict[str, Path]:
    """The split subdirectories (`train/`, `validation/`, `test/`) of a family directory written by
    `simulate --families`."""
    d = Path(directory)
    return {name: d / name for name in SPLIT_NAMES if (d / name).is_dir()}


def _scenario_index(trace_name: str) -> int:
    stem = trace_name.split(".", 1)[0]
    tail = stem.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def prometheus_subset(pairs: list[tuple[Path, Path]], count: int) -> list[str]:
    """The first `count` traces in family round-robin order (index 0 of every family, quiet days first, then
    index 1, ...): a small subset for the real-Prometheus path that still covers every family."""
    ordered = sorted(pairs, key=lambda p: (_scenario_index(p[0].name), "-quiet-" not in p[0].name, p[0].name))
    return [trace.name for trace, _ in ordered[:count]]


def split_figures(summary: dict) -> dict:
    """The headline figures of one split, from `evaluate`'s summary (primary subject of every incident)."""
    cases = [c for c in summary["cases"] if c["primary"]]
    per_cause: dict[str, dict] = {}
    for c in cases:
        e = per_cause.setdefault(c["truth"], {"cases": 0, "top1": 0, "top3": 0, "diagnosed": 0, "got": {}})
        e["cases"] += 1
        e["top1"] += bool(c["top1_ok"])
        e["top3"] += bool(c["top3_ok"])
        e["diagnosed"] += c["diagnosis"] is not None
        got = c["diagnosis"] or "(none)"
        e["got"][got] = e["got"].get(got, 0) + 1
    for e in per_cause.values():
        e["got"] = dict(sorted(e["got"].items(), key=lambda kv: (-kv[1], kv[0])))
    delays = [c["detection_delay_seconds"] for c in cases if c["detection_delay_seconds"] is not None]
    quiet_days = sum(q["days"] for q in summary["quiet"])
    incident_scenarios = [sc for sc in summary["scenarios"] if not sc["quiet"]]
    incident_days = sum(sc.get("days", 0.0) for sc in incident_scenarios)
    outside = sum(sc.get("diagnoses_outside_incidents", 0) for sc in incident_scenarios)
    n = len(cases)
    out: dict = {
        "scenarios": len(summary["scenarios"]),
        "quiet_scenarios": len(summary["quiet"]),
        "incidents": n,
        "top1": round(sum(c["top1_ok"] for c in cases) / n, 4) if n else None,
        "top3": round(sum(c["top3_ok"] for c in cases) / n, 4) if n else None,
        "diagnosed": len(delays),
        "diagnosed_ratio": round(len(delays) / n, 4) if n else None,
        "median_detection_delay_seconds": _median(delays),
        "quiet_days": round(quiet_days, 2),
        "false_alerts_per_quiet_day": summary["false_alerts_per_day"],
        "diagnoses_outside_incidents": outside,
        "diagnoses_outside_incidents_per_day": round(outside / incident_days, 3) if incident_days else None,
        "per_cause": dict(sorted(per_cause.items())),
    }
    prom = summary.get("prometheus")
    if prom is not None:
        if prom.get("error"):
            out["rules"] = {"error": prom["error"]}
        else:
            alerts = {k: v for k, v in prom.get("alerts", {}).items() if "error" not in v}
            pairs = sum(v["incidents"] for v in alerts.values())
            caught = sum(v["caught"] for v in alerts.values())
            alert_delays = [d for v in alerts.values() for d in v.get("delays", [])]
            out["rules"] = {
                "scenarios": prom.get("scenarios"),
                "pairs": pairs, "caught": caught,
                "recall": round(caught / pairs, 4) if pairs else None,
                "median_alert_delay_seconds": _median(alert_delays),
                "false_alerts_per_quiet_day": prom.get("quiet_false_alerts_per_day"),
                "quiet_false_alerts": prom.get("quiet_false_alerts"),
                "per_alert": {k: {"recall": v["recall"], "caught": v["caught"], "incidents": v["incidents"],
                                  "fp": v["fp"]} for k, v in sorted(alerts.items())
                              if v["incidents"] or v["fp"] or v["tp"]},
                "query_errors": sorted(k for k, v in prom.get("alerts", {}).items() if "error" in v),
            }
    return out


def _evaluate_split(job: tuple[str, Path, bool, bool, str, int, bool]) -> tuple[str, dict]:
    split, d, progress, prometheus, rules, sample, forecasts = job
    if progress:
        print(f"== {split} split: {d}", file=sys.stderr, flush=True)
    subset = set(prometheus_subset(find_traces(d), sample)) if prometheus else set()
    summary = evaluate(d, progress=progress, keep_replays=lambda name: name in subset, forecasts=forecasts)
    replays = summary.pop("_replays")
    if prometheus:
        from kafka_detective_tools.scenarios.promeval import evaluate_rules

        summary["prometheus"] = evaluate_rules(d, rules, replays, progress=progress)
        summary["prometheus"]["scenarios"] = len(replays)
    return split, {"figures": split_figures(summary), "summary": summary}


def evaluate_splits(directory: str | Path, progress: bool = True, prometheus: bool = False,
                    rules: str | Path = "alert-rules/prometheus-rules.yaml", prometheus_sample: int = 16,
                    jobs: int = 1, forecasts: bool = False) -> dict:
    """Evaluate the `train/` and `test/` splits of a family directory, each on its own (the splits never mix):
    {"splits": {split: {"figures": split_figures(...), "summary": evaluate(...)}}}. With `prometheus`, the
    shipped rules run on a real Prometheus over `prometheus_sample` traces of each split. `jobs` > 1 evaluates
    the splits in parallel processes."""
    dirs = split_dirs(directory)
    if not dirs:
        raise UserError(f"{directory} has no train/ or test/ subdirectory; run `kafka-detective simulate "
                        f"--families --out {directory}`")
    work = [(split, d, progress, prometheus, str(rules), prometheus_sample, forecasts) for split, d in dirs.items()]
    if jobs > 1 and len(work) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            done = dict(pool.map(_evaluate_split, work))
    else:
        done = dict(map(_evaluate_split, work))
    return {"splits": {split: done[split] for split in dirs}}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _seconds(x: float | None) -> str:
    return "-" if x is None else f"{x / 60:.1f} min"


def format_split_report(result: dict) -> str:
    splits = result["splits"]
    names = list(splits)
    figs = {s: splits[s]["figures"] for s in names}
    w = 22
    lines = ["Scenario families: " + " vs ".join(names) + " (the splits are fixed: docs/scenarios.md)", ""]
    lines.append(f"{'':44}" + "".join(f"{s:>{w}}" for s in names))

    def row(label: str, fn) -> None:
        lines.append(f"  {label:42}" + "".join(f"{fn(figs[s]):>{w}}" for s in names))

    row("scenarios (quiet)", lambda f: f"{f['scenarios']} ({f['quiet_scenarios']})")
    row("incidents (primary subject)", lambda f: str(f["incidents"]))
    row("root cause top-1", lambda f: _pct(f["top1"]))
    row("root cause top-3", lambda f: _pct(f["top3"]))
    row("incidents diagnosed (analytics)", lambda f: f"{f['diagnosed']}/{f['incidents']} {_pct(f['diagnosed_ratio'])}")
    row("median delay of the diagnosis", lambda f: _seconds(f["median_detection_delay_seconds"]))
    row("false alerts per quiet day (analytics)", lambda f: _pct(f["false_alerts_per_quiet_day"]))
    row("diagnoses outside incidents, per day", lambda f: f"{f['diagnoses_outside_incidents']} "
        f"{_pct(f['diagnoses_outside_incidents_per_day'])}")
    if any("rules" in f for f in figs.values()):
        lines.append("  shipped rules on a real Prometheus (subset):")

        def rules(f: dict, key: str, fmt) -> str:
            r = f.get("rules")
            if r is None:
                return "-"
            if "error" in r:
                return "error"
            return fmt(r, key)

        row("  scenarios", lambda f: rules(f, "scenarios", lambda r, k: str(r[k])))
        row("  expected alert fired, per (incident, alert)",
            lambda f: rules(f, "recall", lambda r, k: f"{r['caught']}/{r['pairs']} {_pct(r[k])}"))
        row("  median alert delay after onset",
            lambda f: rules(f, "median_alert_delay_seconds", lambda r, k: _seconds(r[k])))
        row("  false alerts per quiet day (rules)",
            lambda f: rules(f, "false_alerts_per_quiet_day", lambda r, k: _pct(r[k])))
        for s in names:
            r = figs[s].get("rules") or {}
            if "error" in r:
                lines.append(f"  ({s}: {r['error']})")
    lines.append("")
    lines.append("Per cause: top-1 / top-3 (incidents) per split, and what the engine said (top-1 diagnosis: count)")
    causes = sorted({c for f in figs.values() for c in f["per_cause"]})
    for cause in causes:
        parts = []
        for s in names:
            e = figs[s]["per_cause"].get(cause)
            parts.append(f"{s} {_pct(e['top1'] / e['cases'])} / {_pct(e['top3'] / e['cases'])} ({e['cases']:3})"
                         if e else f"{s} -")
        lines.append(f"  {cause:24} " + "   ".join(parts))
        for s in names:
            e = figs[s]["per_cause"].get(cause)
            if e:
                said = ", ".join(f"{k} {v}" for k, v in e["got"].items())
                lines.append(f"  {'':24}   {s:5} said: {said}")
    if any("rules" in f and "per_alert" in f["rules"] for f in figs.values()):
        lines.append("")
        lines.append("Per alert rule: recall over the incidents expecting it (caught/expected), false positives")
        alerts = sorted({a for f in figs.values() for a in (f.get("rules") or {}).get("per_alert", {})})
        for a in alerts:
            parts = []
            for s in names:
                v = (figs[s].get("rules") or {}).get("per_alert", {}).get(a)
                parts.append(f"{s} {v['caught']}/{v['incidents']} fp {v['fp']}" if v else f"{s} -")
            lines.append(f"  {a:40} " + "   ".join(parts))
    return "\n".join(lines)
