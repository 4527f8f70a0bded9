"""The public endpoint served by a separate process, the scrape front (serving/front_process.py).

In one process, a scrape thread waits for the GIL after every blocking call while a cycle's Python runs, and for
each young-generation garbage collection: scrape p99 of 21-54 ms during cycles at 2,000 groups over 10,000
partitions (docs/benchmarks.md). The front has a GIL of its own and nothing else to do.

The collector process binds the public socket (so a port in use is the same one-line error as before, and
`port` is known at once), publishes its page to a file in a private directory after each cycle, serves its HTTP
app on a Unix socket in that directory for the front to forward to, and starts the front. Either process dying
ends the other: the front sees its stdin close; here a thread waits for the front and calls `on_exit`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka_detective.serving.front_process import READY, STOP
from kafka_detective.serving.http import (
    IDLE_TIMEOUT_SECONDS,
    LISTEN_BACKLOG,
    MetricsApp,
    ServingError,
    _bind_failure,
    _HTTPServer,
    make_handler,
    resolve_listen_address,
)
from kafka_detective.serving.published_page import PagePublisher
from kafka_detective.serving.web_config import load_web_config

log = logging.getLogger(__name__)

# What the front inherits of the environment: enough to start Python from the same installation. Not the rest,
# which may hold the Kafka credentials the configuration refers to; the front needs none of them.
_FRONT_ENVIRONMENT = ("PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
                      "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "PYTHONDONTWRITEBYTECODE")


def private_parent() -> str | None:
    """Where the private directory goes: /dev/shm, a RAM file system, where there is one.

    The page is replaced after every cycle and never needs a disk: in RAM, writing and renaming it never wait for
    a journal or a disk that other work shares. The page is the gzip form only (1 MB at 253,000
    series), so it fits a container's default 64 MB /dev/shm. Elsewhere: TMPDIR, as tempfile chooses."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


class BackendServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The collector's HTTP app on a Unix socket, for the front only (no TLS or auth: the front checked them)."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def get_request(self) -> tuple[Any, Any]:
        connection, _ = self.socket.accept()
        return connection, ("scrape-front", 0)   # a Unix peer has no address; the handler's log wants one


class ScrapeFront:
    """The same interface as `MetricsServer`: construct (binds), `start`, `port`/`url`, `stop`."""

    def __init__(self, app: MetricsApp, address: str, port: int, *, web_config_file: str | None = None,
                 idle_timeout: float | None = IDLE_TIMEOUT_SECONDS,
                 on_exit: Callable[[], None] = lambda: None) -> None:
        web = load_web_config(web_config_file) if web_config_file else None   # its errors, before anything starts
        self.app = app
        self.web_config = web
        self.web_config_file = web_config_file
        self.idle_timeout = idle_timeout
        self.on_exit = on_exit
        family, host = resolve_listen_address(address, port)
        try:
            # Bound and listening here; served by the front, which gets the socket.
            self._public = _HTTPServer(host, port, family, make_handler(app), web.tls if web else None, idle_timeout)
        except OSError as error:
            raise ServingError(_bind_failure(address, port, error)) from None
        self._dir = Path(tempfile.mkdtemp(prefix="kafka-detective-", dir=private_parent()))   # 0700: this user only
        self._backend = BackendServer(str(self._dir / "collector.sock"), make_handler(app, None, idle_timeout))
        self._publisher = PagePublisher(self._dir / "metrics.page", app)
        self._process: subprocess.Popen[str] | None = None
        self._stopping = False
        self.exit_code: int | None = None   # the front's, had it exited on its own

    @property
    def port(self) -> int:
        return self._public.port

    @property
    def url(self) -> str:
        return self._public.url

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        self._publisher.write()   # the empty page until the first cycle ends, as in one process
        self.app.exposition.listeners.append(self._publisher)
        threading.Thread(target=self._backend.serve_forever, name="http-backend", daemon=True).start()
        listening = self._public.socket
        settings = {
            "listen_fd": listening.fileno(), "web_config_file": self.web_config_file,
            "idle_timeout": self.idle_timeout, "page": str(self._publisher.path),
            "backend": str(self._backend.server_address), "collector_pid": os.getpid(),
            "shard": [self.app.shard.index, self.app.shard.total], "private_dir": str(self._dir),
            "log_level": logging.getLogger().getEffectiveLevel(),
        }
        environment = {name: value for name, value in os.environ.items() if name in _FRONT_ENVIRONMENT}
        process = subprocess.Popen([sys.executable, "-m", "kafka_detective.serving.front_process"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(listening.fileno(),),
                                   env=environment, text=True)
        self._process = process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(settings) + "\n")
        process.stdin.flush()
        if process.stdout.readline().strip() != READY:
            code = process.wait()
            self._cleanup()
            raise ServingError(f"the scrape front did not start (exit code {code}; its error is logged above)")
        # The front serves the socket now: closing this process's copy leaves it the only one, so a dead front
        # refuses connections instead of leaving them in a backlog nobody accepts.
        self._public.server_close()
        threading.Thread(target=self._watch, args=(process,), name="scrape-front", daemon=True).start()
        log.info("HTTP endpoint %s, served by the scrape front (pid %d, page in %s)",
                 self._public.describe(self.web_config), process.pid, self._dir)

    def _watch(self, process: subprocess.Popen[str]) -> None:
        code = process.wait()
        if not self._stopping:
            self.exit_code = code
            log.error("the scrape front (pid %d) exited with code %d: the exporter stops too", process.pid, code)
            self.on_exit()

    def stop(self) -> None:
        self._stopping = True
        process = self._process
        if process is not None and process.poll() is None:
            assert process.stdin is not None
            try:
                process.stdin.write(STOP + "\n")
                process.stdin.flush()
                process.wait(30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        self._backend.shutdown()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._publisher in self.app.exposition.listeners:
            self.app.exposition.listeners.remove(self._publisher)
        self._public.server_close()
        self._backend.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)
