"""A tiny Alertmanager webhook receiver (stdlib http.server) that keeps every notification in memory.

The e2e tests and the demo point the example Alertmanager configuration's receivers at it
(``http://127.0.0.1:<port>/<receiver>``), so the receiver name is the URL path:

    with WebhookReceiver() as hook:
        ...  # Alertmanager posts to hook.url_for("pager")
        alert = hook.wait_for(lambda a: a["labels"]["alertname"] == "KafkaConsumerGroupEmpty", timeout=120)

Only loopback: it binds 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Alert = dict[str, Any]


@dataclass(frozen=True)
class Notification:
    receiver: str          # the URL path without the leading slash: the receiver name of the Alertmanager config
    received_at: float     # time.time()
    payload: dict[str, Any]

    @property
    def alerts(self) -> list[Alert]:
        return list(self.payload.get("alerts") or [])


class WebhookReceiver:
    """Collects Alertmanager webhook notifications; thread-safe; a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Condition()
        self._notifications: list[Notification] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver._add(Notification(self.path.strip("/") or "default", time.time(), payload))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:   # a health check and a way to look at what arrived
                body = json.dumps([n.payload for n in receiver.notifications()], indent=1).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, receiver: str) -> str:
        return f"{self.url}/{receiver}"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:   # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what arrived ----------------------------------------------------------------------------------------

    def _add(self, notification: Notification) -> None:
        with self._lock:
            self._notifications.append(notification)
            self._lock.notify_all()

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications)

    def alerts(self, alertname: str | None = None, status: str | None = "firing", **labels: str) -> list[Alert]:
        """Every alert delivered so far (one entry per notification it was part of), with ``receiver`` added."""
        out = []
        for n in self.notifications():
            for alert in n.alerts:
                got = alert.get("labels") or {}
                if alertname is not None and got.get("alertname") != alertname:
                    continue
                if status is not None and alert.get("status") != status:
                    continue
                if any(got.get(k) != v for k, v in labels.items()):
                    continue
                out.append({**alert, "receiver": n.receiver})
        return out

    def alertnames(self, status: str | None = "firing") -> set[str]:
        return {a["labels"].get("alertname", "") for a in self.alerts(status=status)}

    def wait_for(self, predicate: Callable[[Alert], bool], timeout: float, status: str | None = "firing",
                 what: str = "an alert") -> Alert:
        """The first delivered alert matching ``predicate``; raises ``TimeoutError`` listing what did arrive."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for alert in self.alerts(status=status):
                    if predicate(alert):
                        return alert
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({(a["labels"].get("alertname"), a["labels"].get("diagnosis", "-"), a["status"])
                                   for a in self.alerts(status=None)})
                    raise TimeoutError(f"no notification with {what} within {timeout:.0f}s; delivered: {seen}")
                self._lock.wait(min(left, 1.0))
