"""HTTP endpoints: /metrics (pre-rendered), /healthz, /readyz and a landing page.

/metrics joins the blocks the collection loops rendered at the end of their cycles with a few lines computed
at scrape time (snapshot age, process metrics), so a scrape costs the same whatever Kafka is doing. Gzip is
served when asked for: the static part is compressed once per cycle, and gzip members concatenate.

The server is a thread per connection. What keeps that safe on a shared network: an idle timeout on every
connection, a listen backlog that absorbs bursts of scrapes, TLS handshakes in the connection's thread, and
quiet handling of clients that hang up. TLS and basic auth come from the web config file (web_config.py).

`serve` runs this server in the scrape front, a process of its own that answers /metrics from the page the
collector process publishes (serving/scrape_front.py); `MetricsServer` runs it in the collector process itself.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import ipaddress
import logging
import platform
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Callable, Collection, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import kafka
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from kafka_detective import __version__
from kafka_detective.errors import UserError
from kafka_detective.gathering.sharding import UNSHARDED, Shard
from kafka_detective.metrics.catalogue import BY_NAME
from kafka_detective.metrics.exposition import CONTENT_TYPE, Exposition, family
from kafka_detective.metrics.family import header
from kafka_detective.metrics.sharding import label_shard
from kafka_detective.serving import detective_page
from kafka_detective.serving.collector import Collector
from kafka_detective.serving.web_config import BasicAuth, TlsServer, WebConfig, load_web_config

log = logging.getLogger(__name__)

# Longer than the usual 15-30 s scrape interval, so Prometheus keeps its connection (and TLS session) from one
# scrape to the next; short enough that an abandoned keep-alive connection frees its thread within a minute.
IDLE_TIMEOUT_SECONDS = 60.0
LISTEN_BACKLOG = 1024
# Longest age of the process and Python runtime metrics on /metrics (see MetricsApp._runtime_metrics).
RUNTIME_METRICS_SECONDS = 1.0


def build_info() -> bytes:
    build = family("kafka_detective_build_info")
    build.add((__version__, platform.python_version(), kafka.__version__), 1)
    return (header(build.spec) + build.render()).encode("utf-8")


# (cluster, snapshot age, {data phase: age}) of one cluster whose first cycle has ended.
ClusterAges = tuple[str, float, dict[str, float]]


def render_ages(ages: Sequence[ClusterAges], shard: Shard) -> bytes:
    """The scrape-time ages of the newest successful data, clusters in name order."""
    age = family("kafka_detective_snapshot_age_seconds")
    data_age = family("kafka_detective_data_age_seconds")
    for cluster, snapshot_age, data_ages in sorted(ages, key=lambda a: a[0]):
        age.add((cluster,), snapshot_age)
        for phase in sorted(data_ages):
            data_age.add((cluster, phase), data_ages[phase])
    age, data_age = label_shard((age, data_age), shard)
    return (header(BY_NAME["kafka_detective_snapshot_age_seconds"]) + age.render()
            + header(BY_NAME["kafka_detective_data_age_seconds"]) + data_age.render()).encode("utf-8")


class RuntimeMetrics:
    """prometheus_client's process and Python metrics, read at most once a second.

    Reading them opens and reads several /proc files: each of those system calls gives up the GIL and waits to
    get it back, up to the 1 ms switch interval when a cycle is running, so they were most of a scrape's
    latency during cycles. Values a second old are as good to a scraper polling every 15-60 s."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self._runtime: tuple[float, bytes] = (-RUNTIME_METRICS_SECONDS, b"")

    def text(self) -> bytes:
        now = time.monotonic()
        read_at, text = self._runtime
        if now - read_at >= RUNTIME_METRICS_SECONDS:
            text = generate_latest(self.registry)
            self._runtime = (now, text)   # one object: a concurrent scrape sees the old pair or the new one
        return text


