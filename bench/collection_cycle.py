"""Collection-cycle benchmark on a real local Kafka broker.

For each grid point (groups, partitions) it grows the cluster to that size (topics of 10 partitions, a few
messages per partition, and groups whose offsets are committed through the admin API), runs the real exporter
as a separate process (`kafka-detective serve`), and measures:

- cycle time per phase (kafka_detective_collection_duration_seconds; median over the measured cycles),
- Kafka requests per cycle by API (kafka_detective_kafka_requests_total deltas),
- the exporter's peak RSS (VmHWM of its process),
- /metrics scrape latency p50/p99 and size.

Usage: python bench/collection_cycle.py [--grid 100x1000,500x5000,2000x10000] [--cycles 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import CoordinatorNotAvailableError
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

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
            producer = KafkaProducer(bootstrap_servers=self.kafka.bootstrap_servers, linger_ms=50, acks=1)
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


def parse(text: str) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[s.name].append(s)
    return out


def scrape(port: int, gzip_ok: bool = False) -> tuple[bytes, float]:
    """One scrape; with gzip_ok, as Prometheus scrapes (Accept-Encoding: gzip), returning the compressed body."""
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    started = time.perf_counter()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as r:
        body = r.read()
    return body, time.perf_counter() - started


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(kafka: LocalKafka, cycles: int, interval: float, extra_config: str = "") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(
            "listen_address: 127.0.0.1\nlisten_port: 0\n"
            f"interval_seconds: {interval}\n"
            "clusters:\n  - name: bench\n"
            f"    bootstrap_servers: [{kafka.bootstrap_servers}]\n    request_timeout_seconds: 60\n" + extra_config
        )
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen(
            [sys.executable, "-c", BOOT, str(config), str(port_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not port_file.exists() or not port_file.read_text().strip():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"exporter did not start: {proc.stderr.read() if proc.stderr else ''}")
                time.sleep(0.2)
            port = int(port_file.read_text())
            phases: dict[str, list[float]] = defaultdict(list)
            requests_per_cycle: list[dict[str, float]] = []
            last_cycle, last_requests = None, None
            while len(requests_per_cycle) < cycles:
                body, _ = scrape(port)
                metrics = parse(body.decode())
                cycle = sum(s.value for s in metrics.get("kafka_detective_collection_cycles_total", []))
                if cycle == last_cycle or cycle == 0:
                    time.sleep(0.2)
                    continue
                requests = {s.labels["api"]: s.value for s in metrics.get("kafka_detective_kafka_requests_total", [])}
                if last_cycle is not None and cycle == last_cycle + 1:
                    requests_per_cycle.append({api: v - last_requests.get(api, 0) for api, v in requests.items()})
                    for s in metrics["kafka_detective_collection_duration_seconds"]:
                        phases[s.labels["phase"]].append(s.value)
                last_cycle, last_requests = cycle, requests
            latencies, gzip_latencies = [], []
            size = gzip_size = 0
            for _ in range(100):  # scrapes run while cycles go on, as in production
                zipped, seconds = scrape(port, gzip_ok=True)
                gzip_latencies.append(seconds)
                gzip_size = len(zipped)
                body, seconds = scrape(port)
                latencies.append(seconds)
                size = len(body)
            latencies.sort()
            gzip_latencies.sort()
            series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
            per_phase = {p: statistics.median(v) for p, v in sorted(phases.items())}
            collect = sum(v for p, v in per_phase.items() if p != "render")
            return {
                "phase_median_seconds": per_phase,
                "cycle_median_seconds": collect + per_phase.get("render", 0.0),
                "requests_per_cycle": requests_per_cycle[-1],
                "requests_per_cycle_total": sum(requests_per_cycle[-1].values()),
                "peak_rss_mb": peak_rss_mb(proc.pid),
                "scrape_p50_ms": percentile(latencies, 0.5) * 1000,
                "scrape_p99_ms": percentile(latencies, 0.99) * 1000,
                "scrape_bytes": size,
                "scrape_gzip_p50_ms": percentile(gzip_latencies, 0.5) * 1000,
                "scrape_gzip_p99_ms": percentile(gzip_latencies, 0.99) * 1000,
                "scrape_gzip_bytes": gzip_size,
                "series": series,
            }
        finally:
            proc.terminate()
            proc.wait(30)


# Runs the exporter in a child process and writes the bound port to a file.
BOOT = """
import sys, threading
from kafka_detective.config import load_config
from kafka_detective.exporter import Exporter
config = load_config(sys.argv[1], environ={})
exporter = Exporter(config)
exporter.start()
open(sys.argv[2], "w").write(str(exporter.port))
threading.Event().wait()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", default="100x1000,500x5000,2000x10000", help="groupsxpartitions,...")
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--brokers", type=int, default=1, help="brokers in the local cluster (1 or 3)")
    parser.add_argument("--json", help="write the results as JSON")
    args = parser.parse_args()
    grid = [tuple(int(x) for x in point.split("x")) for point in args.grid.split(",")]
    results = []
    progress(f"starting a local Kafka broker ({os.cpu_count()} cores)")
    heap = "2g" if args.brokers == 1 else "1g"
    with LocalKafka(brokers=args.brokers, heap=heap, broker_overrides={"num.io.threads": 4}) as kafka:
        cluster = Cluster(kafka)
        for groups, partitions in grid:
            cluster.grow(groups, partitions)
            progress(f"measuring {groups} groups over {partitions} partitions")
            result = {"brokers": args.brokers, "groups": groups, "partitions": partitions,
                      **measure(kafka, args.cycles, args.interval)}
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    print(f"cores: {os.cpu_count()}")
    print("| brokers | groups | partitions | series | cycle (median) | slowest phase | requests/cycle | peak RSS | "
          "scrape p50 / p99 (gzip, as Prometheus) | scrape p50 / p99 (plain) | size gzip / plain |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        phase, seconds = max(r["phase_median_seconds"].items(), key=lambda kv: kv[1])
        print(f"| {r['brokers']} | {r['groups']} | {r['partitions']} | {r['series']} | "
              f"{r['cycle_median_seconds']:.2f} s | "
              f"{phase} {seconds:.2f} s | {r['requests_per_cycle_total']:.0f} | {r['peak_rss_mb']:.0f} MB | "
              f"{r['scrape_gzip_p50_ms']:.1f} / {r['scrape_gzip_p99_ms']:.1f} ms | "
              f"{r['scrape_p50_ms']:.1f} / {r['scrape_p99_ms']:.1f} ms | "
              f"{r['scrape_gzip_bytes'] / 1e6:.1f} / {r['scrape_bytes'] / 1e6:.1f} MB |")
    if args.json:
        Path(args.json).write_text(json.dumps({"cores": os.cpu_count(), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
