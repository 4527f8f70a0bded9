"""Per-alert precision/recall of the real alert rules, evaluated by a real Prometheus on the scenario traces.

For every trace: the trace itself plus the online engine's output series of the replay (predicted lag and its
upper bound per horizon, catch-up and retention-breach seconds, anomaly scores, diagnosis) are written as
OpenMetrics with `cluster` set to the scenario name (so the traces do not collide), turned into TSDB blocks with
`promtool tsdb create-blocks-from openmetrics`, and served by `prometheus` on a free loopback port. Every alert
expression of the rule file (recording rules inlined; a recorded series read over a range as a subquery) is then
queried with `/api/v1/query_range` at the trace step; `for:` (and `keep_firing_for:`) are applied to the result,
giving firing episodes per scenario.

An episode is a true positive when it overlaps an incident (from 30 min before its onset — predictive alerts —
to 2 h after its end), otherwise a false positive
(a lag alert during a consumer outage is not a false alarm); `off_pattern` counts the true positives whose
incidents neither list the alert in `patterns` nor have a root cause among the alert's `root_causes` in the
pattern library (read through its loader, in the repository `kafka_detective_tools.repo` finds). Recall counts
the incidents listing the alert that saw it fire between onset and end.

With `compare_rules` (another rule file, e.g. the rules before a change), that file's alerts are queried too, in the
same Prometheus over the same blocks, as `<alert>_before` (their recording rules renamed the same way), and scored
against the incidents of `<alert>`: a before/after of a rule change at the cost of the queries alone.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka_detective.durations import parse_promql_duration
from kafka_detective_tools.patterns.loader import load_library
from kafka_detective_tools.repo import find_root
from kafka_detective_tools.scenarios.trace import Series, load_trace, write_trace

HORIZON_LABELS = {300: "5m", 900: "15m", 1800: "30m"}
GRACE = 2 * 3600.0
MAX_RECORDING_DEPTH = 32          # levels of recording rules read by recording rules that _inline writes out


def _rule_duration(text: str | None) -> float:
    """A rule's `for:` / `keep_firing_for:` in seconds (absent: 0)."""
    return 0.0 if text is None else parse_promql_duration(text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _engine_series(rep, cluster: str) -> list[Series]:
    out: dict[tuple, Series] = {}

    def add(name: str, labels: dict[str, str], t: float, value: float | None) -> None:
        if value is None:
            return
        key = (name, tuple(labels.items()))
        s = out.get(key)
        if s is None:
            s = out[key] = Series(name, dict(labels))
        s.timestamps.append(t)
        s.values.append(float(value))

    for (_, group, topic), records in rep.records.items():
        base = {"cluster": cluster, "consumergroup": group, "topic": topic}
        for r in records:
            a = r.analysis
            if a is None:
                continue
            for h, v in a.predicted_lag.items():
                add("kafka_consumergroup_predicted_lag", {**base, "horizon": HORIZON_LABELS.get(h, f"{h}s")}, r.t, v)
            for h, v in a.predicted_lag_upper.items():
                add("kafka_consumergroup_predicted_lag_upper", {**base, "horizon": HORIZON_LABELS.get(h, f"{h}s")},
                    r.t, v)
            add("kafka_consumergroup_catch_up_seconds", base, r.t, a.catch_up_seconds)
            add("kafka_consumergroup_lag_growth_rate", base, r.t, a.lag_growth_rate)
            add("kafka_consumergroup_lag_seconds_growth_rate", base, r.t, a.lag_seconds_growth_rate)
            add("kafka_consumergroup_retention_breach_seconds", base, r.t, a.retention_breach_seconds)
            for sig, v in a.anomaly_scores.items():
                add("kafka_detective_anomaly_score", {**base, "signal": sig}, r.t, v)
            if a.diagnosis is not None:
                add("kafka_detective_diagnosis", {**base, "cause": a.diagnosis.cause}, r.t, a.diagnosis.confidence)
    return list(out.values())


def _inline(expr: str, records: dict[str, str], step: float = 60.0) -> str:
    """`expr` with every recorded series replaced by its rule's expression. A recorded series read over a range
    (`name[1d]`) becomes a subquery, the history the rule would have recorded: at the evaluation interval `step`
    (seconds), or at SUBQUERY_POINTS points over a long range (a day's average at every minute would evaluate the
    rule 1,440 times per point of the query)."""
    # One pass per level of recording rules read by recording rules, until none is left (a fixed number of passes
    # once left the deepest level of KafkaClusterLagStorm, six down, as a name no block holds).
    for _ in range(MAX_RECORDING_DEPTH):
        changed = False
        for name, body in records.items():
            # wrapped in a no-op label_replace: a bare "(...)" after group_left would parse as a label list
            new = re.sub(_name_pattern(name) + r"(\[[^\]:]+\])?",
                         _inlined(f'label_replace(({body}), "kd_noop", "", "kd_noop", "")', step), expr)
            if new != expr:
                expr, changed = new, True
        if not changed:
            return expr
    raise ValueError(f"recording rules nest deeper than {MAX_RECORDING_DEPTH} levels, or read each other in a cycle")


SUBQUERY_POINTS = 144


def _name_pattern(name: str) -> str:
    """A regex of the metric name `name` where it stands alone, not inside a longer name."""
    return r"(?<![\w:])" + re.escape(name) + r"(?![\w:])"


def _inlined(text: str, step: float) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that inserts `text` as it is (a replacement string would expand its backslashes),
    as a subquery when the match carries a range."""
    def replace(match: re.Match[str]) -> str:
        if not match.group(1):
            return text
        window = match.group(1)[1:-1]
        resolution = max(step, parse_promql_duration(window) / SUBQUERY_POINTS)
        return f"{text}[{window}:{resolution:g}s]"
    return replace


def _query_range(port: int, expr: str, start: float, end: float, step: float) -> list[dict]:
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query_range?{params}", timeout=300) as resp:
        body = json.load(resp)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "query failed"))
    return body["data"]["result"]


def _firing(values: list[tuple[float, float]], step: float, hold: float, keep: float) -> list[tuple[float, float]]:
    """Firing episodes from the times the expression returned a value, with `for:` and `keep_firing_for:`."""
    episodes = []
    start: float | None = None
    prev = 0.0   # read only once `start` is set, which sets it too
    for t, _ in values:
        if start is not None and t - prev > step * 1.5:
            episodes.append((start, prev))
            start = None
        if start is None:
            start = t
        prev = t
    if start is not None:
        episodes.append((start, prev))
    fired = [(a + hold, b + keep) for a, b in episodes if b - a >= hold]
    merged: list[tuple[float, float]] = []
    for a, b in fired:
        if merged and a <= merged[-1][1] + step:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


COMPARE_SUFFIX = "_before"


def rules_of(doc: dict, suffix: str = "") -> tuple[dict[str, str], list[tuple[str, str, str, float, float]]]:
    """The recording rules ({name: expr}) and alerts ([(name, base name, expr, for, keep_firing_for)]) of a parsed
    rule file. With `suffix`, every recorded name and alert name gets it, in the expressions too, so that the rules
    of two files can be inlined side by side; the base name stays the alert's own (the incidents name it)."""
    records: dict[str, str] = {}
    alerts = []
    rules = [rule for group in doc.get("groups", []) for rule in group.get("rules", [])]
    recorded = sorted((rule["record"] for rule in rules if "record" in rule), key=len, reverse=True)

    def renamed(expr: str) -> str:
        if not suffix:
            return expr
        for name in recorded:
            expr = re.sub(_name_pattern(name), name + suffix, expr)
        return expr

    for rule in rules:
        if "record" in rule:
            records[rule["record"] + suffix] = renamed(rule["expr"])
        elif "alert" in rule:
            alerts.append((rule["alert"] + suffix, rule["alert"], renamed(rule["expr"]),
                           _rule_duration(rule.get("for")), _rule_duration(rule.get("keep_firing_for"))))
    return records, alerts


def evaluate_rules(scenarios_dir, rules_path, replays: dict, progress: bool = True,
                   compare_rules: str | Path | None = None) -> dict:
    from kafka_detective.yamlio import load_file

    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    if not promtool or not prometheus:
        return {"error": "promtool and prometheus are needed for --prometheus (apt-get install prometheus)"}
    rules_path = Path(rules_path)
    if not rules_path.exists():
        return {"error": f"rule file {rules_path} does not exist"}
    records, alerts = rules_of(load_file(rules_path, "--rules"))
    if compare_rules is not None:
        if not Path(compare_rules).exists():
            return {"error": f"rule file {compare_rules} (--compare-rules) does not exist"}
        before_records, before_alerts = rules_of(load_file(Path(compare_rules), "--compare-rules"), COMPARE_SUFFIX)
        records.update(before_records)
        alerts += before_alerts
    # Every query, once, before any block is built: a rule file whose recording rules cycle stops here.
    step = min([60.0] + [rep.truth.step_seconds for rep in replays.values()])
    queries = {}
    for name, _, expr, *_ in alerts:
        try:
            queries[name] = _inline(expr, records, step)
        except ValueError as error:
            return {"error": f"alert {name}: {error}"}
    causes = load_library(find_root(), check_promql=False).root_causes_by_alert()
    work = Path(tempfile.mkdtemp(prefix="kd-promeval-"))
    proc = None
    try:
        data_dir = work / "data"
        start = end = None
        truths = {}
        for n, (name, rep) in enumerate(sorted(replays.items()), 1):
            truth = rep.truth
            cluster = truth.name
            truths[cluster] = truth
            if progress:
                print(f"[prometheus {n}/{len(replays)}] blocks for {name}", file=sys.stderr, flush=True)
            trace = load_trace(Path(scenarios_dir) / name)
            series = []
            for s in trace.series:
                labels = dict(s.labels)
                if "cluster" in labels:
                    labels["cluster"] = cluster
                series.append(Series(s.name, labels, s.timestamps, s.values))
            series += _engine_series(rep, cluster)
            om = work / f"{cluster}.om"
            write_trace(om, series)
            done = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(data_dir)],
                                  capture_output=True, text=True, timeout=1800)
            if done.returncode != 0:
                return {"error": f"promtool rejected {om.name}: {done.stderr.strip()[-300:]}"}
            om.unlink()
            start = truth.start if start is None else min(start, truth.start)
            end = truth.end if end is None else max(end, truth.end)
        assert start is not None and end is not None, "no replay to evaluate the rules on"
        port = _free_port()
        config = work / "prometheus.yml"
        config.write_text(f"global:\n  evaluation_interval: 1h\nrule_files:\n  - {rules_path.resolve()}\n")
        proc = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=open(work / "prometheus.log", "w"))  # noqa: SIM115
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                return {"error": "prometheus did not start: "
                        + (work / "prometheus.log").read_text()[-500:]}
            time.sleep(0.5)
        results: dict[str, dict] = {}
        quiet_fp: dict[str, int] = {}
        for k, (alert, base, _, hold, keep) in enumerate(alerts, 1):
            if progress:
                print(f"[prometheus] query {k}/{len(alerts)} {alert}", file=sys.stderr, flush=True)
            query = queries[alert]
            # query day by day (the range API returns at most 11,000 points per series)
            by_cluster: dict[str, list[tuple[float, float]]] = {}
            chunk = 86400.0
            t0 = start
            while t0 <= end:
                t1 = min(end, t0 + chunk - step)
                try:
                    result = _query_range(port, query, t0, t1, step)
                except (OSError, RuntimeError) as error:
                    results[alert] = {"error": str(error)[:200]}
                    break
                for item in result:
                    cl = item["metric"].get("cluster")
                    if cl in truths:
                        by_cluster.setdefault(cl, []).extend((float(t), float(v)) for t, v in item["values"])
                t0 = t1 + step
            if alert in results:
                continue
            stats: dict[str, Any] = {"tp": 0, "fp": 0, "off_pattern": 0, "incidents": 0, "caught": 0,
                                     "false_positives": [], "missed": [], "delays": []}
            for cl, truth in truths.items():
                points = sorted(set(by_cluster.get(cl, [])))
                episodes = _firing(points, truth.step_seconds, hold, keep)
                for a, b in episodes:
                    # predictive alerts legitimately fire up to 30 min before the onset
                    if any(a <= i.end + GRACE and b >= i.onset - 1800.0 for i in truth.incidents):
                        stats["tp"] += 1
                        if not any(a <= i.end + GRACE and b >= i.onset for i in truth.incidents
                                   if base in i.patterns or i.root_cause in causes.get(base, set())):
                            stats["off_pattern"] += 1
                    else:
                        stats["fp"] += 1
                        stats["false_positives"].append(f"{cl}@{(a - truth.start) / 3600:.1f}h")
                        if truth.quiet:
                            quiet_fp[alert] = quiet_fp.get(alert, 0) + 1
                for inc in truth.incidents:
                    if base in inc.patterns:
                        stats["incidents"] += 1
                        hits = [a for a, b in episodes if a <= inc.end and b >= inc.onset]
                        if hits:
                            stats["caught"] += 1
                            # seconds from the onset to the first firing (0 when it was already firing)
                            stats["delays"].append(max(0.0, min(hits) - inc.onset))
                        else:
                            # where to look when recall drops: the trace, the onset (hours in) and the cause
                            stats["missed"].append(f"{cl}@{(inc.onset - truth.start) / 3600:.1f}h "
                                                   f"{inc.root_cause}")
            fired = stats["tp"] + stats["fp"]
            stats["precision"] = round(stats["tp"] / fired, 3) if fired else None
            stats["recall"] = round(stats["caught"] / stats["incidents"], 3) if stats["incidents"] else None
            results[alert] = stats
        quiet_days = sum((t.end - t.start) / 86400.0 for t in truths.values() if t.quiet)

        def per_day(counts: dict[str, int]) -> float | None:
            return round(sum(counts.values()) / quiet_days, 3) if quiet_days else None

        before = {name for name, base, *_ in alerts if name != base}
        quiet_now = {a: n for a, n in quiet_fp.items() if a not in before}
        out = {"alerts": results, "quiet_false_alerts": quiet_now, "quiet_false_alerts_per_day": per_day(quiet_now)}
        if before:
            quiet_before = {a: n for a, n in quiet_fp.items() if a in before}
            out["quiet_false_alerts_before"] = quiet_before
            out["quiet_false_alerts_per_day_before"] = per_day(quiet_before)
        return out
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
