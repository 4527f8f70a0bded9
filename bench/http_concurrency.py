"""Bursts of parallel scrapes against the exporter's HTTP endpoint: latency with the old and the new listen backlog.

The endpoint runs in its own process (so the scraping threads do not share its GIL) with a synthetic exposition
of `--series` lag series. Each round, `--parallel` clients open a new connection at the same instant (a barrier)
and fetch /metrics with gzip, as Prometheus does. Reported per backlog: scrape latency p50 / p99 / max, failed
scrapes, and the kernel's TcpExt ListenOverflows delta (accept-queue overflows, machine-wide: other processes
may add a few).

Two more measurements on the new server: `--idle 300` opens that many connections that send nothing and reports
the server's thread count until the idle timeout has closed them; `--auth` reports the latency of the first
scrape with basic auth (one bcrypt check at cost 10) and of the cached ones after it.

Usage: python bench/http_concurrency.py [--backlogs 5,1024] [--parallel 50] [--rounds 20] [--series 5000]
       [--idle 300] [--auth] [--json bench/results/http_concurrency.json]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import statistics
import threading
import time
from pathlib import Path
from typing import Any


def serve(backlog: int, series: int, ready: Any, stop: Any, web_config_file: str | None = None) -> None:
    from kafka_detective.metrics.exposition import Exposition, family
    from kafka_detective.serving import http as serving

    exposition = Exposition()
    lag = family("kafka_consumergroup_lag")
    for i in range(series):
        lag.add(("bench", f"group-{i // 12}", f"topic-{i // 120}", str(i % 12)), i)
    exposition.publish("bench", [lag])
    serving._HTTPServer.request_queue_size = backlog  # the only difference between the runs
    server = serving.MetricsServer(serving.MetricsApp(exposition, []), "127.0.0.1", 0,
                                   web_config_file=web_config_file)
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


def scrape(port: int, headers: dict[str, str] | None = None) -> float | None:
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip", **(headers or {})})
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


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def idle(connections: int, series: int) -> dict[str, Any]:
    """Threads of the server while `connections` silent clients are open, and how long until they are freed."""
    import socket

    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=serve, args=(1024, series, ready, stop), daemon=True)
    proc.start()
    port = ready.get(timeout=60)
    assert proc.pid is not None
    baseline = threads_of(proc.pid)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    start = time.monotonic()
    while threads_of(proc.pid) < baseline + connections and time.monotonic() - start < 30:
        time.sleep(0.1)
    peak = threads_of(proc.pid)
    while threads_of(proc.pid) > baseline + 1 and time.monotonic() - start < 300:
        time.sleep(0.5)
    released = time.monotonic() - start
    closed = 0
    for client in clients:
        client.settimeout(1)
        with contextlib.suppress(OSError):
            closed += client.recv(1) == b""
        client.close()
    stop.set()
    proc.join(30)
    return {"idle_connections": connections, "threads_before": baseline, "threads_peak": peak,
            "threads_after": threads_of(proc.pid) if proc.is_alive() else baseline,
            "released_after_s": round(released, 1), "closed_by_server": closed}


def auth(series: int, scrapes: int = 50) -> dict[str, Any]:
    import base64
    import tempfile

    import bcrypt

    with tempfile.TemporaryDirectory() as tmp:
        hashed = bcrypt.hashpw(b"bench-password", bcrypt.gensalt(rounds=10)).decode()
        web = Path(tmp) / "web.yml"
        web.write_text(json.dumps({"basic_auth_users": {"prometheus": hashed}}))  # JSON is YAML
        ctx = multiprocessing.get_context("spawn")
        ready, stop = ctx.Queue(), ctx.Event()
        proc = ctx.Process(target=serve, args=(1024, series, ready, stop, str(web)), daemon=True)
        proc.start()
        port = ready.get(timeout=60)
        header = {"Authorization": "Basic " + base64.b64encode(b"prometheus:bench-password").decode()}
        first = scrape(port, header)
        cached = sorted(t for t in (scrape(port, header) for _ in range(scrapes)) if t is not None)
        plain_open = scrape(port)  # no credentials: a 401, so None
        stop.set()
        proc.join(30)
    return {"bcrypt_cost": 10, "first_scrape_ms": round((first or 0) * 1000, 1),
            "cached_p50_ms": round(cached[len(cached) // 2] * 1000, 1),
            "without_credentials_refused": plain_open is None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlogs", default="5,1024")
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--series", type=int, default=5000)
    parser.add_argument("--idle", type=int, default=0, help="silent connections to open (0: skip)")
    parser.add_argument("--auth", action="store_true", help="measure scrapes with basic auth")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    for backlog in (int(b) for b in args.backlogs.split(",")):
        result = run(backlog, args.parallel, args.rounds, args.series)
        print(json.dumps(result), flush=True)
        results.append(result)
    extra = ([idle(args.idle, args.series)] if args.idle else []) + ([auth(args.series)] if args.auth else [])
    for result in extra:
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
