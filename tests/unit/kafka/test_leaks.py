"""A failed connect leaves nothing behind: no thread, no file descriptor, no socket, no memory growth.

kafka-python's admin client starts an IO thread and opens a selector, a wake-up socket pair and connections
before its bootstrap fails; each of the 100 failed cycles below would leak them (1 thread and 3-6 descriptors
per cycle) if the exporter did not release the half-built client.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafka_detective.config import parse_config
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector

CYCLES = 100
WARMUP = 5                 # first cycles import modules, fill caches and logging state
RSS_NOISE_MB = 8.0         # allocator noise; a leak of the client's objects grows far faster per cycle

# Accepts every connection and never sends a byte: a hung broker (or a port that is not Kafka). In its own
# process, so that the connections it holds do not count among the test process's descriptors.
HUNG_SERVER = """
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(512)
print(server.getsockname()[1], flush=True)
held = []
while True:
    held.append(server.accept())
"""


def open_fds() -> list[str]:
    out = []
    for entry in os.scandir("/proc/self/fd"):
        try:
            out.append(os.readlink(entry.path))
        except OSError:  # the directory's own descriptor, closed meanwhile
            continue
    return out


def resources() -> dict[str, float]:
    fds = open_fds()
    status = Path("/proc/self/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return {"threads": threading.active_count(), "fds": len(fds),
            "sockets": sum(1 for target in fds if target.startswith("socket:")), "rss_mb": rss_kb / 1024}


def refused_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there any more: every connect is refused
    return port


@pytest.fixture
def hung_port() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", HUNG_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait()


def collector_for(port: int) -> ClusterCollector:
    config = parse_config({"clusters": [{"name": "gone", "bootstrap_servers": [f"127.0.0.1:{port}"],
                                         "request_timeout_seconds": 0.2}], "analysis": {"enabled": False}})
    return ClusterCollector(config.clusters[0], Exposition(), analysis=config.analysis)


def run_failed_cycles(collector: ClusterCollector) -> tuple[dict[str, float], dict[str, float]]:
    for _ in range(WARMUP):
        collector.run_cycle()
    before = resources()
    for _ in range(CYCLES):
        collector.run_cycle()
        assert collector.last_error and collector.last_error.startswith("connect: "), collector.last_error
    return before, resources()


def assert_flat(before: dict[str, float], after: dict[str, float]) -> None:
    # Not equality: a thread another test left behind may end meanwhile; none may be added.
    assert after["threads"] <= before["threads"], f"threads grew over {CYCLES} failed cycles: {before} -> {after}"
    assert after["fds"] <= before["fds"], f"file descriptors grew over {CYCLES} failed cycles: {before} -> {after}"
    assert after["sockets"] <= before["sockets"], f"sockets grew over {CYCLES} failed cycles: {before} -> {after}"
    assert after["rss_mb"] - before["rss_mb"] < RSS_NOISE_MB, f"RSS grew: {before} -> {after}"


def assert_failed_cycles_leak_nothing(port: int, error: str) -> None:
    collector = collector_for(port)
    try:
        before, after = run_failed_cycles(collector)
    finally:
        collector.close()
    assert error in (collector.last_error or "")
    assert_flat(before, after)


def test_unreachable_cluster_leaks_nothing_over_100_failed_cycles() -> None:
    assert_failed_cycles_leak_nothing(refused_port(), "connection refused")


def test_hung_port_leaks_nothing_over_100_failed_cycles(hung_port: int) -> None:
    assert_failed_cycles_leak_nothing(hung_port, "no answer")
