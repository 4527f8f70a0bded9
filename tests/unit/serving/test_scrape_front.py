"""The scrape front: /metrics from the published page file in a process of its own, everything else forwarded.

Real processes and sockets: the front is started as `serve` starts it, with a `MetricsApp` on a static
exposition and fake collectors (no Kafka).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from endpoint_support import PASSWORD, auth_header, client_context, request, tls_config, web_file
from kafka_detective.config import ClusterConfig
from kafka_detective.gathering.sharding import Shard
from kafka_detective.metrics.exposition import Exposition, family
from kafka_detective.serving.front_process import FrontHandler
from kafka_detective.serving.http import (
    MetricsApp,
    MetricsServer,
    RuntimeMetrics,
    ServingError,
    _HTTPServer,
    bind_handler,
    build_info,
)
from kafka_detective.serving.published_page import PagePublisher, PublishedPage, read_page
from kafka_detective.serving.scrape_front import ScrapeFront


@dataclass
class FakeCollector:
    cluster: ClusterConfig
    completed: threading.Event = field(default_factory=threading.Event)
    analysis: list = field(default_factory=list)
    analytics: None = None
    ages: dict[str, float] = field(default_factory=lambda: {"cluster": 1.0, "groups": 2.0, "offsets": 3.0})
    at: float = 1000.0

    def data_ages(self, now: float | None = None) -> dict[str, float]:
        return {phase: age + (now or self.at) - self.at for phase, age in self.ages.items()}

    def snapshot_age(self, now: float | None = None) -> float:
        return max(self.data_ages(now).values())


def collector(name: str = "c") -> FakeCollector:
    return FakeCollector(ClusterConfig(name=name, bootstrap_servers=["127.0.0.1:1"]))


def publish(exposition: Exposition, lag: int, cluster: str = "c") -> None:
    fam = family("kafka_consumergroup_lag")
    fam.add((cluster, "orders-service", "orders", "0"), lag)
    exposition.publish(cluster, [fam])


@contextlib.contextmanager
def front(app: MetricsApp, **kw: object) -> Iterator[ScrapeFront]:
    srv = ScrapeFront(app, "127.0.0.1", 0, **kw)  # type: ignore[arg-type]
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def families(body: bytes) -> set[str]:
    return {line.split()[2] for line in body.decode().splitlines() if line.startswith("# TYPE ")}


def static_part(body: bytes) -> str:
    """The page without its scrape-time lines (build info onwards)."""
    return body.decode().split("# HELP kafka_detective_build_info", 1)[0]


def test_the_page_file_round_trips_and_its_ages_grow_with_time(tmp_path):
    exposition = Exposition()
    publish(exposition, 42)
    done = collector()
    done.completed.set()
    app = MetricsApp(exposition, [done, collector("not-yet")])
    PagePublisher(tmp_path / "page", app, clock=lambda: 1000.0).write()
    page = read_page(tmp_path / "page")
    assert bytes(page.gzip) == exposition.static_body_gzip()
    assert page.plain == exposition.static_body()
    assert page.ages_at(1010.0) == [("c", 13.0, {"cluster": 11.0, "groups": 12.0, "offsets": 13.0})]
    assert page.ages_at(990.0) == page.ages_at(1000.0)   # a clock stepping back never makes data younger
    assert b"python_gc_collections_total" in page.runtime and b"process_" not in page.runtime


def test_a_cluster_that_published_counts_as_completed(tmp_path):
    """Its first cycle ends right after its first publish: the front serves its ages from that page on."""
    exposition = Exposition()
    app = MetricsApp(exposition, [collector()])
    exposition.listeners.append(PagePublisher(tmp_path / "page", app, clock=lambda: 1000.0))
    publish(exposition, 1)
    assert [cluster for cluster, _, _ in read_page(tmp_path / "page").ages_at(1000.0)] == ["c"]


def test_the_reader_follows_each_new_page(tmp_path):
    exposition = Exposition()
    app = MetricsApp(exposition, [])
    publisher = PagePublisher(tmp_path / "page", app)
    publisher.write()
    reader = PublishedPage(tmp_path / "page")
    first = reader.current()
    assert reader.current() is first   # unchanged file: not read again
    publish(exposition, 7)
    publisher.write()
    assert b'orders-service",topic="orders",partition="0"} 7' in reader.current().plain


def test_metrics_through_the_front_are_what_the_collector_process_renders():
    exposition = Exposition()
    publish(exposition, 42)
    done = collector()
    done.completed.set()
    app = MetricsApp(exposition, [done])
    with front(app) as srv:
        inproc = MetricsServer(app, "127.0.0.1", 0)
        inproc.start()
        try:
            for headers in ({}, {"Accept-Encoding": "gzip"}):
                status, got_headers, body = request(srv, headers=headers)
                _, _, expected = request(inproc, headers=headers)
                assert status == 200 and got_headers.get("Vary") == "Accept-Encoding"
                if headers:
                    assert got_headers["Content-Encoding"] == "gzip"
                    body, expected = gzip.decompress(body), gzip.decompress(expected)
                assert static_part(body) == static_part(expected)
                assert families(body) == families(expected)
                assert 'kafka_detective_snapshot_age_seconds{cluster="c"}' in body.decode()
        finally:
            inproc.stop()
        publish(exposition, 43)   # the next cycle's page is served by the next scrape
        assert b'partition="0"} 43' in request(srv)[2]


def test_process_metrics_describe_the_collector_process():
    app = MetricsApp(Exposition(), [])
    with front(app) as srv:
        body = request(srv)[2].decode()
        assert srv.pid != os.getpid()
        start = float(next(line.split()[1] for line in body.splitlines()
                           if line.startswith("process_start_time_seconds")))
        with open(f"/proc/{os.getpid()}/stat") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as proc_stat:
            boot = int(next(line.split()[1] for line in proc_stat if line.startswith("btime")))
        assert start == pytest.approx(boot + ticks / os.sysconf("SC_CLK_TCK"), abs=0.1)


def test_other_paths_are_forwarded_to_the_collector_process():
    waiting = collector()
    app = MetricsApp(Exposition(), [waiting], alive=lambda: False)
    with front(app) as srv:
        assert request(srv, "/healthz")[0] == 503
        status, _, body = request(srv, "/readyz")
        assert (status, body) == (503, b"waiting for the first collection cycle of: c\n")
        waiting.completed.set()
        assert request(srv, "/readyz")[:3:2] == (200, b"ready\n")
        status, headers, body = request(srv, "/detective")
        assert status == 200 and headers["Content-Type"].startswith("text/html") and b"</html>" in body
        assert request(srv, "/")[0] == 200 and request(srv, "/nope")[0] == 404
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.request("HEAD", "/readyz")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == b""
        conn.close()


def test_tls_and_basic_auth_are_the_fronts(tmp_path, pki, password_hash):
    config = {**tls_config(pki), "basic_auth_users": {"prometheus": password_hash},
              "auth_excluded_paths": ["/healthz"],
              "http_server_config": {"headers": {"Strict-Transport-Security": "max-age=31536000"}}}
    with front(MetricsApp(Exposition(), []), web_config_file=web_file(tmp_path, config)) as srv:
        assert srv.url.startswith("https://")
        context = client_context(pki)
        for path in ("/metrics", "/readyz", "/detective"):
            status, headers, _ = request(srv, path, headers=auth_header("prometheus", PASSWORD), context=context)
            assert status == 200 and headers["Strict-Transport-Security"] == "max-age=31536000", path
            assert request(srv, path, context=context)[0] == 401, path
        assert request(srv, "/healthz", context=context)[0] == 200
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            request(srv)   # plain HTTP to a TLS endpoint


def test_a_port_in_use_is_one_clear_error_before_any_process_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ServingError, match=f"listen_port {port}: address already in use"):
            ScrapeFront(MetricsApp(Exposition(), []), "127.0.0.1", port)


def test_stop_ends_the_front_and_frees_the_port():
    with front(MetricsApp(Exposition(), [])) as srv:
        port, private = srv.port, srv._dir
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics")
        conn.getresponse().read()
    assert srv.exit_code is None and not private.exists()
    with pytest.raises(OSError):
        conn.request("GET", "/metrics")   # the kept-alive connection was closed too
        conn.getresponse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_a_front_that_dies_is_reported():
    died = threading.Event()
    with front(MetricsApp(Exposition(), []), on_exit=died.set) as srv:
        assert srv.pid is not None
        os.kill(srv.pid, signal.SIGKILL)
        assert died.wait(30)
        assert srv.exit_code == -signal.SIGKILL


def test_the_front_ignores_sigterm_the_collector_process_stops_it():
    """A signal to the whole process group (Ctrl-C, systemd) reaches both: the collector process decides."""
    with front(MetricsApp(Exposition(), [])) as srv:
        assert srv.pid is not None
        os.kill(srv.pid, signal.SIGTERM)
        os.kill(srv.pid, signal.SIGINT)
        assert request(srv)[0] == 200
        assert srv.exit_code is None


def test_the_front_environment_holds_no_secrets(monkeypatch):
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2")
    with front(MetricsApp(Exposition(), [])) as srv:
        environment = Path(f"/proc/{srv.pid}/environ").read_bytes()
        command_line = Path(f"/proc/{srv.pid}/cmdline").read_bytes()
    assert b"hunter2" not in environment and b"KAFKA_SASL_PASSWORD" not in environment
    assert command_line.split(b"\0")[1:3] == [b"-m", b"kafka_detective.serving.front_process"]


def test_a_gzip_scrape_never_decompresses_the_page(tmp_path):
    """Decompressing a 26 MB page takes ~0.15 s: only a scraper that refuses gzip may pay for it."""
    exposition = Exposition()
    publish(exposition, 42)
    PagePublisher(tmp_path / "page", MetricsApp(exposition, [])).write()
    pages = PublishedPage(tmp_path / "page")
    handler = bind_handler(FrontHandler, None, 10.0, page=pages, backend=str(tmp_path / "none.sock"), shard=Shard(),
                           build_info=build_info(), runtime=RuntimeMetrics(CollectorRegistry()))
    httpd = _HTTPServer("127.0.0.1", 0, socket.AF_INET, handler, None, 10.0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        status, headers, body = request(int(httpd.server_address[1]), headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert "plain" not in vars(pages.current())   # cached_property: set once computed
        status, _, plain = request(int(httpd.server_address[1]))
        assert status == 200 and static_part(plain) == static_part(gzip.decompress(body))
        assert request(int(httpd.server_address[1]), "/readyz")[0] == 502   # no collector process behind it
    finally:
        httpd.shutdown()
        httpd.server_close()
