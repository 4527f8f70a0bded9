"""Render time of the /detective pages at scale, from synthetic analysis results.

`--groups` group/topic analyses (one topic each), a fraction of them in trouble (`--listed`: an active diagnosis
with five pieces of evidence and three ranked causes, or a high anomaly score), the rest quiet. Measured:

- the list (`render_index`): filter, sort worst first, render (at most 500 rows, the page's limit);
- the case file (`render_case`) of one subject with a full compact history (120 records: the default);
- the same two pages fetched over HTTP from a real MetricsServer whose collector holds those results
  (request to last byte, one connection per request, as a browser's first load).

Usage: python bench/detective_page.py [--groups 2000] [--listed 0.1,1.0] [--repeat 30]
       [--json bench/results/detective_page.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kafka_detective.analysis.model import Diagnosis, Evidence, GroupTopicAnalysis
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.serving import detective_page as dp
from kafka_detective.serving.http import MetricsApp, MetricsServer
from kafka_detective.signals.samples import GroupTopicSample

CAUSES = ("producer_spike", "consumer_down", "consumer_stalled", "rebalance_storm", "consumer_slowdown",
          "retention_loss")
NOW = 1_790_000_000.0


def sample(group: str, topic: str, t: float, i: int, rng: random.Random) -> GroupTopicSample:
    return GroupTopicSample(cluster="bench", group=group, topic=topic, timestamp=t,
                            lag=int(50 + 40 * i + rng.random() * 30), log_end_offset=1000 * i + 50,
                            committed_offset=960 * i, lag_seconds=1.0 + i * 2.5,
                            members=3, state="Stable", rebalances_total=i // 40, lost_messages_total=0,
                            retention_seconds=604800.0, leader_changes_total=i // 60, under_replicated_partitions=0,
                            offline_partitions=0)


def synthetic(groups: int, listed: float, seed: int = 7) -> tuple[list[GroupTopicAnalysis], dict, dict]:
    rng = random.Random(seed)
    analyses: list[GroupTopicAnalysis] = []
    latest: dict[tuple[str, str, str], GroupTopicSample] = {}
    histories: dict[tuple[str, str, str], list[GroupTopicSample]] = {}
    for n in range(groups):
        group, topic = f"service-{n:05d}-consumer", f"topic-{n // 4:04d}"
        trouble = rng.random() < listed
        diagnosis = None
        scores = {"produce_rate": rng.random() * 0.5, "consume_rate": rng.random() * 0.5, "lag": rng.random() * 0.5}
        if trouble and rng.random() < 0.7:
            cause = rng.choice(CAUSES)
            confidence = 0.3 + 0.7 * rng.random()
            diagnosis = Diagnosis(
                cause=cause, confidence=confidence, severity=rng.choice(("critical", "warning")), onset=NOW - 900,
                evidence=tuple(Evidence(f"kafka_metric_{k}", 100.0 * k, 10.0, 50.0, NOW - 60 * k, f"note {k}")
                               for k in range(5)),
                remediation="Scale the consumers out.", alternatives=((cause, confidence), ("unknown", 0.25),
                                                                      ("producer_spike", 0.1)))
        elif trouble:
            scores["lag"] = 0.8 + 0.2 * rng.random()
        a = GroupTopicAnalysis(cluster="bench", group=group, topic=topic, predicted_lag={300: 1e4, 900: 2e4, 1800: 4e4},
                               predicted_lag_upper={300: 2e4, 900: 4e4, 1800: 8e4}, catch_up_seconds=None,
                               retention_breach_seconds=3e4, anomaly_scores=scores, diagnosis=diagnosis)
        analyses.append(a)
        key = (a.cluster, group, topic)
        latest[key] = sample(group, topic, NOW, 120, rng)
        if n == 0 or trouble:
            histories[key] = [sample(group, topic, NOW - (120 - i) * 60, i, rng) for i in range(120)]
    return analyses, latest, histories


class Analytics:
    """The read-only accessors of OnlineAnalytics the page uses, over fixed data."""

    def __init__(self, latest: dict, histories: dict) -> None:
        self._latest, self._histories = latest, histories

    def latest(self, cluster: str, group: str, topic: str) -> GroupTopicSample | None:
        return self._latest.get((cluster, group, topic))

    def history(self, cluster: str, group: str, topic: str) -> list[GroupTopicSample]:
        return list(self._histories.get((cluster, group, topic), []))


def timings(fn, repeat: int) -> dict[str, float]:
    fn()  # warm-up: imports, caches
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return {"median_ms": round(statistics.median(out), 2), "p95_ms": round(out[int(0.95 * (len(out) - 1))], 2),
            "max_ms": round(out[-1], 2)}


def fetch(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return len(response.read())
    finally:
        conn.close()


def run(groups: int, listed: float, repeat: int) -> dict[str, Any]:
    analyses, latest, histories = synthetic(groups, listed)
    collector = SimpleNamespace(cluster=SimpleNamespace(name="bench"), analysis=analyses,
                                analytics=Analytics(latest, histories))
    source = dp.CollectorSource([collector])
    subjects = source.subjects()
    rows = len(dp.worst_first(subjects))
    worst = dp.worst_first(subjects)[0]
    case_history = source.history(*worst.key)
    index_bytes = len(dp.render_index(subjects, NOW).encode())
    case_bytes = len(dp.render_case(worst, case_history, NOW).encode())
    result: dict[str, Any] = {
        "groups": groups, "listed": rows, "rows_shown": min(rows, 500), "index_bytes": index_bytes,
        "case_bytes": case_bytes, "history_records": len(case_history),
        "index_render": timings(lambda: dp.render_index(source.subjects(), NOW), repeat),
        "case_render": timings(lambda: dp.render_case(worst, source.history(*worst.key), NOW), repeat),
    }
    server = MetricsServer(MetricsApp(Exposition(), [collector]), "127.0.0.1", 0)  # type: ignore[list-item]
    server.start()
    try:
        case_path = dp.case_href(worst.analysis)
        result["index_http"] = timings(lambda: fetch(server.port, dp.PATH), repeat)
        result["case_http"] = timings(lambda: fetch(server.port, case_path), repeat)
    finally:
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--listed", default="0.1,1.0", help="fractions of groups in trouble, comma-separated")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = [run(args.groups, float(f), args.repeat) for f in args.listed.split(",")]
    for r in results:
        print(f"{r['groups']} groups, {r['listed']} listed ({r['rows_shown']} rows, {r['index_bytes'] // 1024} KiB): "
              f"list render {r['index_render']['median_ms']} ms (p95 {r['index_render']['p95_ms']}), "
              f"over HTTP {r['index_http']['median_ms']} ms (p95 {r['index_http']['p95_ms']}); "
              f"case file ({r['history_records']} records, {r['case_bytes'] // 1024} KiB) render "
              f"{r['case_render']['median_ms']} ms, over HTTP {r['case_http']['median_ms']} ms")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
