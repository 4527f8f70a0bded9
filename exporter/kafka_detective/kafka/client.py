"""Admin-client construction for one cluster, with security settings and request accounting.

Every request the exporter sends goes through `KafkaAdminClient._manager.send`; wrapping that one method counts
requests per API without touching the call sites, which is what the benchmark and the
`kafka_detective_kafka_requests_total` metric report.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.net.sasl.oauth import AbstractTokenProvider

from kafka_detective.config import ClusterConfig

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


class _SecretRedactor(logging.Filter):
    """kafka-python logs its whole configuration, passwords included, at DEBUG when a client starts; every secret
    the exporter hands to it is registered here and replaced in those records before any handler sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            redacted = message
            for secret in self.secrets:
                redacted = redacted.replace(secret, "<redacted>")
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True


_REDACTOR = _SecretRedactor()
_previous_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Logger filters do not apply to child loggers, and kafka-python logs from many (its protocol parser dumps
    # the raw SASL PLAIN/OAUTHBEARER authentication bytes at DEBUG): redact every kafka.* record at creation.
    record = _previous_factory(*args, **kwargs)
    if record.name == "kafka" or record.name.startswith("kafka."):
        _REDACTOR.filter(record)
    return record


logging.setLogRecordFactory(_redacting_factory)


def _secret(value: str | None) -> str | None:
    if value:
        _REDACTOR.secrets.add(value)
    return value


class FileTokenProvider(AbstractTokenProvider):
    """OAUTHBEARER token read from a file on every request, so a sidecar can rotate it."""

    def __init__(self, path: str | None = None, env: str | None = None, **config: Any) -> None:
        super().__init__(**config)
        self._path = path
        self._env = env

    def token(self) -> str:
        from kafka_detective.config import read_secret

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


def connect(cluster: ClusterConfig, counter: RequestCounter) -> KafkaAdminClient:
    """Connect an admin client whose requests are counted in `counter`. Raises kafka errors when unreachable."""
    admin = KafkaAdminClient(**admin_client_settings(cluster))
    manager = admin._manager
    send = manager.send

    def counted_send(request: Any, node_id: int | None = None, request_timeout_ms: int | None = None) -> Any:
        counter.add(type(request).__name__.split("_v")[0])
        return send(request, node_id=node_id, request_timeout_ms=request_timeout_ms)

    manager.send = counted_send
    return admin
