"""Soak benchmark: the exporter's threads, file descriptors and memory through churn, broker kills and outages.

Runs the real exporter as a separate process against a local Kafka (3 brokers by default) for `--minutes`
(an hour by default) while the cluster goes through a repeating program:

- churn all the time: every few seconds a topic is created with a group committed on it, and the oldest churn
  topic and group are deleted (so series appear and vanish),
- a broker killed (SIGKILL) and restarted later, once per period,
- a full outage (every broker killed, then all restarted), once per period.

Every `--sample-seconds` it reads the exporter's thread count, open file descriptors (and how many are
sockets) and RSS from /proc, and scrapes /metrics. It prints start / end / max of each (start: the first sample
after the warm-up, once the process has reached its working set) and writes them as JSON with `--json`.

Usage: nice -n 5 python bench/soak.py [--minutes 60] [--brokers 3] [--interval 5] [--json bench/results/soak.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from kafka.structs import OffsetAndMetadata, TopicPartition

# Run as `python bench/soak.py`: the collection-cycle benchmark beside it starts the exporter the same way.
from collection_cycle import BOOT, progress
from kafka_detective_tools.sandbox.local_kafka import LocalKafka


def process_sample(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    fds = sockets = 0
    for entry in os.scandir(f"/proc/{pid}/fd"):
        fds += 1
        with contextlib.suppress(OSError):  # closed meanwhile
            sockets += os.readlink(entry.path).startswith("socket:")
    return {"threads": int(fields["Threads"]), "fds": fds, "sockets": sockets,
            "rss_mb": int(fields["VmRSS"].split()[0]) / 1024}


def scrape(port: int) -> tuple[bool, float | None]:
    """(answered, kafka_detective_cluster_up or None)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            body = response.read().decode()
    except OSError:
        return False, None
    for line in body.splitlines():
        if line.startswith("kafka_detective_cluster_up{"):
            return True, float(line.rsplit(" ", 1)[1])
    return True, None


class Churn(threading.Thread):
    """Creates and deletes topics and groups through whatever brokers are up; failures just wait and retry."""

    def __init__(self, kafka: LocalKafka, every: float, keep: int) -> None:
        super().__init__(name="churn", daemon=True)
        self.kafka = kafka
        self.every = every
        self.keep = keep
        self.stop = threading.Event()
        self.created = self.deleted = self.failures = 0
        self._admin: KafkaAdminClient | None = None

    def admin(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.kafka.bootstrap_servers.split(","),
                                           client_id="soak-churn", request_timeout_ms=10000,
                                           bootstrap_timeout_ms=10000)
        return self._admin

    def drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):  # a half-dead client; the next round makes a new one
                admin.close()

    def run(self) -> None:
        live: list[str] = []
        serial = 0
        while not self.stop.wait(self.every):
            try:
                admin = self.admin()
                name = f"soak-{serial:05d}"
                admin.create_topics({name: {"num_partitions": 3, "replication_factor": min(2, self.kafka.brokers)}})
                serial += 1
                live.append(name)
                self.created += 1
                admin.alter_group_offsets(f"{name}-group", {TopicPartition(name, p): OffsetAndMetadata(0, "", None)
                                                            for p in range(3)})
                while len(live) > self.keep:
                    old = live[0]
                    with contextlib.suppress(Exception):  # already gone after a retried round
                        admin.delete_groups([f"{old}-group"])
                    admin.delete_topics([old], raise_errors=False)
                    live.pop(0)
                    self.deleted += 1
            except Exception as error:  # brokers down (the program kills them): retry on the next round
                self.failures += 1
                if self.failures % 10 == 1:
                    progress(f"churn: {type(error).__name__}: {str(error)[:120]}")
                self.drop_admin()
        self.drop_admin()


