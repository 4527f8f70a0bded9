"""`serve` as a real process against a real broker: the endpoint is the scrape front's, a process of its own.

The front answers /metrics with what the collector process rendered (compared with the collector's own app, on
the Unix socket in its private directory), forwards /detective and /healthz, keeps TLS and basic auth, exits
when the collector process is killed, and stops with it on SIGTERM.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
import yaml
from kafka import KafkaProducer
from kafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective_tools.sandbox.local_kafka import LocalKafka
from kafka_detective_tools.sandbox.stack import free_port
from kafka_detective_tools.sandbox.tls_material import generate_tls_material

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import wait_until
from test_exporter import commit

pytestmark = pytest.mark.kafka

PASSWORD = "scrape-front-pässword"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    private_dir: Path
    front_pid: int
    context: ssl.SSLContext
    log: Path

    def get(self, path: str, credentials: bool = True, gzip_ok: bool = False) -> tuple[int, bytes]:
        headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
        if credentials:
            headers["Authorization"] = "Basic " + base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=self.context)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            return response.status, gzip.decompress(body) if gzip_ok else body
        finally:
            conn.close()

    def collector_page(self) -> bytes:
        """/metrics of the collector process's own app, on its Unix socket (what the in-process server served)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(str(self.private_dir / "collector.sock"))
        conn = http.client.HTTPConnection("localhost", timeout=30)
        conn.sock = sock
        try:
            conn.request("GET", "/metrics")
            return conn.getresponse().read()
        finally:
            conn.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def served(kafka: LocalKafka, new_topic, tmp_path: Path) -> Iterator[Served]:
    topic = new_topic("front", partitions=3)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    try:
        for partition in range(3):
            for _ in range(5):
                producer.send(topic, b"x", partition=partition)
        producer.flush(60)
    finally:
        producer.close()
    commit(kafka.bootstrap_servers, f"{topic}-readers", {TopicPartition(topic, p): 2 for p in range(3)})
    tls = generate_tls_material(tmp_path / "tls", hosts=("127.0.0.1", "localhost"))
    web = tmp_path / "web.yml"
    web.write_text(yaml.safe_dump({
        "tls_server_config": {"cert_file": str(tls["broker_cert"]), "key_file": str(tls["broker_key"])},
        "basic_auth_users": {"prometheus": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()},
        "auth_excluded_paths": ["/healthz"],
    }))
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "listen_address": "127.0.0.1", "listen_port": port, "interval_seconds": 1, "web_config_file": str(web),
        "clusters": [{"name": "front", "bootstrap_servers": kafka.bootstrap_servers.split(","),
                      "topics": {"include": [topic]}, "groups": {"include": [f"{topic}-.*"]}}]}))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "kafka_detective", "serve", "--config", str(config)],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        def started() -> re.Match[str] | None:
            assert process.poll() is None, log.read_text()
            return re.search(r"served by the scrape front \(pid (\d+), page in (\S+)\)", log.read_text())

        found = wait_until(started, 120, "serve started its scrape front")
        context = ssl.create_default_context(cafile=str(tls["ca"]))
        yield Served(process, port, Path(found.group(2)), int(found.group(1)), context, log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(60)


def _families(page: bytes) -> dict[str, int]:
    return {family.name: len(family.samples) for family in text_string_to_metric_families(page.decode())}


def _static(page: bytes) -> bytes:
    return page.split(b"# HELP kafka_detective_build_info", 1)[0]


def test_the_front_serves_what_the_collector_rendered(served: Served):
    def lag_served() -> bool:
        status, body = served.get("/metrics")
        return status == 200 and b'kafka_consumergroup_lag{cluster="front"' in body

    wait_until(lag_served, 120, "a cycle's lag on /metrics")

    def same_page() -> bool:
        # A cycle may publish between two reads: equal when the collector's page did not change around the front's.
        before = served.collector_page()
        _, front = served.get("/metrics", gzip_ok=True)
        after = served.collector_page()
        return _static(before) == _static(after) == _static(front) and _families(front) == _families(after)

    wait_until(same_page, 60, "the front's page equals the collector's")
    families = _families(served.get("/metrics")[1])
    assert {"kafka_consumergroup_lag", "kafka_detective_snapshot_age_seconds", "kafka_detective_build_info",
            "process_cpu_seconds", "python_gc_collections"} <= families.keys()
    assert served.get("/healthz", credentials=False) == (200, b"ok\n")
    status, body = served.get("/detective")
    assert status == 200 and b"</html>" in body
    assert served.get("/detective", credentials=False)[0] == 401
    assert served.get("/metrics", credentials=False)[0] == 401


def test_killing_the_collector_process_ends_the_front(served: Served):
    served.process.kill()
    served.process.wait(60)
    wait_until(lambda: not _alive(served.front_pid), 60, "the front exited")
    # Its main thread may be a zombie while its last threads still hold the descriptors for a moment.
    wait_until(lambda: _refused(served.port), 30, "the port refuses connections")
    assert not served.private_dir.exists()


def test_sigterm_stops_both_processes(served: Served):
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(90) == 0, served.log.read_text()
    assert not _alive(served.front_pid)
    assert not served.private_dir.exists()


def test_a_dead_front_ends_serve_with_an_error(served: Served):
    os.kill(served.front_pid, signal.SIGKILL)
    assert served.process.wait(90) == 1
    assert "the scrape front" in served.log.read_text()
