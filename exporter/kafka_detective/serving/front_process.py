"""The scrape front: a process of its own that owns the public endpoint, so no scrape waits for the collector's GIL.

Started by the collector process (serving/scrape_front.py) as `python -m kafka_detective.serving.front_process`,
with the listening socket it bound passed as an inherited descriptor and its settings as one JSON line on
stdin (never in argv or the environment). It answers /metrics from the page file the collector publishes after
each cycle (serving/published_page.py) plus the scrape-time lines, and forwards every other path (/healthz,
/readyz, /detective, the landing page) to the collector's own HTTP app on a Unix socket in a private directory.
TLS, basic auth, idle timeouts and the backlog are the same server as the in-process one (serving/http.py).

Its stdin stays open as the control channel: "stop" ends it cleanly; end of file without it means the collector
process died, and the front exits non-zero rather than go on serving a page nobody updates. It ignores SIGINT and
SIGTERM: the collector process stops it (Ctrl-C or a signal to the process group reaches both).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector

from kafka_detective.gathering.sharding import Shard
from kafka_detective.serving.http import (
    Handler,
    RuntimeMetrics,
    _HTTPServer,
    bind_handler,
    build_info,
    render_ages,
)
from kafka_detective.serving.published_page import Page, PublishedPage
from kafka_detective.serving.web_config import load_web_config

log = logging.getLogger("kafka_detective.serving.front_process")   # also when run as __main__

# A /detective page can take seconds to render while a cycle holds the collector's GIL; longer than any of them.
FORWARD_TIMEOUT_SECONDS = 60.0
READY = "ready"
STOP = "stop"
# Not passed on to an answer forwarded from the collector: the front's own server writes these.
_OWN_HEADERS = frozenset({"server", "date", "connection", "keep-alive", "transfer-encoding"})


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class FrontHandler(Handler):
    page: PublishedPage
    backend: str
    shard: Shard
    build_info: bytes
    runtime: RuntimeMetrics

    def route(self, path: str) -> None:
        if path == "/metrics":
            page = self.page.current()
            self.send_metrics(lambda: (page.plain,), page.gzip, self.scrape_time_lines(page))
        else:
            self.forward()

    def scrape_time_lines(self, page: Page) -> bytes:
        ages = render_ages(page.ages_at(time.time()), self.shard)
        return self.build_info + ages + page.runtime + self.runtime.text()

    def forward(self) -> None:
        """Ask the collector's app and stream its answer back, with the web config's headers added."""
        connection = UnixHTTPConnection(self.backend, FORWARD_TIMEOUT_SECONDS)
        with contextlib.closing(connection):
            try:
                connection.request(self.command, self.path)
                response = connection.getresponse()
            except OSError as error:
                log.warning("the collector process did not answer %s: %s", self.path, error)
                self._send(502, b"the collector process did not answer\n")
                return
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in _OWN_HEADERS:
                    self.send_header(name, value)
            for name, value in self.extra_headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                while chunk := response.read(65536):
                    self.wfile.write(chunk)


def serve(settings: dict[str, Any], control: Any) -> int:
    """Serve until the collector says stop (0) or goes away (1)."""
    web = load_web_config(settings["web_config_file"]) if settings["web_config_file"] else None
    collector_pid = int(settings["collector_pid"])
    process = CollectorRegistry(auto_describe=False)
    # process_* describe the exporter, that is the collector process; read from its /proc entry.
    ProcessCollector(pid=lambda: collector_pid, registry=process)
    handler = bind_handler(FrontHandler, web, settings["idle_timeout"], page=PublishedPage(Path(settings["page"])),
                           backend=settings["backend"], shard=Shard(*settings["shard"]), build_info=build_info(),
                           runtime=RuntimeMetrics(process))
    listening = socket.socket(fileno=int(settings["listen_fd"]))
    httpd = _HTTPServer("", 0, listening.family, handler, web.tls if web else None, settings["idle_timeout"],
                        listening=listening)
    threading.Thread(target=httpd.serve_forever, name="http", daemon=True).start()
    print(READY, flush=True)
    line = control.readline()
    if line.strip() != STOP:
        log.error("the collector process exited: the scrape front stops too")
        shutil.rmtree(settings["private_dir"], ignore_errors=True)
        return 1
    httpd.shutdown()
    httpd.server_close()
    httpd.close_connections()
    return 0


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    settings = json.loads(sys.stdin.readline())
    logging.basicConfig(level=settings["log_level"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    code = serve(settings, sys.stdin)
    sys.stdout.flush()
    os._exit(code)   # daemon threads may be writing to scrapers: nothing is left to clean up in them


if __name__ == "__main__":
    raise SystemExit(main())
