#!/usr/bin/env python3
"""Kafka Detective side by side with kafka_exporter and kminion, on ONE local Kafka broker, SAME workload.

The broker is the project's own `LocalKafka` (KRaft, jars cached by the project), and the estates are grown by
the project's own `bench/collection_cycle.py` `Cluster.grow()` (topics of 10 partitions with 5 messages each,
groups whose offsets are committed on one topic each, no live consumers). Two extra groups are added for the
correctness check: a classic group `peers-busy-group` with different lags on 6 partitions (one uncommitted),
and a KIP-848 (`group.protocol=consumer`) group `peers-848-group` with lag 40 on 3 partitions.

For each estate, each exporter is run alone against the same broker state:
- Kafka Detective (`kafka-detective serve`, default 15 s interval): cycle time from its own
  kafka_detective_collection_duration_seconds (sum of phases, median), CPU seconds per cycle (process CPU over
  K whole cycles), scrape latency p50/p99 over 100 gzip scrapes spread over more than one interval;
- kafka_exporter and kminion (both collect inside the scrape): scrape latency (= collection time) over up to
  50 sequential gzip scrapes (fewer at the big estate if a time budget runs out), CPU seconds per scrape.
For all: peak RSS (VmHWM), series on /metrics, broker CPU seconds per cycle/scrape, time to first data.

Then: lag per partition from each exporter against `kafka-consumer-groups --describe --all-groups`, and the
metric family names / label sets of kafka_exporter against the project's.

Usage: python bench/peers_bench.py --bin DIR [--estates 100x1000,2000x10000] [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.structs import OffsetAndMetadata, TopicPartition

# Run as `python bench/peers_bench.py`: the collection-cycle benchmark beside it grows the estates.
from collection_cycle import Cluster
from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.local_kafka import LocalKafka

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUSY_GROUP, BUSY_TOPIC = "peers-busy-group", "peers-busy"
BUSY_PRODUCED = [1000, 1200, 1400, 1600, 1800, 2000]
BUSY_COMMITTED = [1000, 1100, 700, 0, 1799, None]  # lag 0, 100, 700, 1600, 1, (uncommitted)
K848_GROUP, K848_TOPIC = "peers-848-group", "peers-848"
PROM_SCRAPE_TIMEOUT = 10.0  # Prometheus' default scrape_timeout


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------ processes


def cpu_seconds(pid: int) -> float:
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"exporter exited with {proc.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} not open after {timeout}s")
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# ------------------------------------------------------------------------------------------------ scraping


def scrape(port: int, timeout: float = 900, decode: bool = True) -> tuple[bytes, float, int]:
    """One scrape as Prometheus does it (Accept-Encoding: gzip): (body, seconds, bytes on the wire).

    With decode=False the body stays compressed: timed loops don't spend this machine's CPU on decompressing.
    """
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Accept-Encoding": "gzip"})
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        encoding = r.headers.get("Content-Encoding", "")
    seconds = time.perf_counter() - started
    return (gzip.decompress(raw) if encoding == "gzip" and decode else raw), seconds, len(raw)


LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text: str, names: set[str] | None = None):
    """(name, labels dict, value) for each sample line (optionally only those names)."""
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        if names is not None:
            head = line.split("{", 1)[0].split(" ", 1)[0]
            if head not in names:
                continue
        m = LINE.match(line)
        if not m:
            continue
        yield m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))


def series_count(text: str) -> int:
    return sum(1 for line in text.splitlines() if line and line[0] != "#")


def families(text: str) -> dict[str, dict]:
    """family -> {type, labels (union of label names over its samples), samples}."""
    fams: dict[str, dict] = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind
    for name, labels, _ in samples(text):
        fam = name
        if fam not in types:
            for suffix in ("_total", "_bucket", "_sum", "_count", "_created", "_info"):
                if name.endswith(suffix) and name[: -len(suffix)] in types:
                    fam = name[: -len(suffix)]
                    break
        entry = fams.setdefault(fam, {"type": types.get(fam, "untyped"), "labels": set(), "samples": 0})
        entry["labels"].update(labels)
        entry["samples"] += 1
    return fams


def first_value(text: str, name: str) -> float | None:
    m = re.search(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)", text, re.M)
    return float(m.group(1)) if m else None


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))]


# ------------------------------------------------------------------------------------------------ exporters


class Exporter:
    name = "?"
    lag_family = "kafka_consumergroup_lag"
    lag_labels = ("consumergroup", "topic", "partition")

    def __init__(self, bin_dir: Path, bootstrap: str, workdir: Path) -> None:
        self.bin_dir, self.bootstrap, self.workdir = bin_dir, bootstrap, workdir
        self.port = free_port()

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def available(self) -> bool:
        return True

    def lag(self, text: str) -> dict[tuple[str, str, int], float]:
        g, t, p = self.lag_labels
        return {(lb[g], lb[t], int(lb[p])): v for _, lb, v in samples(text, {self.lag_family})}

    def start(self) -> subprocess.Popen:
        cmd, env = self.command()
        self.cmdline = cmd
        log(f"starting {self.name}: {' '.join(cmd)}")
        with open(self.workdir / f"{self.name}.log", "ab") as logf:  # the child keeps its own descriptor
            return subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**os.environ, **env})


class Detective(Exporter):
    name = "kafka-detective"

    def command(self):
        exe = Path(sys.executable).parent / "kafka-detective"
        return [str(exe), "serve", "--bootstrap-server", self.bootstrap, "--cluster-name", "peers",
                "--listen-address", "127.0.0.1", "--listen-port", str(self.port)], {}


class KafkaExporter(Exporter):
    name = "kafka_exporter"

    def available(self):
        return (self.bin_dir / "kafka_exporter").exists()

    def command(self):
        return [str(self.bin_dir / "kafka_exporter"), f"--kafka.server={self.bootstrap}",
                f"--kafka.version={os.environ.get('KAFKA_EXPORTER_KAFKA_VERSION', '4.0.0')}",
                f"--web.listen-address=127.0.0.1:{self.port}"], {}


class KMinion(Exporter):
    name = "kminion"
    lag_family = "kminion_kafka_consumer_group_topic_partition_lag"
    lag_labels = ("group_id", "topic_name", "partition_id")

    def available(self):
        return (self.bin_dir / "kminion").exists()

    def command(self):
        cfg = self.workdir / "kminion.yaml"
        cfg.write_text(f"kafka:\n  brokers: [\"{self.bootstrap}\"]\n"
                       f"exporter:\n  host: 127.0.0.1\n  port: {self.port}\n")
        return [str(self.bin_dir / "kminion")], {"CONFIG_FILEPATH": str(cfg)}


# ------------------------------------------------------------------------------------------------ measuring


def measure_detective(ex: Detective, broker_pid: int, cycles_window: int) -> tuple[dict, str]:
    started = time.monotonic()
    log_file = ex.workdir / f"{ex.name}.log"
    log_from = log_file.stat().st_size if log_file.exists() else 0
    proc = ex.start()
    try:
        wait_port(ex.port, proc)
        seen_cycle, cycle_sums, phase_samples, first_data = 0.0, [], defaultdict(list), None
        t0 = c0 = b0 = None
        while True:  # poll self-metrics; record every completed cycle's phases
            text, _, _ = scrape(ex.port)
            text = text.decode()
            cycles = first_value(text, "kafka_detective_collection_cycles_total") or 0.0
            if cycles > seen_cycle:
                seen_cycle = cycles
                phases = {lb["phase"]: v for _, lb, v in samples(text, {"kafka_detective_collection_duration_seconds"})}
                if first_data is None:
                    first_data = time.monotonic() - started
                    first_phases = phases
                else:
                    cycle_sums.append(sum(phases.values()))
                    for k, v in phases.items():
                        phase_samples[k].append(v)
                if t0 is None and cycles >= 2:
                    t0, c0, b0, w0 = cpu_seconds(proc.pid), cycles, cpu_seconds(broker_pid), time.monotonic()
                elif t0 is not None and cycles >= c0 + cycles_window:
                    cpu_per_cycle = (cpu_seconds(proc.pid) - t0) / (cycles - c0)
                    broker_per_cycle = (cpu_seconds(broker_pid) - b0) / (cycles - c0)
                    seconds_per_cycle = (time.monotonic() - w0) / (cycles - c0)
                    break
            time.sleep(1.0 if t0 is None else 3.0)  # few polls inside the CPU window
        interval = 15.0
        lat, sizes = [], []
        for _ in range(int(interval / 0.2) + 25):  # 100 gzip scrapes spread over more than one interval
            _, seconds, size = scrape(ex.port, decode=False)
            lat.append(seconds)
            sizes.append(size)
            time.sleep(0.2)
        body, _, _ = scrape(ex.port)
        text = body.decode()
        res = {
            "exporter": ex.name,
            "time_to_first_data_s": first_data,
            "first_cycle_s": sum(first_phases.values()),
            "cycle_median_s": statistics.median(cycle_sums),
            "cycles_measured": len(cycle_sums),
            "phase_median_s": {k: round(statistics.median(v), 3) for k, v in sorted(phase_samples.items())},
            "cpu_s_per_cycle": cpu_per_cycle,
            "broker_cpu_s_per_cycle": broker_per_cycle,
            "seconds_per_window_unit": seconds_per_cycle,
            "scrape_n": len(lat),
            "scrape_p50_ms": percentile(lat, 0.5) * 1000,
            "scrape_p99_ms": percentile(lat, 0.99) * 1000,
            "scrape_max_ms": max(lat) * 1000,
            "scrape_p90_ms": percentile(lat, 0.9) * 1000,
            "latencies_ms": [round(x * 1000, 2) for x in lat],
            "gzip_bytes": sizes[-1],
            "plain_bytes": len(body),
            "series": series_count(text),
            "self_series": first_value(text, "kafka_detective_series"),
            "peak_rss_mb": vm_hwm_mb(proc.pid),
            "cmd": " ".join(ex.cmdline),
        }
        with log_file.open("rb") as logged:  # kafka-python's warning for an event-loop step over 0.1 s
            logged.seek(log_from)
            res["event_loop_warnings"] = logged.read().count(b"blocking the event loop")
        return res, text
    finally:
        stop(proc)


def measure_scraper(ex: Exporter, broker_pid: int, max_scrapes: int, budget_s: float,
                    pace_s: float = 0.0) -> tuple[dict, str]:
    started = time.monotonic()
    proc = ex.start()
    try:
        wait_port(ex.port, proc)
        body, first_seconds, _ = scrape(ex.port)  # the first scrape also connects and fills caches
        first_data = time.monotonic() - started
        lat, sizes, rss_after5 = [], [], None
        t0, b0, w0 = cpu_seconds(proc.pid), cpu_seconds(broker_pid), time.monotonic()
        while len(lat) < max_scrapes and (len(lat) < 5 or time.monotonic() - w0 < budget_s):
            began = time.monotonic()
            raw, seconds, size = scrape(ex.port, decode=False)
            lat.append(seconds)
            sizes.append(size)
            if len(lat) == 5:
                rss_after5 = vm_hwm_mb(proc.pid)
            if pace_s and len(lat) < max_scrapes:  # start-to-start pacing, as a Prometheus scrape interval
                time.sleep(max(0.0, pace_s - (time.monotonic() - began)))
        body = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        cpu = (cpu_seconds(proc.pid) - t0) / len(lat)
        bcpu = (cpu_seconds(broker_pid) - b0) / len(lat)
        seconds_per_scrape = (time.monotonic() - w0) / len(lat)
        text = body.decode()
        res = {
            "exporter": ex.name,
            "time_to_first_data_s": first_data,
            "first_scrape_s": first_seconds,
            "scrape_n": len(lat),
            "scrape_p50_ms": percentile(lat, 0.5) * 1000,
            "scrape_p99_ms": percentile(lat, 0.99) * 1000,
            "scrape_max_ms": max(lat) * 1000,
            "latencies_ms": [round(x * 1000, 2) for x in lat],
            "pace_s": pace_s,
            "scrapes_over_10s": sum(1 for s in lat if s > PROM_SCRAPE_TIMEOUT),
            "cpu_s_per_scrape": cpu,
            "broker_cpu_s_per_scrape": bcpu,
            "seconds_per_window_unit": seconds_per_scrape,
            "gzip_bytes": sizes[-1],
            "plain_bytes": len(body),
            "series": series_count(text),
            "peak_rss_mb_after_5": rss_after5,
            "peak_rss_mb": vm_hwm_mb(proc.pid),
            "cmd": " ".join(ex.cmdline),
        }
        return res, text
    finally:
        stop(proc)


# ------------------------------------------------------------------------------------------------ workload


def add_check_groups(kafka: LocalKafka) -> None:
    """A classic group with different lag per partition, and a KIP-848 group with lag 40 on each partition."""
    from kafka import KafkaProducer

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, request_timeout_ms=120000)
    try:
        admin.create_topics({BUSY_TOPIC: {"num_partitions": len(BUSY_PRODUCED), "replication_factor": 1},
                             K848_TOPIC: {"num_partitions": 3, "replication_factor": 1}}, timeout_ms=60000)
        admin.wait_for_topics([BUSY_TOPIC, K848_TOPIC], timeout_ms=60000)
        producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=20, acks=1)
        for p, n in enumerate(BUSY_PRODUCED):
            for _ in range(n):
                producer.send(BUSY_TOPIC, b"y" * 16, partition=p)
        for p in range(3):
            for _ in range(100):
                producer.send(K848_TOPIC, b"z" * 16, partition=p)
        producer.flush()
        offsets = {TopicPartition(BUSY_TOPIC, p): OffsetAndMetadata(o, "", None)
                   for p, o in enumerate(BUSY_COMMITTED) if o is not None}
        for _ in range(120):
            try:
                admin.alter_group_offsets(BUSY_GROUP, offsets)
                break
            except Exception:  # coordinator not ready yet
                time.sleep(0.5)
        log("KIP-848 consumer: consuming peers-848 to its end, then leaving")
        consumer = kafka_tools.start_console_consumer(kafka.bootstrap_servers, K848_TOPIC, K848_GROUP,
                                                      protocol="consumer",
                                                      extra_props={"auto.commit.interval.ms": 500})
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                time.sleep(2)
                try:
                    rows = kafka_tools.describe_group_offsets(kafka.bootstrap_servers, K848_GROUP)
                except Exception:
                    continue
                if sum(r["current_offset"] or 0 for r in rows) >= 300:
                    break
        finally:
            kafka_tools.stop_console_consumer(consumer)
        for p in range(3):
            for _ in range(40):
                producer.send(K848_TOPIC, b"z" * 16, partition=p)
        producer.flush()
        producer.close()
    finally:
        admin.close()


def broker_idle_rate(broker_pid: int, seconds: float = 20.0) -> float:
    """Broker CPU seconds per second with no exporter running (subtracted from the per-cycle/scrape figures)."""
    c0, t0 = cpu_seconds(broker_pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(broker_pid) - c0) / (time.monotonic() - t0)


def one_shot(ex: Exporter, wait_cycle: bool = False) -> tuple[str, str]:
    """Start an exporter, take one complete scrape (after its first cycle for the project), stop it."""
    ex.port = free_port()
    proc = ex.start()
    try:
        wait_port(ex.port, proc)
        while True:
            body, _, _ = scrape(ex.port)
            text = body.decode()
            if not wait_cycle or (first_value(text, "kafka_detective_collection_cycles_total") or 0) >= 1:
                break
            time.sleep(0.5)
    finally:
        stop(proc)
    logtext = (ex.workdir / f"{ex.name}.log").read_text(errors="replace")
    return text, logtext


def kafka_exporter_default_version(ex: KafkaExporter) -> dict:
    """kafka_exporter without --kafka.version (default 2.0.0) against this Kafka 4.4 broker: one scrape."""
    saved = os.environ.get("KAFKA_EXPORTER_KAFKA_VERSION")
    os.environ["KAFKA_EXPORTER_KAFKA_VERSION"] = "2.0.0"
    try:
        text, logtext = one_shot(ex)
    except Exception as e:
        return {"error": str(e)[:300]}
    finally:
        if saved is None:
            os.environ.pop("KAFKA_EXPORTER_KAFKA_VERSION")
        else:
            os.environ["KAFKA_EXPORTER_KAFKA_VERSION"] = saved
    return {"series": series_count(text), "lag_series": len(ex.lag(text)),
            "error_lines": [line[:200] for line in logtext.splitlines() if line.startswith("E")][-3:]}


def live_848_check(kafka: LocalKafka, exporters: dict) -> dict:
    """A LIVE KIP-848 consumer (group.protocol=consumer, one member): is the group seen, with how many members?"""
    group = "peers-848-live"
    consumer = kafka_tools.start_console_consumer(kafka.bootstrap_servers, K848_TOPIC, group, protocol="consumer")
    out: dict = {}
    try:
        deadline = time.monotonic() + 90
        state = {}
        while time.monotonic() < deadline:
            time.sleep(2)
            try:
                state = kafka_tools.describe_group_state(kafka.bootstrap_servers, group)
            except Exception:
                continue
            if state.get("state") == "Stable" and state.get("members") == 1:
                try:  # and it has committed its position (140) on all 3 partitions
                    rows = kafka_tools.describe_group_offsets(kafka.bootstrap_servers, group)
                except Exception:
                    continue
                if sum(r["current_offset"] or 0 for r in rows) >= 420:
                    break
        out["tool_state"] = {k: state.get(k) for k in ("state", "members", "assignment_strategy")}
        for name, ex in exporters.items():
            if not ex.available():
                continue
            try:
                text, logtext = one_shot(ex, wait_cycle=name == "kafka-detective")
            except Exception as e:
                out[name] = {"error": str(e)[:300]}
                continue
            if name == "kminion":
                members = [v for n, lb, v in samples(text, {"kminion_kafka_consumer_group_members"})
                           if lb.get("group_id") == group]
            else:
                members = [v for n, lb, v in samples(text, {"kafka_consumergroup_members"})
                           if lb.get("consumergroup") == group]
            lags = {k: v for k, v in ex.lag(text).items() if k[0] == group}
            errors = [line[:220] for line in logtext.splitlines() if group in line][-2:]
            out[name] = {"members": members, "lag_series": len(lags), "log_lines_naming_group": errors}
    finally:
        kafka_tools.stop_console_consumer(consumer)
    return out


def reference_lags(bootstrap: str) -> tuple[dict, float, str | None]:
    """kafka-consumer-groups --describe --all-groups: (group, topic, partition) -> lag (None for '-')."""
    started = time.monotonic()
    try:
        out = kafka_tools.run_tool(kafka_tools.CONSUMER_GROUP_COMMAND,
                                   ["--bootstrap-server", bootstrap, "--describe", "--all-groups"], timeout=900).stdout
    except Exception as e:  # report, don't die
        return {}, time.monotonic() - started, str(e)[:300]
    rows = kafka_tools.parse_table(out)
    ref = {(r["GROUP"], r["TOPIC"], r["PARTITION"]): (r.get("CURRENT-OFFSET"), r.get("LOG-END-OFFSET"), r.get("LAG"))
           for r in rows if r.get("TOPIC") is not None}
    return ref, time.monotonic() - started, None


def compare_lags(ref: dict, got: dict) -> dict:
    """Tool's lag vs an exporter's, over every (group, topic, partition) the tool lists with a lag."""
    with_lag = {k: v[2] for k, v in ref.items() if v[2] is not None}
    same = [k for k, v in with_lag.items() if k in got and got[k] == v]
    wrong = [(k, v, got[k]) for k, v in with_lag.items() if k in got and got[k] != v]
    missing = [k for k in with_lag if k not in got]
    extra = [(k, got[k]) for k in got if k not in with_lag]
    groups_missing = sorted({k[0] for k in missing})
    return {"tool_partitions_with_lag": len(with_lag), "equal": len(same), "different": len(wrong),
            "missing": len(missing), "extra": len(extra), "different_examples": [list(map(str, w)) for w in wrong[:6]],
            "groups_missing": groups_missing[:10], "groups_missing_n": len(groups_missing),
            "extra_examples": [list(map(str, e)) for e in extra[:6]]}


def busy_table(ref: dict, texts: dict, exporters: dict) -> list[dict]:
    rows = []
    for group, topic, parts in ((BUSY_GROUP, BUSY_TOPIC, range(len(BUSY_PRODUCED))),
                                (K848_GROUP, K848_TOPIC, range(3))):
        for p in parts:
            cur, leo, lag = ref.get((group, topic, p), (None, None, None))
            row = {"group": group, "partition": p, "tool_current": cur, "tool_log_end": leo, "tool_lag": lag}
            for name, text in texts.items():
                row[name] = exporters[name].lag(text).get((group, topic, p))
            rows.append(row)
    return rows


def compat(ke_text: str, kd_text: str) -> list[dict]:
    ke, kd = families(ke_text), families(kd_text)
    out = []
    for fam in sorted(ke):
        e = ke[fam]
        d = kd.get(fam)
        row = {"family": fam, "ke_type": e["type"], "ke_labels": sorted(e["labels"]), "ke_samples": e["samples"]}
        if fam.startswith(("go_", "process_", "promhttp_")):
            row["status"] = "runtime (Go client library)" + ("" if d is None else ", also in project")
        elif d is None:
            row["status"] = "MISSING in project"
        else:
            missing = sorted(e["labels"] - d["labels"])
            added = sorted(d["labels"] - e["labels"])
            row.update(kd_type=d["type"], kd_labels=sorted(d["labels"]), kd_samples=d["samples"])
            row["status"] = ("same type+labels" if not missing and added in ([], ["cluster"]) and d["type"] == e["type"]
                             else f"DIFFERS: labels missing {missing}, extra {added}, type {d['type']}")
        out.append(row)
    return out


def value_diff(ke_text: str, kd_text: str) -> dict:
    """For every family both expose: values per identical label set (cluster label dropped)."""
    ke, kd = families(ke_text), families(kd_text)
    shared = {f for f in ke if f in kd and not f.startswith(("go_", "process_", "promhttp_", "python_"))}
    def index(text):
        idx = {}
        for name, lb, v in samples(text, shared):
            lb.pop("cluster", None)
            idx[(name, tuple(sorted(lb.items())))] = v
        return idx
    a, b = index(ke_text), index(kd_text)
    per = {}
    for fam in sorted(shared):
        ka = {k for k in a if k[0] == fam}
        kb = {k for k in b if k[0] == fam}
        both = ka & kb
        diff = [(k, a[k], b[k]) for k in both if a[k] != b[k]]
        per[fam] = {"both": len(both), "only_kafka_exporter": len(ka - kb), "only_project": len(kb - ka),
                    "value_differs": len(diff), "examples": [[dict(k[1]), x, y] for k, x, y in diff[:3]],
                    "only_ke_examples": [dict(k[1]) for k in list(ka - kb)[:3]]}
    return per


# ------------------------------------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, type=Path, help="directory with kafka_exporter and kminion")
    ap.add_argument("--estates", default="100x1000,2000x10000", help="groupsxpartitions,...")
    ap.add_argument("--out", type=Path, help="results directory (default: a new temporary one)")
    ap.add_argument("--scrapes", type=int, default=50, help="scrapes per peer exporter")
    ap.add_argument("--peer-budget", type=float, default=300, help="seconds of scraping per peer and estate")
    ap.add_argument("--cycles", type=int, default=3, help="whole project cycles in the CPU window")
    ap.add_argument("--peer-pace", type=float, default=0.0,
                    help="seconds start-to-start between peer scrapes (default 0: back to back)")
    ap.add_argument("--no-extra-checks", action="store_true", help="skip the default-version and live KIP-848 checks")
    ap.add_argument("--only", default="kafka-detective,kafka_exporter,kminion")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="peers-"))
    out.mkdir(parents=True, exist_ok=True)
    estates = [tuple(int(x) for x in e.split("x")) for e in args.estates.split(",")]
    results = {"cores": os.cpu_count(), "estates": []}
    log(f"results in {out}; starting a local Kafka broker (the project's LocalKafka, as bench/collection_cycle.py)")
    with LocalKafka(brokers=1, heap="2g", broker_overrides={"num.io.threads": 4}) as kafka:
        broker_pid = next(iter(kafka._state.nodes.values())).proc.pid
        add_check_groups(kafka)
        cluster = Cluster(kafka)
        for groups, partitions in estates:
            t = time.monotonic()
            cluster.grow(groups, partitions)
            grow_s = time.monotonic() - t
            time.sleep(5)
            log(f"estate {groups} groups x {partitions} partitions (grown in {grow_s:.0f}s); reference tool")
            ref, ref_s, ref_err = reference_lags(kafka.bootstrap_servers)
            exporters = {cls.name: cls(args.bin, kafka.bootstrap_servers, out)
                         for cls in (Detective, KafkaExporter, KMinion)}
            idle = broker_idle_rate(broker_pid)
            log(f"broker idle CPU {idle:.3f} s/s")
            estate = {"groups": groups, "partitions": partitions, "grow_s": grow_s, "broker_idle_cpu_per_s": idle,
                      "reference_s": ref_s, "reference_error": ref_err, "runs": [], "lag_check": {}}
            texts = {}
            for name, ex in exporters.items():
                if name not in args.only.split(",") or not ex.available():
                    log(f"skipping {name}")
                    continue
                log(f"measuring {name}")
                try:
                    if isinstance(ex, Detective):
                        res, text = measure_detective(ex, broker_pid, args.cycles)
                    else:
                        res, text = measure_scraper(ex, broker_pid, args.scrapes, args.peer_budget, args.peer_pace)
                except Exception as e:
                    log(f"{name} failed: {e}")
                    estate["runs"].append({"exporter": name, "error": str(e)[:500]})
                    continue
                texts[name] = text
                (out / f"{name}-{groups}x{partitions}.prom.gz").write_bytes(gzip.compress(text.encode()))
                gross = res.get("broker_cpu_s_per_cycle", res.get("broker_cpu_s_per_scrape"))
                res["broker_cpu_net"] = gross - idle * res["seconds_per_window_unit"]
                res["load_average"] = os.getloadavg()[0]  # the machine may be shared: say how busy it was
                estate["runs"].append(res)
                estate["lag_check"][name] = compare_lags(ref, ex.lag(text))
                log(json.dumps(res))
            estate["busy"] = busy_table(ref, texts, exporters)
            if groups == estates[0][0] and partitions == estates[0][1] and not args.no_extra_checks:
                log("extra checks: kafka_exporter without --kafka.version; a live KIP-848 group")
                if exporters["kafka_exporter"].available():
                    estate["kafka_exporter_default_version"] = kafka_exporter_default_version(
                        exporters["kafka_exporter"])
                estate["live_848"] = live_848_check(kafka, exporters)
            if "kafka_exporter" in texts and "kafka-detective" in texts:
                estate["compat"] = compat(texts["kafka_exporter"], texts["kafka-detective"])
                estate["values"] = value_diff(texts["kafka_exporter"], texts["kafka-detective"])
            results["estates"].append(estate)
            (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    report(results)
    print(f"\nraw results: {out / 'results.json'}")
    return 0


def report(results: dict) -> None:
    print(f"\ncores: {results['cores']}")
    print("| estate | exporter | fresh data (cycle or scrape) p50 | scrape p50 / p99 (gzip) | scrapes | >10 s | "
          "CPU s per cycle/scrape | broker CPU s (net of idle) | peak RSS | series | first data | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for est in results["estates"]:
        tag = f"{est['groups']}x{est['partitions']}"
        for r in est["runs"]:
            if "error" in r:
                print(f"| {tag} | {r['exporter']} | ERROR {r['error'][:80]} |||||||||")
                continue
            if r["exporter"] == "kafka-detective":
                fresh = f"cycle {r['cycle_median_s']:.2f} s"
                cpu, bcpu, over = r["cpu_s_per_cycle"], r["broker_cpu_net"], "-"
            else:
                fresh = f"scrape {r['scrape_p50_ms'] / 1000:.2f} s"
                cpu, bcpu, over = r["cpu_s_per_scrape"], r["broker_cpu_net"], r["scrapes_over_10s"]
            print(f"| {tag} | {r['exporter']} | {fresh} | {r['scrape_p50_ms']:.1f} / {r['scrape_p99_ms']:.1f} ms | "
                  f"{r['scrape_n']} | {over} | {cpu:.2f} | {bcpu:.2f} | {r['peak_rss_mb']:.0f} MB | {r['series']} | "
                  f"{r['time_to_first_data_s']:.1f} s | {r.get('load_average', float('nan')):.1f} |")
    print("\nratios, project / peer (below 1: the project uses less or is faster):")
    for est in results["estates"]:
        runs = {r["exporter"]: r for r in est["runs"] if "error" not in r}
        kd = runs.get("kafka-detective")
        for peer in ("kafka_exporter", "kminion"):
            p = runs.get(peer)
            if not kd or not p:
                continue
            print(f"  {est['groups']}x{est['partitions']} vs {peer}: "
                  f"fresh data {kd['cycle_median_s'] / (p['scrape_p50_ms'] / 1000):.2f}, "
                  f"scrape p99 {kd['scrape_p99_ms'] / p['scrape_p99_ms']:.3f}, "
                  f"CPU {kd['cpu_s_per_cycle'] / p['cpu_s_per_scrape']:.2f}, "
                  f"broker CPU {kd['broker_cpu_net'] / max(p['broker_cpu_net'], 1e-9):.2f}, "
                  f"RSS {kd['peak_rss_mb'] / p['peak_rss_mb']:.2f}, series {kd['series'] / p['series']:.2f}")
    for est in results["estates"]:
        error = f", error: {est['reference_error']}" if est["reference_error"] else ""
        print(f"\nlag vs kafka-consumer-groups --describe --all-groups at {est['groups']}x{est['partitions']} "
              f"(tool took {est['reference_s']:.0f} s{error}):")
        for name, c in est["lag_check"].items():
            print(f"  {name}: {json.dumps(c)}")
        if "kafka_exporter_default_version" in est:
            print("  kafka_exporter with the default --kafka.version=2.0.0: "
                  f"{json.dumps(est['kafka_exporter_default_version'])}")
        if "live_848" in est:
            print(f"  live KIP-848 group (1 member): {json.dumps(est['live_848'])}")
        print("  busy groups, partition by partition (tool current / log-end / lag, then each exporter's lag):")
        for row in est.get("busy", []):
            print("   ", json.dumps(row))
    est = next((e for e in results["estates"] if "compat" in e), None)
    if est:
        print("\nkafka_exporter families vs the project's:")
        for row in est["compat"]:
            print(f"  {row['family']}: {row['status']} (kafka_exporter labels {row['ke_labels']})")
        print("\nvalues on shared families (label sets equal after dropping `cluster`):")
        for fam, v in est["values"].items():
            print(f"  {fam}: {json.dumps(v)}")


if __name__ == "__main__":
    raise SystemExit(main())
