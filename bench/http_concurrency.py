"""Bursts of parallel scrapes against the exporter's HTTP endpoint: latency with the old and the new listen backlog.

The endpoint runs in its own process (so the scraping threads do not share its GIL) with a synthetic exposition
of `--series` lag series. Each round, `--parallel` clients open a new connection at the same instant (a barrier)
and fetch /metrics with gzip, as Prometheus does. Reported per backlog: scrape latency p50 / p99 / max, failed
scrapes, and the kernel's TcpExt ListenOverflows delta (accept-queue overflows, machine-wide: other processes
may add a few).

Usage: python bench/http_concurrency.py [--backlogs 5,1024] [--parallel 50] [--rounds 20] [--series 5000]
       [--json bench/results/http_concurrency.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import threading
import time
from pathlib import Path
from typing import Any


def serve(backlog: int, series: int, ready: Any, stop: Any) -> None:
    from kafka_detective.metrics.exposition import Exposition, family
    from kafka_detective.serving import http as serving

    exposition = Exposition()
    lag = family("kafka_consumergroup_lag")
    for i in range(series):
        lag.add(("bench", f"group-{i // 12}", f"topic-{i // 120}", str(i % 12)), i)
    exposition.publish("bench", [lag])
    serving._HTTPServer.request_queue_size = backlog  # the only difference between the runs
    server = serving.MetricsServer(serving.MetricsApp(exposition, []), "127.0.0.1", 0)
    server.start()
    ready.put(server.port)
    stop.wait()
    server.stop()


def listen_overflows() -> int:
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for header, values in zip(lines[::2], lines[1::2], strict=False):
        if header.startswith("TcpExt:"):
            return int(dict(zip(header.split()[1:], values.split()[1:], strict=True))["ListenOverflows"])
    return 0


def scrape(port: int) -> float | None:
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        response.read()
        conn.close()
        return time.perf_counter() - start if response.status == 200 else None
    except OSError:
        return None


def run(backlog: int, parallel: int, rounds: int, series: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=serve, args=(backlog, series, ready, stop), daemon=True)
    proc.start()
    port = ready.get(timeout=60)
    scrape(port)  # warm-up
    latencies: list[float] = []
    failures = 0
    before = listen_overflows()
    for _ in range(rounds):
        barrier = threading.Barrier(parallel)
        results: list[float | None] = [None] * parallel

        def client(index: int, barrier: threading.Barrier = barrier, results: list[float | None] = results) -> None:
            barrier.wait()
            results[index] = scrape(port)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(parallel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        latencies += [r for r in results if r is not None]
        failures += sum(r is None for r in results)
    overflows = listen_overflows() - before
    stop.set()
    proc.join(30)
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else 0.0

    return {"backlog": backlog, "parallel": parallel, "rounds": rounds, "series": series,
            "scrapes": len(latencies) + failures, "failed": failures, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
            "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
            "listen_overflows": overflows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlogs", default="5,1024")
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--series", type=int, default=5000)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results = []
    for backlog in (int(b) for b in args.backlogs.split(",")):
        result = run(backlog, args.parallel, args.rounds, args.series)
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
