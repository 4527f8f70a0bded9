"""HTTP endpoints: /metrics (pre-rendered), /healthz, /readyz and a landing page.

/metrics joins the blocks the collection loops rendered at the end of their cycles with a few lines computed
at scrape time (snapshot age, process metrics), so a scrape costs the same whatever Kafka is doing. Gzip is
served when asked for: the static part is compressed once per cycle, and gzip members concatenate.
"""

from __future__ import annotations

import gzip
import logging
import platform
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kafka
from prometheus_client import REGISTRY, generate_latest

from kafka_detective import __version__
from kafka_detective.gathering.loop import ClusterCollector
from kafka_detective.metrics.catalogue import BY_NAME
from kafka_detective.metrics.exposition import CONTENT_TYPE, Exposition, family, header

log = logging.getLogger(__name__)


class MetricsApp:
    def __init__(self, exposition: Exposition, collectors: Sequence[ClusterCollector],
                 alive: Callable[[], bool] = lambda: True) -> None:
        self.exposition = exposition
        self.collectors = list(collectors)
        self.alive = alive
        build = family("kafka_detective_build_info")
        build.add((__version__, platform.python_version(), kafka.__version__), 1)
        self._build_info = (header(build.spec) + build.render()).encode("utf-8")

    def dynamic_body(self) -> bytes:
        age = family("kafka_detective_snapshot_age_seconds")
        data_age = family("kafka_detective_data_age_seconds")
        now = time.time()
        for collector in sorted(self.collectors, key=lambda c: c.cluster.name):
            if collector.completed.is_set():
                # Ages of the newest successful data, not of the last attempt: a failing cycle does not reset them.
                ages = collector.data_ages(now)
                age.add((collector.cluster.name,), collector.snapshot_age(now))
                for phase in sorted(ages):
                    data_age.add((collector.cluster.name, phase), ages[phase])
        text = (header(BY_NAME["kafka_detective_snapshot_age_seconds"]) + age.render()
                + header(BY_NAME["kafka_detective_data_age_seconds"]) + data_age.render())
        return self._build_info + text.encode("utf-8") + generate_latest(REGISTRY)

    def ready(self) -> tuple[bool, str]:
        waiting = [c.cluster.name for c in self.collectors if not c.completed.is_set()]
        if waiting:
            return False, "waiting for the first collection cycle of: " + ", ".join(waiting)
        return True, "ready"


def make_handler(app: MetricsApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "kafka-detective"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s - " + format, self.address_string(), *args)

        def _send(self, status: int, body: bytes | tuple[bytes, ...],
                  content_type: str = "text/plain; charset=utf-8", encoding: str | None = None) -> None:
            chunks = (body,) if isinstance(body, bytes) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.end_headers()
            if self.command != "HEAD":
                for chunk in chunks:
                    self.wfile.write(chunk)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                if "gzip" in self.headers.get("Accept-Encoding", ""):
                    body = app.exposition.static_body_gzip() + gzip.compress(app.dynamic_body(), compresslevel=1)
                    self._send(200, body, CONTENT_TYPE, "gzip")
                else:
                    self._send(200, (*app.exposition.static_chunks(), app.dynamic_body()), CONTENT_TYPE)
            elif path == "/healthz":
                ok = app.alive()
                self._send(200 if ok else 503, b"ok\n" if ok else b"collection thread stopped\n")
            elif path == "/readyz":
                ok, message = app.ready()
                self._send(200 if ok else 503, message.encode() + b"\n")
            elif path == "/":
                self._send(200, b"<html><head><title>Kafka Detective</title></head><body><h1>Kafka Detective</h1>"
                                b'<p><a href="/metrics">Metrics</a> | <a href="/healthz">healthz</a> | '
                                b'<a href="/readyz">readyz</a></p></body></html>', "text/html; charset=utf-8")
            else:
                self._send(404, b"not found\n")

    return Handler


class MetricsServer:
    def __init__(self, app: MetricsApp, address: str, port: int) -> None:
        self.httpd = ThreadingHTTPServer((address, port), make_handler(app))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
