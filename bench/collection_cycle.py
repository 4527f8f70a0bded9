"""Collection-cycle benchmark on a real local Kafka broker: what a cycle costs as the estate grows.

For each grid point (groups, partitions) it grows the cluster to that size (topics of 10 partitions, a few
messages per partition, and groups whose offsets are committed through the admin API), runs the real exporter
as a separate process (`Exporter`, as `kafka-detective serve` runs it) and measures, in two windows:

- quiet (no scrapes): per cycle, the process CPU seconds (`time.process_time` around `run_cycle`: every thread
  of the process, kafka-python's IO thread included; robust to the load of other processes, unlike wall time),
  the wall time, the phases and the Kafka requests by API; medians over `--cycles` cycles after a warm-up one;
- scraped: `--scrapers` processes scrape /metrics with gzip (as Prometheus does, each on a kept-alive
  connection) every `--pace` seconds for `--scrape-seconds`; scrape latency p50/p99/max over all scrapes and
  over the scrapes that overlapped a cycle (the exporter records each cycle's start and end).

`--serving front,in-process --rounds 3` measures each grid point with the endpoint served by the scrape front
process (as `serve` does) and by threads of the collector process, alternated, to compare them on a shared machine.
`--code before=/tmp/old/exporter,after=` alternates versions of the exporter the same way: each name's directory
goes first on the exporter process's PYTHONPATH (empty: the installed package), so an older checkout
(`git archive <commit> exporter | tar -x -C /tmp/old`) runs against the same broker and estate.

Also the process CPU over the whole intervals of the quiet window divided by its cycles (what the process spends
between cycles too), the peak RSS (VmHWM), the series and page sizes, the core count and the load average before
and after.

Usage: python bench/collection_cycle.py [--grid 100x500,500x2500,2000x10000,5000x25000] [--cycles 5]
       [--interval 10] [--scrapers 3] [--serving front,in-process] [--code NAME=DIR,...] [--rounds 1] [--json OUT]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import CoordinatorNotAvailableError
from kafka.structs import OffsetAndMetadata, TopicPartition

from kafka_detective_tools.sandbox.local_kafka import LocalKafka

PARTITIONS_PER_TOPIC = 10
MESSAGES_PER_PARTITION = 5


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Cluster:
    def __init__(self, kafka: LocalKafka) -> None:
        self.kafka = kafka
        self.admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, request_timeout_ms=120000)
        self.topics = 0
        self.groups = 0

    def grow(self, groups: int, partitions: int) -> None:
        topics = partitions // PARTITIONS_PER_TOPIC
        if topics > self.topics:
            progress(f"creating topics {self.topics}..{topics - 1}")
            for start in range(self.topics, topics, 100):
                batch = {f"bench-{i:05d}": {"num_partitions": PARTITIONS_PER_TOPIC, "replication_factor": 1}
                         for i in range(start, min(start + 100, topics))}
                self.admin.create_topics(batch, timeout_ms=120000)
            self.admin.wait_for_topics([f"bench-{i:05d}" for i in range(self.topics, topics)], timeout_ms=300000)
            # A broker busy creating thousands of partitions may take longer than the default to answer.
            producer = KafkaProducer(bootstrap_servers=self.kafka.bootstrap_servers, linger_ms=50, acks=1,
                                     bootstrap_timeout_ms=120000, request_timeout_ms=120000,
                                     delivery_timeout_ms=300000)
            # Every topic in one metadata refresh: sending to an unknown topic refreshes the metadata of all the
            # producer's topics, once per new topic (quadratic in topics: minutes at 2,500 topics).
            for i in range(self.topics, topics):
                producer._sender.add_topic(f"bench-{i:05d}")
            producer.partitions_for(f"bench-{topics - 1:05d}")
            for i in range(self.topics, topics):
                for p in range(PARTITIONS_PER_TOPIC):
                    for _ in range(MESSAGES_PER_PARTITION):
                        producer.send(f"bench-{i:05d}", b"x" * 16, partition=p)
            producer.flush()
            producer.close()
            self.topics = topics
        if groups > self.groups:
            progress(f"committing offsets for groups {self.groups}..{groups - 1}")
            for g in range(self.groups, groups):
                topic = f"bench-{g % self.topics:05d}"
                offsets = {TopicPartition(topic, p): OffsetAndMetadata(g % MESSAGES_PER_PARTITION, "", None)
                           for p in range(PARTITIONS_PER_TOPIC)}
                for _attempt in range(120):
                    try:
                        self.admin.alter_group_offsets(f"bench-group-{g:05d}", offsets)
                        break
                    except CoordinatorNotAvailableError:  # offsets topic still being created
                        time.sleep(0.5)
                else:
                    raise RuntimeError("group coordinator never became available")
            self.groups = groups


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of the process so far, every thread."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scraper(port: int, until: float, pace: float, out: Any) -> None:
    """Scrape /metrics with gzip on one kept-alive connection until `until`; put [(start, seconds), ...]."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    results = []
    while time.time() < until:
        started = time.time()
        began = time.perf_counter()
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        response.read()
        results.append((started, time.perf_counter() - began))
        time.sleep(max(0.0, pace - (time.time() - started)))
    conn.close()
    out.put(results)