class MetricsApp:
    def __init__(self, exposition: Exposition, collectors: Sequence[Collector],
                 alive: Callable[[], bool] = lambda: True, ui_enabled: bool = True,
                 ui_library_dir: str | None = None, shard: Shard = UNSHARDED) -> None:
        self.exposition = exposition
        self.collectors = list(collectors)
        self.alive = alive
        self.ui_enabled = ui_enabled   # /detective (serving/detective_page.py)
        self.ui_library_dir = ui_library_dir   # learned incidents for "similar past incidents" on a case file
        self.shard = shard   # labels the scrape-time ages like the rest of a sharded exporter's health
        self._build_info = build_info()
        self._runtime = RuntimeMetrics()

    def cluster_ages(self, now: float, also: Collection[str] = ()) -> list[ClusterAges]:
        """Ages of the clusters whose first cycle has ended (or that are named in `also`).

        Ages of the newest successful data, not of the last attempt: a failing cycle does not reset them."""
        return [(c.cluster.name, c.snapshot_age(now), c.data_ages(now)) for c in self.collectors
                if c.completed.is_set() or c.cluster.name in also]

    def dynamic_body(self) -> bytes:
        return (self._build_info + render_ages(self.cluster_ages(time.time()), self.shard)
                + self._runtime.text())

    def ready(self) -> tuple[bool, str]:
        waiting = [c.cluster.name for c in self.collectors if not c.completed.is_set()]
        if waiting:
            return False, "waiting for the first collection cycle of: " + ", ".join(waiting)
        return True, "ready"


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether a response to this Accept-Encoding should be gzip, honouring q-values (RFC 9110 12.5.3).

    gzip is chosen when its weight (its own, else that of `*`) is above zero and not below an explicitly given
    identity weight. Anything else gets identity, which is always acceptable unless excluded, and even then is
    the better answer for a scraper than a 406.
    """
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding or coding in weights:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0  # an unreadable weight excludes rather than prefers
                if not 0.0 <= weight <= 1.0:  # also false for NaN
                    weight = 0.0
        weights[coding] = weight
    star = weights.get("*")
    gzip_weight = weights.get("gzip", weights.get("x-gzip", star if star is not None else 0.0))
    identity_weight = weights.get("identity", star)
    return gzip_weight > 0.0 and (identity_weight is None or gzip_weight >= identity_weight)


class Handler(BaseHTTPRequestHandler):
    """What every endpoint shares: basic auth, the web config's extra headers, idle timeouts, quiet logging.

    `route` answers a request that passed the auth check; `make_handler` and the scrape front
    (serving/front_process.py) bind it and the web config into a subclass."""

    server_version = "kafka-detective"
    protocol_version = "HTTP/1.1"
    # Applies to every read and write of the connection: a keep-alive connection idle this long is closed
    # (BaseHTTPRequestHandler turns the timeout into close_connection), so its thread is freed.
    timeout = IDLE_TIMEOUT_SECONDS
    auth: BasicAuth | None = None
    open_paths: frozenset[str] = frozenset()
    extra_headers: tuple[tuple[str, str], ...] = ()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes | tuple[bytes | memoryview, ...],
              content_type: str = "text/plain; charset=utf-8", encoding: str | None = None,
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        chunks = (body,) if isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        for name, value in (*self.extra_headers, *headers):
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            for chunk in chunks:
                self.wfile.write(chunk)

    def send_metrics(self, chunks: Callable[[], tuple[bytes | memoryview, ...]], gzipped: bytes | memoryview,
                     dynamic: bytes) -> None:
        """The page: the cycle's static part (compressed once per cycle, or its text as chunks, asked for only
        when sent: the front decompresses it for that) and the scrape-time lines."""
        vary = (("Vary", "Accept-Encoding"),)
        if accepts_gzip(self.headers.get("Accept-Encoding")):
            # gzip members concatenate: the static member, then the scrape-time lines'. One write, as Prometheus
            # reads the whole answer anyway: a short last write could wait for the client's delayed ACK (Nagle).
            body = b"".join((gzipped, gzip.compress(dynamic, compresslevel=1)))
            self._send(200, body, CONTENT_TYPE, "gzip", headers=vary)
        else:
            self._send(200, (*chunks(), dynamic), CONTENT_TYPE, headers=vary)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if self.auth is not None and path not in self.open_paths and self.auth.check(
                self.headers.get("Authorization")) is None:
            self._send(401, b"Unauthorized\n",
                       headers=(("WWW-Authenticate", 'Basic realm="kafka-detective", charset="UTF-8"'),))
            return
        self.route(path)

    def route(self, path: str) -> None:
        raise NotImplementedError


def bind_handler(handler: type[Handler], web: WebConfig | None, idle_timeout: float | None,
                 **attributes: object) -> type[Handler]:
    """A subclass of `handler` with the web config's auth and headers, the idle timeout and `attributes`."""
    return type(handler.__name__, (handler,), {
        "auth": web.auth if web else None, "open_paths": web.auth_excluded_paths if web else frozenset(),
        "extra_headers": web.headers if web else (), "timeout": idle_timeout, **attributes})


class AppHandler(Handler):
    app: MetricsApp

    def route(self, path: str) -> None:
        app = self.app
        if path == "/metrics":
            self.send_metrics(app.exposition.static_chunks, app.exposition.static_body_gzip(), app.dynamic_body())
        elif path == "/healthz":
            ok = app.alive()
            self._send(200 if ok else 503, b"ok\n" if ok else b"collection thread stopped\n")
        elif path == "/readyz":
            ok, message = app.ready()
            self._send(200 if ok else 503, message.encode() + b"\n")
        elif path == "/detective" or path.startswith("/detective/"):
            page = detective_page.respond(self.path, lambda: detective_page.CollectorSource(app.collectors),
                                          enabled=app.ui_enabled, library_dir=app.ui_library_dir, shard=app.shard)
            self._send(page.status, page.body, page.content_type, headers=page.headers)
        elif path == "/":
            self._send(200, b"<html><head><title>Kafka Detective</title></head><body><h1>Kafka Detective</h1>"
                            b'<p><a href="/metrics">Metrics</a> | <a href="/healthz">healthz</a> | '
                            b'<a href="/readyz">readyz</a>'
                            + (b' | <a href="/detective">open cases</a>' if app.ui_enabled else b"")
                            + b"</p></body></html>", "text/html; charset=utf-8")
        else:
            self._send(404, b"not found\n")