def summarize(samples: list[dict[str, Any]], warmup_seconds: float) -> dict[str, Any]:
    settled = [s for s in samples if s["t"] >= warmup_seconds] or samples
    out: dict[str, Any] = {}
    for key in ("threads", "fds", "sockets", "rss_mb"):
        values = [s[key] for s in settled]
        out[key] = {"first": samples[0][key], "start": settled[0][key], "end": settled[-1][key],
                    "min": min(values), "max": max(values)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to run (default: 60)")
    parser.add_argument("--brokers", type=int, default=3)
    parser.add_argument("--interval", type=float, default=5.0, help="exporter collection interval, seconds")
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--period-minutes", type=float, default=6.0,
                        help="one broker kill and one full outage per period (default: 6)")
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument("--warmup-seconds", type=float, default=60.0)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    if args.minutes <= 0 or args.brokers < 1:
        parser.error("--minutes must be > 0 and --brokers >= 1")

    random.seed(7)
    duration = args.minutes * 60
    period = args.period_minutes * 60
    events: list[str] = []
    samples: list[dict[str, Any]] = []
    scrapes = {"ok": 0, "failed": 0, "up_samples": 0, "down_samples": 0}
    with LocalKafka(brokers=args.brokers) as kafka, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(
            "listen_address: 127.0.0.1\nlisten_port: 0\n"
            f"interval_seconds: {args.interval}\n"
            "clusters:\n  - name: soak\n"
            f"    bootstrap_servers: [{kafka.bootstrap_servers}]\n    request_timeout_seconds: 5\n")
        port_file = Path(tmp) / "port"
        log_path = Path(tmp) / "exporter.log"
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen([sys.executable, "-c", BOOT, str(config), str(port_file)],
                                    stdout=subprocess.DEVNULL, stderr=log_file)
        churn = Churn(kafka, every=3.0, keep=20)
        try:
            deadline = time.monotonic() + 120
            while not (port_file.exists() and port_file.read_text().strip()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"exporter did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            port = int(port_file.read_text())
            churn.start()
            started = time.monotonic()
            next_sample = started
            killed: int | None = None
            done_in_period: set[str] = set()
            period_index = -1
            progress(f"soak: {args.minutes:g} min, {args.brokers} brokers, exporter pid {proc.pid}")
            while (now := time.monotonic()) - started < duration:
                if proc.poll() is not None:
                    raise RuntimeError(f"exporter exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
                elapsed = now - started
                if int(elapsed // period) != period_index:
                    period_index, done_in_period = int(elapsed // period), set()
                offset = elapsed - period_index * period
                if "kill" not in done_in_period and offset >= period / 6 and args.brokers > 1:
                    killed = random.choice(kafka.live_broker_ids)
                    kafka.kill_broker(killed)
                    done_in_period.add("kill")
                    events.append(f"{elapsed:.0f}s kill broker {killed}")
                    progress(events[-1])
                if "restart" not in done_in_period and killed is not None and offset >= period / 6 + 45:
                    kafka.restart_stopped(timeout=120)
                    killed = None
                    done_in_period.add("restart")
                    events.append(f"{time.monotonic() - started:.0f}s broker back")
                    progress(events[-1])
                if "outage" not in done_in_period and offset >= period * 0.55:
                    for broker_id in kafka.live_broker_ids:
                        kafka.kill_broker(broker_id)
                    done_in_period.add("outage")
                    events.append(f"{elapsed:.0f}s full outage")
                    progress(events[-1])
                if ("recover" not in done_in_period and "outage" in done_in_period
                        and offset >= period * 0.55 + args.outage_seconds):
                    kafka.restart_stopped(timeout=180)
                    done_in_period.add("recover")
                    events.append(f"{time.monotonic() - started:.0f}s cluster back")
                    progress(events[-1])
                if now >= next_sample:
                    sample = {"t": round(elapsed, 1), **process_sample(proc.pid)}
                    answered, up = scrape(port)
                    scrapes["ok" if answered else "failed"] += 1
                    if up is not None:
                        scrapes["up_samples" if up == 1 else "down_samples"] += 1
                    sample["cluster_up"] = up
                    samples.append(sample)
                    next_sample += args.sample_seconds
                    if len(samples) % 30 == 0:
                        progress(f"{elapsed:.0f}s threads {sample['threads']} fds {sample['fds']} "
                                 f"sockets {sample['sockets']} rss {sample['rss_mb']:.1f} MB")
                time.sleep(0.5)
            kafka.restart_stopped(timeout=180)  # the last sample with the cluster whole again
            time.sleep(3 * args.interval)
            sample = {"t": round(time.monotonic() - started, 1), **process_sample(proc.pid)}
            sample["cluster_up"] = scrape(port)[1]
            samples.append(sample)
        finally:
            churn.stop.set()
            churn.join(30)
            proc.terminate()
            proc.wait(30)
    figures = summarize(samples, args.warmup_seconds)
    result = {"minutes": args.minutes, "brokers": args.brokers, "interval_seconds": args.interval,
              "samples": len(samples), "scrapes": scrapes, "events": events,
              "churn": {"topics_created": churn.created, "topics_deleted": churn.deleted,
                        "failed_rounds": churn.failures},
              "figures": figures}
    print(f"soak: {args.minutes:g} min, {len(samples)} samples, {len(events)} events, "
          f"{churn.created} topics created / {churn.deleted} deleted, scrapes {scrapes}")
    print(f"{'':8} {'first':>8} {'start':>8} {'end':>8} {'min':>8} {'max':>8}")
    for key, row in figures.items():
        print(f"{key:8} " + " ".join(f"{row[c]:8.1f}" for c in ("first", "start", "end", "min", "max")))
    if args.json:
        Path(args.json).write_text(json.dumps({**result, "series": samples}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
