"""Admin-client construction for one cluster, with security settings and request accounting.

Every request the exporter sends goes through `KafkaAdminClient._manager.send`; wrapping that one method counts
requests per API without touching the call sites, which is what the benchmark and the
`kafka_detective_kafka_requests_total` metric report.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.net.compat import KafkaNetClient
from kafka.net.inet import KafkaNetSocket
from kafka.net.sasl.oauth import AbstractTokenProvider
from kafka.net.selector import NetworkSelector

from kafka_detective.config import ClusterConfig, ConfigError, read_secret
from kafka_detective.kafka.redaction import install as install_redaction
from kafka_detective.kafka.redaction import register_secret

log = logging.getLogger(__name__)


class RequestCounter:
    """Thread-safe count of Kafka requests by API name (e.g. `ListOffsetsRequest`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, api: str) -> None:
        with self._lock:
            self._counts[api] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


install_redaction()
_secret = register_secret


class FileTokenProvider(AbstractTokenProvider):
    """OAUTHBEARER token read from a file on every request, so a sidecar can rotate it."""

    def __init__(self, path: str | None = None, env: str | None = None, **config: Any) -> None:
        super().__init__(**config)
        self._path = path
        self._env = env

    def token(self) -> str:
        return _secret(read_secret(self._path, self._env, "sasl.token").strip()) or ""


def admin_client_settings(cluster: ClusterConfig) -> dict[str, Any]:
    """kafka-python settings for the cluster. Contains secrets: never log the result."""
    settings: dict[str, Any] = {
        "bootstrap_servers": list(cluster.bootstrap_servers),
        "client_id": cluster.client_id,
        "request_timeout_ms": int(cluster.request_timeout_seconds * 1000),
        # Fail a cycle quickly when the cluster is down instead of blocking it for the library's 30 s default.
        "bootstrap_timeout_ms": int(cluster.request_timeout_seconds * 1000),
        "security_protocol": cluster.security_protocol,
    }
    tls = cluster.tls
    if cluster.security_protocol in ("SSL", "SASL_SSL"):
        settings.update(
            ssl_cafile=tls.ca_file,
            ssl_certfile=tls.cert_file,
            ssl_keyfile=tls.key_file,
            ssl_password=_secret(tls.key_password()),
            ssl_check_hostname=tls.check_hostname,
        )
    sasl = cluster.sasl
    if sasl is not None:
        settings["sasl_mechanism"] = sasl.mechanism
        if sasl.mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            settings["sasl_plain_username"] = sasl.username
            settings["sasl_plain_password"] = _secret(sasl.password())
        elif sasl.mechanism == "OAUTHBEARER":
            settings["sasl_oauth_token_provider"] = FileTokenProvider(sasl.token_file, sasl.token_env)
    return settings


# --- connecting, and closing whatever a failed connect started ----------------------------------------------


@dataclass(frozen=True)
class ConnectionFailure:
    """One broker connection that failed while the client bootstrapped: what it last sent, and why it ended."""

    error: BaseException
    last_request: str | None   # e.g. "ApiVersionsRequest", "SaslHandshakeRequest"; None: failed before sending
    initialized: bool          # ApiVersions (and SASL, when configured) had completed


class _AdminClient(KafkaAdminClient):
    """A KafkaAdminClient that releases what its constructor started when the constructor raises, and keeps the
    connection failures seen while bootstrapping so the failure can be named.

    The library's constructor starts an IO thread and opens an epoll selector, a wake-up socket pair and the
    bootstrap connections before `bootstrap()` raises; the half-built object is unreachable to the caller and
    its `close()` returns early (`_closed` is only set on success), so without this every failed connect leaks
    one thread and 3-6 file descriptors (and on a port that accepts but never answers, the TCP connection).
    """

    def __init__(self, failures: deque[ConnectionFailure] | None = None, **configs: Any) -> None:
        self.connection_failures: deque[ConnectionFailure] = deque(maxlen=32) if failures is None else failures
        self._own_net: NetworkSelector | None = None
        try:
            super().__init__(kafka_client=self._build_net_client, **configs)
        except BaseException:
            self._release_partial()
            raise

    def _build_net_client(self, **configs: Any) -> KafkaNetClient:
        # Built here rather than by the library so the selector is in hand even if the client around it fails.
        self._own_net = NetworkSelector(**configs)
        client = KafkaNetClient(net=self._own_net, **configs)
        _watch_connections(client._manager, self.connection_failures)
        return client

    def _release_partial(self) -> None:
        client, metrics, net = (getattr(self, "_client", None), getattr(self, "_metrics", None), self._own_net)
        steps: list[Callable[[], Any]] = []
        if client is not None:
            steps.append(client.close)   # closes every connection, stops the IO thread, closes the selector
        if net is not None:
            steps += [net.stop, net.close]   # no-ops when client.close did it; needed when the client never existed
        if metrics is not None:
            steps.append(metrics.close)
        for step in steps:
            try:
                step()
            except Exception:  # keep releasing the rest; the original error is what the caller needs to see
                log.debug("releasing a half-built admin client: %s failed", getattr(step, "__qualname__", step),
                          exc_info=True)
        self._closed = True