def make_handler(app: MetricsApp, web: WebConfig | None = None,
                 idle_timeout: float | None = IDLE_TIMEOUT_SECONDS) -> type[Handler]:
    return bind_handler(AppHandler, web, idle_timeout, app=app)


class ServingError(UserError):
    """The endpoint cannot listen (address in use, unknown address, no IPv6): one line, non-zero exit."""


def resolve_listen_address(address: str, port: int) -> tuple[socket.AddressFamily, str]:
    """The socket family and host to bind for a listen_address: IPv4/IPv6 literal ([::1] too) or a host name."""
    host = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    if host in ("", "*"):
        return socket.AF_INET, ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), host
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ServingError(f"listen_address {address!r}: cannot resolve it ({reason})") from None
    family, _, _, _, sockaddr = infos[0]
    return socket.AddressFamily(family), str(sockaddr[0])


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The kernel caps this at net.core.somaxconn. With the old default of 5, 50 parallel scrapes overflowed the
    # accept queue and clients waited for SYN retransmits (1 s, 3 s): see docs/reliability.md.
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, host: str, port: int, family: socket.AddressFamily,
                 handler: type[BaseHTTPRequestHandler], tls: TlsServer | None,
                 idle_timeout: float | None, listening: socket.socket | None = None) -> None:
        """Binds and listens on (host, port), or serves `listening`, a socket already bound and listening (the
        scrape front's, handed over by the collector process that bound it)."""
        self.address_family = family if listening is None else listening.family
        self.tls = tls
        self.idle_timeout = idle_timeout
        self.dual_stack = False
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), handler, bind_and_activate=listening is None)
        if listening is not None:
            self.socket.close()
            self.socket = listening
            self.server_address = listening.getsockname()
            self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        return f"{'https' if self.tls else 'http'}://{f'[{host}]' if ':' in host else host}:{self.port}"

    def describe(self, web: WebConfig | None) -> str:
        """The endpoint as the start-up log line says it: its URL, TLS, basic auth and address families."""
        return (f"{self.url} (TLS {'on' if self.tls else 'off'}, basic auth "
                f"{f'on for {web.user_count} user(s)' if web and web.auth else 'off'}"
                f"{', IPv4 and IPv6' if self.dual_stack else ''})")

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection. Without this a stopped exporter keeps answering on keep-alive connections,
        and Prometheus, which reuses its connection, goes on scraping `up == 1` from a process that is gone."""
        with self._connections_lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6 and ipaddress.ip_address(str(self.server_address[0]).split("%")[0]) \
                == ipaddress.IPv6Address("::"):
            # `::` serves IPv4 clients too where the host allows it (they appear as ::ffff:a.b.c.d).
            with contextlib.suppress(OSError, AttributeError):
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                self.dual_stack = True
        # TCPServer's bind, not HTTPServer's: that one resolves the host's FQDN, a DNS lookup at start-up for a
        # name nothing uses.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the connection's own thread, so a slow or silent TLS client never stalls the accept loop.
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(self.idle_timeout)
        try:
            secure = self.tls.context.wrap_socket(request, server_side=True)
        except (OSError, ValueError) as error:
            log.debug("TLS handshake with %s failed: %s", client_address[0], error)
            return
        try:
            if not self.tls.peer_allowed(secure.getpeercert()):
                log.debug("client certificate of %s has none of client_allowed_sans", client_address[0])
                return
            super().finish_request(secure, client_address)
        finally:
            self.shutdown_request(secure)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
            # A scraper that gave up (scrape timeout, restart) is routine, not an error of the exporter.
            log.debug("client %s went away: %s", client_address[0] if client_address else "?", error)
        else:
            log.error("error serving %s", client_address[0] if client_address else "?", exc_info=error)


class MetricsServer:
    def __init__(self, app: MetricsApp, address: str, port: int, *, web_config_file: str | None = None,
                 web_config: WebConfig | None = None, idle_timeout: float | None = IDLE_TIMEOUT_SECONDS) -> None:
        if web_config is None and web_config_file:
            web_config = load_web_config(web_config_file)
        self.web_config = web_config
        family, host = resolve_listen_address(address, port)
        tls = web_config.tls if web_config else None
        try:
            self.httpd = _HTTPServer(host, port, family, make_handler(app, web_config, idle_timeout), tls,
                                     idle_timeout)
        except OSError as error:
            raise ServingError(_bind_failure(address, port, error)) from None
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.port

    @property
    def url(self) -> str:
        return self.httpd.url

    def start(self) -> None:
        self._thread.start()
        log.info("HTTP endpoint %s", self.httpd.describe(self.web_config))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_connections()


def _bind_failure(address: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"listen_port {port}: address already in use (on {address or '0.0.0.0'})"
    if error.errno == errno.EACCES:
        return f"listen_port {port}: permission denied (ports below 1024 need privileges)"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"listen_address {address}: not an address of this host"
    if error.errno == errno.EAFNOSUPPORT:
        return f"listen_address {address}: IPv6 is not available on this host"
    return f"listen_address {address}, listen_port {port}: cannot listen ({error.strerror or error})"