def read_cycles(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def scrape_window(port: int, scrapers: int, seconds: float, pace: float) -> list[tuple[float, float]]:
    """`scrapers` processes (each with its own GIL, as separate Prometheus servers are) scraping at once."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    until = time.time() + seconds
    procs = [ctx.Process(target=scraper, args=(port, until, pace, out), daemon=True) for _ in range(scrapers)]
    for proc in procs:
        proc.start()
    results = [sample for _ in procs for sample in out.get(timeout=seconds + 120)]
    for proc in procs:
        proc.join(30)
    return results


def latency_summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    latencies = [seconds * 1000 for _, seconds in samples]
    return {"n": len(latencies), "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
            "max_ms": max(latencies, default=float("nan"))}


def measure(kafka: LocalKafka, cycles: int, interval: float, extra_config: str = "", scrapers: int = 3,
            scrape_seconds: float | None = None, pace: float = 0.1, serving: str = "front",
            pythonpath: str = "") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(
            "listen_address: 127.0.0.1\nlisten_port: 0\n"
            f"interval_seconds: {interval}\n"
            "clusters:\n  - name: bench\n"
            f"    bootstrap_servers: [{kafka.bootstrap_servers}]\n    request_timeout_seconds: 60\n" + extra_config
        )
        port_file, cycles_file = Path(tmp) / "port", Path(tmp) / "cycles.jsonl"
        stderr_file = Path(tmp) / "stderr.log"
        load_before = os.getloadavg()
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, (pythonpath, env.get("PYTHONPATH"))))
        with stderr_file.open("w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-c", BOOT, str(config), str(port_file), str(cycles_file), serving],
                stdout=subprocess.DEVNULL, stderr=stderr, text=True, env=env,
            )
        try:
            deadline = time.monotonic() + 120
            while not port_file.exists() or not port_file.read_text().strip():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"exporter did not start: {stderr_file.read_text()[-2000:]}")
                time.sleep(0.2)
            port_text, module = port_file.read_text().split("\n", 1)
            port = int(port_text)
            # Quiet window: the first cycle (connect, topic configs, log dirs, cold caches) is a warm-up. The
            # process CPU is read at the end of each cycle (the loop polls every 0.1 s): from the warm-up's end to
            # the last cycle's end there are `cycles` whole intervals.
            cpu_marks: dict[int, float] = {}
            while len(read_cycles(cycles_file)) < cycles + 1:
                if proc.poll() is not None:
                    raise RuntimeError(f"exporter exited: {stderr_file.read_text()[-2000:]}")
                cpu_marks.setdefault(len(read_cycles(cycles_file)), cpu_seconds(proc.pid))
                time.sleep(0.1)
            cpu_marks.setdefault(cycles + 1, cpu_seconds(proc.pid))
            quiet = read_cycles(cycles_file)[1:cycles + 1]
            load_quiet = os.getloadavg()
            samples = scrape_window(port, scrapers, scrape_seconds or 2 * interval + 1, pace)
            windows = [(c["start"], c["end"]) for c in read_cycles(cycles_file)]
            during = [(t, s) for t, s in samples if any(start < t + s and t < end for start, end in windows)]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as r:
                body = r.read()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=60) as r:
                gzip_size = len(r.read())
            requests = [{api: n - c0["requests"].get(api, 0) for api, n in c1["requests"].items()}
                        for c0, c1 in itertools.pairwise(quiet)]
            # kafka-python's IO thread warns when one step of its event loop ran for more than 0.1 s.
            slow_steps = stderr_file.read_text().count("blocking the event loop")
            phases = sorted({p for c in quiet for p in c["phases"]})
            phase_median = {p: statistics.median(c["phases"].get(p, 0.0) for c in quiet) for p in phases}
            return {
                "serving": serving,
                "exporter_module": module.strip(),
                # None when the warm-up cycle ended before the first poll (no start mark for the window).
                "cpu_seconds_per_interval": ((cpu_marks[cycles + 1] - cpu_marks[1]) / cycles
                                             if 1 in cpu_marks else None),
                "cpu_seconds_per_cycle": statistics.median(c["cpu"] for c in quiet),
                "cpu_seconds_per_cycle_all": [round(c["cpu"], 3) for c in quiet],
                "cycle_wall_seconds": statistics.median(c["end"] - c["start"] for c in quiet),
                "phase_median_seconds": phase_median,
                # The sum of the phases, render included (the rendering of a cycle is reported by the next one).
                "cycle_median_seconds": sum(phase_median.values()),
                "requests_per_cycle": requests[-1] if requests else {},
                "requests_per_cycle_total": sum(requests[-1].values()) if requests else 0,
                "peak_rss_mb": peak_rss_mb(proc.pid),
                "event_loop_warnings": slow_steps,
                "cycles_run": len(windows),
                "scrapers": scrapers,
                "scrape_all": latency_summary(samples),
                "scrape_during_cycle": latency_summary(during),
                "scrape_between_cycles": latency_summary([x for x in samples if x not in during]),
                "scrape_bytes": len(body),
                "scrape_gzip_bytes": gzip_size,
                "series": sum(1 for line in body.decode().splitlines() if line and not line.startswith("#")),
                "load_average": {"before": load_before[0], "quiet": load_quiet[0], "after": os.getloadavg()[0]},
            }
        finally:
            proc.terminate()
            proc.wait(30)


# Runs the exporter in a child process, writes the bound port to a file and appends one JSON line per cycle:
# its start and end (Unix time), the process CPU seconds it took (every thread), its phases and the requests
# counted so far.
BOOT = """
import json, logging, sys, threading, time
from kafka_detective.config import load_config
from kafka_detective.exporter import Exporter
from kafka_detective.pipeline.cycle import ClusterCollector

run_cycle = ClusterCollector.run_cycle

def recorded_cycle(self):
    start, cpu = time.time(), time.process_time()
    try:
        return run_cycle(self)
    finally:
        record = {"start": start, "end": time.time(), "cpu": time.process_time() - cpu,
                  "phases": {**self._phase_seconds, "render": self._render_seconds or 0.0},
                  "requests": self.requests.snapshot()}
        with open(sys.argv[3], "a") as out:
            out.write(json.dumps(record) + "\\n")

ClusterCollector.run_cycle = recorded_cycle
logging.basicConfig(level=logging.WARNING)  # as `serve` logs: kafka-python's warnings reach stderr
config = load_config(sys.argv[1], environ={})
exporter = Exporter(config, scrape_front=sys.argv[4] == "front")
exporter.start()
import kafka_detective
open(sys.argv[2], "w").write(f"{exporter.port}\\n{kafka_detective.__file__}")
threading.Event().wait()
"""


def markdown(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
             f"{args.brokers} broker(s), interval {args.interval:g} s, {args.scrapers} concurrent scrapers "
             f"every {args.pace:g} s; medians of {args.cycles} cycles.", "",
             "| code | serving | groups | partitions | series | CPU s / cycle | CPU s / interval | cycle (wall) | "
             "render | requests / cycle | peak RSS | scrape p50 / p99 (all) | "
             "scrape p50 / p99 / max (during cycles, n) | event-loop warnings / cycles | load (quiet / scraped) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        a, d, load = r["scrape_all"], r["scrape_during_cycle"], r["load_average"]
        interval = r["cpu_seconds_per_interval"]
        lines.append(
            f"| {r['code'] or 'installed'} | {r['serving']} | {r['groups']:,} | {r['partitions']:,} | "
            f"{r['series']:,} | {r['cpu_seconds_per_cycle']:.2f} | "
            f"{'-' if interval is None else f'{interval:.2f}'} | "
            f"{r['cycle_wall_seconds']:.2f} s | {r['phase_median_seconds'].get('render', 0.0):.2f} s | "
            f"{r['requests_per_cycle_total']:.0f} | {r['peak_rss_mb']:.0f} MB | "
            f"{a['p50_ms']:.1f} / {a['p99_ms']:.1f} ms | {d['p50_ms']:.1f} / {d['p99_ms']:.1f} / {d['max_ms']:.1f} ms "
            f"({d['n']}) | {r['event_loop_warnings']} / {r['cycles_run']} | "
            f"{load['quiet']:.1f} / {load['after']:.1f} |")
    first, last = results[0], results[-1]
    if last["partitions"] != first["partitions"]:
        per_partition = ((last["cpu_seconds_per_cycle"] - first["cpu_seconds_per_cycle"])
                         / (last["partitions"] - first["partitions"]))
        lines += ["", f"Slope: {per_partition * 10_000:.2f} CPU s per cycle per 10,000 partitions (and 2,000 "
                      f"groups), from {first['partitions']:,} to {last['partitions']:,} partitions."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", default="100x500,500x2500,2000x10000,5000x25000", help="groupsxpartitions,...")
    parser.add_argument("--cycles", type=int, default=5, help="measured cycles per grid point (after a warm-up)")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--scrapers", type=int, default=3, help="concurrent scraping processes")
    parser.add_argument("--pace", type=float, default=0.1, help="seconds between one scraper's scrapes")
    parser.add_argument("--serving", default="front",
                        help="who serves the endpoint, comma-separated to alternate: front (the scrape front process, "
                        "as serve runs), in-process (threads of the collector process)")
    parser.add_argument("--code", default="=",
                        help="exporter versions to alternate, NAME=DIR,...: DIR goes first on the exporter's "
                        "PYTHONPATH (empty: the installed package)")
    parser.add_argument("--rounds", type=int, default=1, help="measurements of each grid point and serving mode")
    parser.add_argument("--brokers", type=int, default=1, help="brokers in the local cluster (1 or 3)")
    parser.add_argument("--json", help="write the results as JSON")
    parser.add_argument("--markdown", help="write the table as Markdown")
    args = parser.parse_args()
    grid = [tuple(int(x) for x in point.split("x")) for point in args.grid.split(",")]
    results = []
    progress(f"starting a local Kafka broker ({os.cpu_count()} cores)")
    heap = "2g" if args.brokers == 1 else "1g"
    with LocalKafka(brokers=args.brokers, heap=heap, broker_overrides={"num.io.threads": 4}) as kafka:
        cluster = Cluster(kafka)
        for groups, partitions in grid:
            cluster.grow(groups, partitions)
            codes = [item.partition("=")[::2] for item in args.code.split(",")]
            for _, (code, path), serving in itertools.product(range(args.rounds), codes, args.serving.split(",")):
                progress(f"measuring {groups} groups over {partitions} partitions, code {code or 'installed'}, "
                         f"endpoint served {serving} (load {os.getloadavg()[0]:.1f})")
                result = {"brokers": args.brokers, "groups": groups, "partitions": partitions, "code": code,
                          **measure(kafka, args.cycles, args.interval, scrapers=args.scrapers, pace=args.pace,
                                    serving=serving, pythonpath=path)}
                results.append(result)
                print(json.dumps(result), flush=True)
    table = markdown(results, args)
    print()
    print(table, end="")
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"cores": os.cpu_count(), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