def _close_sockets_that_fail_to_connect() -> None:
    """kafka-python 3.0 leaves the socket of a failed TCP connect open; it is held by a reference cycle through
    the exception's traceback and only freed by a full garbage collection, so a cluster that refuses
    connections (an outage, or reconnects to a dead broker inside a live client) piles up file descriptors."""
    original = KafkaNetSocket.sock_connect
    if getattr(original, "_closes_on_failure", False):
        return

    async def sock_connect(self: Any, net: Any, sock: socket.socket, sockaddr: Any, timeout_at: Any = None) -> Any:
        try:
            return await original(self, net, sock, sockaddr, timeout_at=timeout_at)
        except BaseException:
            sock.close()
            raise

    sock_connect._closes_on_failure = True  # type: ignore[attr-defined]  # a marker on the function, read above
    KafkaNetSocket.sock_connect = sock_connect


_close_sockets_that_fail_to_connect()


def _watch_connections(manager: Any, failures: deque[ConnectionFailure]) -> None:
    """Record every bootstrap connection that ends in an error, with the last request it sent."""
    get_connection = manager.get_connection

    def watched_get_connection(node_id: Any, *args: Any, **kwargs: Any) -> Any:
        conn = get_connection(node_id, *args, **kwargs)
        if getattr(conn, "_detective_watched", False):
            return conn
        conn._detective_watched = True
        last: list[str | None] = [None]
        send = conn._send_request

        def tracked_send(request: Any, *a: Any, **kw: Any) -> Any:
            last[0] = type(request).__name__.split("_v")[0]
            return send(request, *a, **kw)

        def lost(error: BaseException) -> None:
            failures.append(ConnectionFailure(error, last[0], conn.init_future.succeeded()))

        conn._send_request = tracked_send
        conn.close_future.add_errback(lost)
        return conn

    manager.get_connection = watched_get_connection


def connect(cluster: ClusterConfig, counter: RequestCounter) -> KafkaAdminClient:
    """Connect an admin client whose requests are counted in `counter`.

    Raises `ClusterConnectError` naming the cause (wrong password, TLS mismatch, unknown CA...) when the cluster
    cannot be used; configuration mistakes among them are also logged at ERROR with a hint. Nothing the attempt
    started outlives a failure."""
    failures: deque[ConnectionFailure] = deque(maxlen=32)
    try:
        try:
            check_tls_files(cluster)
            settings = admin_client_settings(cluster)
        except ConfigError as error:  # a secret file or variable gone since start-up (they are read per connect)
            raise ClusterConnectError("secret_source", str(error), "secrets are read again on every connect: "
                                      "fix the file or variable and the next cycle uses it", True) from None
        try:
            admin = _AdminClient(failures, **settings)
        except Exception as error:
            raise describe_connect_failure(cluster, error, list(failures)) from error
    except ClusterConnectError as failure:
        if failure.needs_attention:
            log.error("cluster %s: %s", cluster.name, failure)
        raise
    manager = admin._manager
    send = manager.send

    def counted_send(request: Any, node_id: int | None = None, request_timeout_ms: int | None = None) -> Any:
        counter.add(type(request).__name__.split("_v")[0])
        return send(request, node_id=node_id, request_timeout_ms=request_timeout_ms)

    manager.send = counted_send
    return admin


# --- naming a failed connect -----------------------------------------------------------------------------------


class ClusterConnectError(Exception):
    """The cluster could not be used, with the cause named and a hint. `needs_attention`: a configuration
    mistake (credentials, TLS, protocol) that will not heal by itself, logged at ERROR; otherwise the cluster
    is down or unreachable and the loop just retries."""

    def __init__(self, kind: str, summary: str, hint: str, needs_attention: bool) -> None:
        super().__init__(f"{summary}; hint: {hint}" if hint else summary)
        self.kind = kind
        self.summary = summary
        self.hint = hint
        self.needs_attention = needs_attention


_TLS_RECORD_TYPES = (0x14, 0x15, 0x16, 0x17)  # first byte of a TLS record: what a TLS port answers to plaintext


def _text(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _broker_message(error: BaseException) -> str:
    """'[Error 58] SaslAuthenticationFailedError: SaslAuthenticationFailedError: Authentication failed: ...'
    -> 'Authentication failed: ...' (the broker's own words)."""
    text = _text(error)
    name = type(error).__name__
    return text.rsplit(f"{name}: ", 1)[-1].strip() or name


def _is_disconnect(error: BaseException) -> bool:
    return "disconnected" in _text(error).lower() or isinstance(error, (ConnectionResetError, BrokenPipeError))


def describe_connect_failure(cluster: ClusterConfig, error: BaseException,
                             failures: list[ConnectionFailure]) -> ClusterConnectError:
    """Name why connecting failed, from the error the client raised and the connections that failed on the way.

    Pure: it only reads its arguments. The most specific evidence wins: a broker's authentication verdict over a
    TLS verdict over a protocol mismatch over plain unreachability."""
    protocol = cluster.security_protocol
    sasl = cluster.sasl
    mechanism = sasl.mechanism if sasl else None
    uses_tls = protocol in ("SSL", "SASL_SSL")
    uses_sasl = protocol.startswith("SASL_")
    errors = [f.error for f in failures] + [error]
    texts = [_text(e) for e in errors]
    where = ", ".join(cluster.bootstrap_servers)

    def attention(kind: str, summary: str, hint: str) -> ClusterConnectError:
        return ClusterConnectError(kind, summary, hint, needs_attention=True)

    for e in errors:
        name = type(e).__name__
        if name == "SaslAuthenticationFailedError":
            said = _broker_message(e)
            if mechanism == "OAUTHBEARER":
                return attention("authentication", f"SASL OAUTHBEARER authentication failed at {where}: {said}",
                                 "the broker rejected the token (expired, wrong subject or not a token it "
                                 "accepts): check sasl.token_file / token_env")
            user = sasl.username if sasl else None
            return attention("authentication",
                             f"SASL {mechanism} authentication failed for user '{user}' at {where}: {said}",
                             "wrong password (sasl.password_file / password_env) or unknown user"
                             + (f", or no {mechanism} credentials" if mechanism and
                                mechanism.startswith("SCRAM") else ""))
        if name == "UnsupportedSaslMechanismError":
            return attention("sasl_mechanism", f"the listener at {where} does not enable SASL mechanism {mechanism}",
                             "set sasl.mechanism to one the listener enables")
    for text in texts:
        if "CERTIFICATE_VERIFY_FAILED" in text:
            detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip(" :")
            if "mismatch" in text.lower():
                return attention("tls_hostname", f"TLS: the broker's certificate does not match the address "
                                 f"{where} ({detail})",
                                 "connect by a name or IP address the certificate lists, or set "
                                 "tls.check_hostname: false if you accept the risk")
            return attention("tls_unknown_ca", f"TLS: the broker's certificate is not trusted at {where} ({detail})",
                             "unknown CA: tls.ca_file must hold the CA that signed the brokers' certificates"
                             + ("" if cluster.tls.ca_file else " (none is set: the system CAs were used)"))
    for e, text in zip(errors, texts, strict=True):
        if any(marker in text for marker in ("PEM lib", "BAD_DECRYPT", "bad decrypt", "KEY_VALUES_MISMATCH",
                                              "key values mismatch")):
            return attention("tls_client_key", f"TLS: cannot load the client certificate and key ({text})",
                             "wrong key password (tls.key_password_file / key_password_env), or tls.key_file "
                             "does not belong to tls.cert_file")
        if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            return attention("tls_files", f"TLS: cannot read a certificate or key file ({text})",
                             "check tls.ca_file, tls.cert_file and tls.key_file")
    if uses_tls:
        for text in texts:
            if "Handshake failed" in text or "[SSL" in text:
                reason = re.search(r"\[SSL: [A-Z_]+\]", text)
                return attention("tls_mismatch", f"TLS handshake failed at {where}"
                                 + (f" {reason.group(0)}" if reason else ""),
                                 f"TLS mismatch: security_protocol is {protocol} but the port does not speak TLS "
                                 "(a PLAINTEXT or SASL_PLAINTEXT listener?)")
    if not uses_tls:
        for text in texts:
            match = re.search(r"Invalid frame length: (\d+)", text)
            if match and int(match.group(1)) >> 24 in _TLS_RECORD_TYPES:
                return attention("tls_mismatch", f"the broker at {where} answered with TLS",
                                 f"plaintext to a TLS port: security_protocol is {protocol}; use "
                                 f"{'SASL_SSL' if uses_sasl else 'SSL'} (with tls.ca_file) or the plaintext "
                                 "listener's port")
    disconnects = [f for f in failures if _is_disconnect(f.error)]
    if uses_sasl and any(f.last_request in ("SaslAuthenticateRequest", "SaslBytesRequest") for f in disconnects):
        # Brokers answer a rejected password with an error, but may close the connection before it is read.
        return attention("authentication", f"SASL {mechanism} authentication failed"
                         + (f" for user '{sasl.username}'" if sasl and sasl.username else "")
                         + f" at {where}: the broker closed the connection on the credentials",
                         "wrong password or token (sasl.password_file / password_env / token_file), or unknown user")
    if disconnects:
        if not uses_sasl and any(f.initialized for f in disconnects):
            return attention("sasl_required", f"the broker at {where} closed the connection after the handshake, "
                             "at the first request",
                             f"the listener probably requires SASL: security_protocol is {protocol}; use "
                             f"{'SASL_SSL' if uses_tls else 'SASL_PLAINTEXT'} with a sasl: block")
        if uses_sasl and any(f.last_request == "SaslHandshakeRequest" for f in disconnects):
            return attention("sasl_mechanism", f"the broker at {where} closed the connection at the SASL "
                             f"handshake for mechanism {mechanism}",
                             "the listener does not enable this mechanism, or is not a SASL listener")
        if not uses_tls and all(f.last_request == "ApiVersionsRequest" and not f.initialized for f in disconnects):
            return attention("tls_mismatch", f"the broker at {where} closed the connection before answering "
                             "ApiVersions",
                             f"plaintext to a TLS port? security_protocol is {protocol}; a TLS listener needs "
                             f"{'SASL_SSL' if uses_sasl else 'SSL'}")
    refused = [t for t in texts if "refused" in t.lower()]
    if refused:
        return ClusterConnectError("unreachable", f"cannot reach {where}: connection refused",
                                   "is the broker running, and is this the right address and port?", False)
    if failures and all("timed out" in t.lower() or "timeout" in t.lower() for t in texts[:-1]):
        return ClusterConnectError("no_answer", f"no answer from {where} within "
                                   f"{cluster.request_timeout_seconds:g}s",
                                   "the port accepts connections but nothing answers Kafka's handshake: "
                                   "a hung broker, a proxy, or not a Kafka port", False)
    return ClusterConnectError("unreachable", f"cannot connect to {where}: {texts[-1]}",
                               (f"last connection error: {texts[-2]}" if len(texts) > 1 else ""), False)


def check_tls_files(cluster: ClusterConfig) -> None:
    """Fail with a named field before connecting when a TLS file cannot be used: the library would report only
    `[Errno 2] No such file or directory` on a connection it retries until the timeout, and an encrypted key
    without a password would make OpenSSL prompt on the terminal."""
    if cluster.security_protocol not in ("SSL", "SASL_SSL"):
        return
    tls = cluster.tls
    for field_name, path in (("tls.ca_file", tls.ca_file), ("tls.cert_file", tls.cert_file),
                             ("tls.key_file", tls.key_file)):
        if not path:
            continue
        try:
            head = Path(path).read_bytes()[:1_000_000]
        except OSError as error:
            raise ClusterConnectError("tls_files", f"{field_name} {path} cannot be read: {error.strerror}",
                                      f"check {field_name}" + (" (missing CA file)" if field_name ==
                                                               "tls.ca_file" else ""), True) from None
        if field_name == "tls.key_file" and b"ENCRYPTED" in head and not (tls.key_password_file or
                                                                        tls.key_password_env):
            raise ClusterConnectError("tls_client_key", f"tls.key_file {path} is encrypted and no key password "
                                      "is configured", "set tls.key_password_file or tls.key_password_env", True)
