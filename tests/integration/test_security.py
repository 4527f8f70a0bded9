"""The exporter's security settings against a real broker with SASL and TLS listeners.

One secured broker serves the whole module (``LocalKafka(security=...)``: SASL_PLAINTEXT, SSL and SASL_SSL client
listeners beside PLAINTEXT, a throwaway CA, a random password). The lag the exporter collects through each
secured listener, configured the way a user would (``parse_config`` with ``password_file`` / ``token_file``), is
compared with Kafka's own consumer-groups tool reaching the same listener through a client properties file.
Secrets must appear in no log record (everything captured at DEBUG) and in no process's argv.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.structs import OffsetAndMetadata, TopicPartition

from kafka_detective.config import parse_config
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.errors import KafkaSandboxError
from kafka_detective_tools.sandbox.local_kafka import KafkaSecurity, LocalKafka
from kafka_detective_tools.sandbox.tls_material import generate_tls_material

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import one, series

pytestmark = pytest.mark.kafka

GROUP = "it-secure"
PRODUCED = (40, 12, 5)     # messages per partition
COMMITTED = (15, 12, 0)    # the group's committed offsets: lag 25, 0, 5


# --- process starts, watched through audit hooks (they cannot be removed, so one hook switched on and off) ----

_STARTED: list[tuple[str, str]] = []
_WATCHING = threading.Event()
_PROCESS_EVENTS = ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "os.fork",
                   "os.forkpty")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHING.is_set() and event in _PROCESS_EVENTS:
        _STARTED.append((event, repr(args)))


sys.addaudithook(_audit)


def all_process_argvs() -> dict[int, str]:
    """The argv of every process on the machine that /proc lets us read."""
    argvs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argvs[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return argvs


# --- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secure_kafka() -> Iterator[LocalKafka]:
    security = KafkaSecurity(mechanisms=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"))
    with LocalKafka(brokers=1, security=security) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def lagging_topic(secure_kafka: LocalKafka) -> str:
    """A 3-partition topic and a group with known lag, set up through the PLAINTEXT listener."""
    bootstrap = secure_kafka.bootstrap_servers
    topic = f"secured-{os.urandom(4).hex()}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-security-setup")
    try:
        admin.create_topics({topic: {"num_partitions": len(PRODUCED), "replication_factor": 1}})
        deadline = time.monotonic() + 30
        while True:
            (described,) = admin.describe_topics([topic])
            parts = described.get("partitions") or []
            if len(parts) == len(PRODUCED) and all(p["leader_id"] >= 0 for p in parts):
                break
            assert time.monotonic() < deadline, described
            time.sleep(0.2)
        for partition, count in enumerate(PRODUCED):
            kafka_tools.produce(bootstrap, topic, count, partition=partition)
        admin.alter_group_offsets(GROUP, {TopicPartition(topic, p): OffsetAndMetadata(o, "", None)
                                          for p, o in enumerate(COMMITTED)})
    finally:
        admin.close()
    return topic


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    directory.mkdir(mode=0o700)
    return directory


def write_secret(directory: Path, name: str, value: str) -> Path:
    path = directory / name
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return path


def unsecured_jws(subject: str, lifetime_seconds: float = 3600) -> str:
    """An unsigned (``alg: none``) JWT, what Kafka's unsecured OAUTHBEARER validator accepts."""
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    now = time.time()
    return f"{part({'alg': 'none'})}.{part({'sub': subject, 'iat': now, 'exp': now + lifetime_seconds})}."


def cluster_config(kafka: LocalKafka, protocol: str, mechanism: str | None, secrets: Path, *,
                   password: str | None = None, token: str | None = None, ca_file: str | None = None,
                   timeout: float = 10.0) -> dict[str, Any]:
    """One cluster's YAML-shaped config; the secret goes to a file next to it, like a mounted Secret."""
    user = next(iter(kafka.users))
    cluster: dict[str, Any] = {
        "name": "secure",
        "bootstrap_servers": kafka.bootstrap_for_protocol(protocol).split(","),
        "security_protocol": protocol,
        "request_timeout_seconds": timeout,
    }
    if mechanism == "OAUTHBEARER":
        token = token if token is not None else unsecured_jws(user)
        cluster["sasl"] = {"mechanism": mechanism, "token_file": str(write_secret(secrets, "token", token))}
    elif mechanism is not None:
        password = password if password is not None else kafka.users[user]
        cluster["sasl"] = {"mechanism": mechanism, "username": user,
                           "password_file": str(write_secret(secrets, "password", password))}
    if protocol in ("SSL", "SASL_SSL"):
        cluster["tls"] = {"ca_file": ca_file or str(kafka.ca_file), "check_hostname": True}
    return cluster


def collector_for(cluster: dict[str, Any]) -> ClusterCollector:
    config = parse_config({"clusters": [cluster], "analysis": {"enabled": False}})
    return ClusterCollector(config.clusters[0], Exposition(), config.config_refresh_seconds, config.analysis)


class Watch:
    """Runs exporter cycles with every log record captured at DEBUG and every process start recorded."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        caplog.set_level(logging.DEBUG)
        for name in ("kafka", "kafka_detective"):
            caplog.set_level(logging.DEBUG, logger=name)

    def cycle(self, collector: ClusterCollector) -> dict[str, dict[tuple, float]]:
        _STARTED.clear()
        _WATCHING.set()
        try:
            collector.run_cycle()
        finally:
            _WATCHING.clear()
        return series(collector)

    def assert_never_leaked(self, *secrets: str) -> None:
        records = self.caplog.records
        assert any(r.levelno == logging.DEBUG and r.name.startswith("kafka.") for r in records), \
            "kafka-python's DEBUG records were not captured: the check below would prove nothing"
        for secret in secrets:
            assert secret, "empty secret"
            for record in records:
                # kafka-python logs raw request bytes (SaslAuthenticate included) on kafka.protocol.parser at DEBUG
                assert secret not in record.getMessage(), f"secret in a {record.name} log record"
            assert secret not in self.caplog.text  # formatted, with any traceback
            for event, args in _STARTED:
                assert secret not in args, f"secret in the argv of a process the exporter started ({event})"
            for pid, argv in all_process_argvs().items():
                assert secret not in argv, f"secret in the argv of pid {pid}: {argv[:200]}"


@pytest.fixture
def watch(caplog: pytest.LogCaptureFixture) -> Watch:
    return Watch(caplog)


# --- tests ---------------------------------------------------------------------------------------------------

SETUPS = [
    ("SASL_PLAINTEXT", "PLAIN"),
    ("SASL_PLAINTEXT", "SCRAM-SHA-256"),
    ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
    ("SSL", None),
    ("SASL_SSL", "SCRAM-SHA-512"),
    ("SASL_PLAINTEXT", "OAUTHBEARER"),
    ("SASL_SSL", "OAUTHBEARER"),
]


@pytest.mark.parametrize(("protocol", "mechanism"), SETUPS, ids=[f"{p}-{m or 'TLS'}" for p, m in SETUPS])
def test_lag_through_secured_listener_matches_consumer_groups_tool(
    secure_kafka: LocalKafka, lagging_topic: str, secrets_dir: Path, tmp_path: Path, watch: Watch,
    protocol: str, mechanism: str | None,
) -> None:
    kafka = secure_kafka
    cluster = cluster_config(kafka, protocol, mechanism, secrets_dir)
    collector = collector_for(cluster)
    try:
        samples = watch.cycle(collector)
    finally:
        collector.close()
    assert collector.last_error is None, collector.last_error
    assert one(samples, "kafka_detective_cluster_up", cluster="secure") == 1
    assert all(v == 0 for v in samples["kafka_detective_collection_errors_total"].values())
    # Metadata came through the secured listener: the broker advertises that listener's port to this client.
    port = kafka.bootstrap_for_protocol(protocol).split(":")[1]
    assert dict(next(iter(samples["kafka_broker_info"])))["port"] == port
    assert one(samples, "kafka_broker_info", broker_id="1", host="127.0.0.1", port=port) == 1

    # The reference: Kafka's tool on the same listener, with the same kind of credentials, from a properties file.
    properties = kafka.write_client_properties(tmp_path / "client.properties", protocol, mechanism)
    rows = kafka_tools.describe_group_offsets(kafka.bootstrap_for_protocol(protocol), GROUP,
                                              command_config=properties)
    rows = [r for r in rows if r["topic"] == lagging_topic]
    assert sorted((r["partition"], r["current_offset"], r["log_end_offset"], r["lag"]) for r in rows) == [
        (p, COMMITTED[p], PRODUCED[p], PRODUCED[p] - COMMITTED[p]) for p in range(len(PRODUCED))
    ]
    for row in rows:
        labels = {"consumergroup": GROUP, "topic": lagging_topic, "partition": str(row["partition"])}
        assert one(samples, "kafka_consumergroup_lag", **labels) == row["lag"]
        assert one(samples, "kafka_consumergroup_current_offset", **labels) == row["current_offset"]
        assert one(samples, "kafka_topic_partition_current_offset", topic=lagging_topic,
                   partition=str(row["partition"])) == row["log_end_offset"]
    assert one(samples, "kafka_consumergroup_lag_sum", consumergroup=GROUP, topic=lagging_topic) == \
        sum(r["lag"] for r in rows)

    if mechanism == "OAUTHBEARER":
        watch.assert_never_leaked((secrets_dir / "token").read_text().strip())
    elif mechanism is not None:
        watch.assert_never_leaked(next(iter(kafka.users.values())))
    else:
        watch.assert_never_leaked(*kafka.users.values())  # nothing secret configured; nothing may show up


@pytest.mark.parametrize(("protocol", "mechanism"), [("SASL_PLAINTEXT", "PLAIN"), ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
                                                     ("SASL_SSL", "SCRAM-SHA-512")])
def test_wrong_password_is_cluster_down_and_an_error_count_never_a_crash(
    secure_kafka: LocalKafka, lagging_topic: str, secrets_dir: Path, watch: Watch, protocol: str, mechanism: str,
) -> None:
    kafka = secure_kafka
    wrong = "not-" + next(iter(kafka.users.values()))
    collector = collector_for(cluster_config(kafka, protocol, mechanism, secrets_dir, password=wrong, timeout=3))
    try:
        started = time.monotonic()
        for cycles in (1, 2):  # and the loop keeps going: it retries next cycle, counting again
            samples = watch.cycle(collector)
            assert one(samples, "kafka_detective_cluster_up", cluster="secure") == 0
            assert one(samples, "kafka_detective_collection_errors_total", cluster="secure", phase="connect") \
                == cycles
            assert one(samples, "kafka_detective_collection_cycles_total", cluster="secure") == cycles
        elapsed = time.monotonic() - started
    finally:
        collector.close()
    assert elapsed < 20, f"two failing cycles took {elapsed:.1f}s"
    assert collector.last_error and collector.last_error.startswith("connect: ")
    assert not [k for k in samples if k.startswith("kafka_consumergroup_")], "no group data without a connection"
    watch.assert_never_leaked(wrong, next(iter(kafka.users.values())))


def test_oauthbearer_token_file_is_read_again_on_reconnect(
    secure_kafka: LocalKafka, lagging_topic: str, secrets_dir: Path, watch: Watch,
) -> None:
    kafka = secure_kafka
    user = next(iter(kafka.users))
    expired = unsecured_jws(user, lifetime_seconds=-60)
    collector = collector_for(cluster_config(kafka, "SASL_PLAINTEXT", "OAUTHBEARER", secrets_dir, token=expired,
                                             timeout=3))
    token_file = secrets_dir / "token"
    try:
        assert one(watch.cycle(collector), "kafka_detective_cluster_up", cluster="secure") == 0
        fresh = unsecured_jws(user)
        token_file.write_text(fresh + "\n")  # a sidecar rotated the token: no restart, no new config
        samples = watch.cycle(collector)
        assert one(samples, "kafka_detective_cluster_up", cluster="secure") == 1
        assert one(samples, "kafka_consumergroup_lag_sum", consumergroup=GROUP, topic=lagging_topic) == \
            sum(PRODUCED) - sum(COMMITTED)
    finally:
        collector.close()
    watch.assert_never_leaked(expired, fresh)


def test_tls_certificate_from_another_ca_is_refused(
    secure_kafka: LocalKafka, lagging_topic: str, secrets_dir: Path, tmp_path: Path, watch: Watch,
) -> None:
    other_ca = generate_tls_material(tmp_path / "other-ca")["ca"]
    collector = collector_for(cluster_config(secure_kafka, "SSL", None, secrets_dir, ca_file=str(other_ca),
                                             timeout=3))
    try:
        samples = watch.cycle(collector)
    finally:
        collector.close()
    assert one(samples, "kafka_detective_cluster_up", cluster="secure") == 0
    assert one(samples, "kafka_detective_collection_errors_total", cluster="secure", phase="connect") == 1


def test_security_settings_are_validated_and_unknown_listeners_named() -> None:
    with pytest.raises(ValueError, match="names and passwords"):
        KafkaSecurity(users={"alice": 'pa"ss'})
    with pytest.raises(ValueError, match="protocols"):
        KafkaSecurity(protocols=("PLAINTEXT",))
    with pytest.raises(ValueError, match="mechanisms"):
        KafkaSecurity(mechanisms=("GSSAPI",))
    plain = LocalKafka(brokers=1)
    with pytest.raises(KafkaSandboxError, match="no SSL listener"):
        plain.bootstrap_for_protocol("SSL")
    with pytest.raises(KafkaSandboxError, match="no TLS listener"):
        assert plain.ca_file


# --- odd passwords and named failures ------------------------------------------------------------------------

ODD_PASSWORDS = {
    "backslash": "wr\\ong-pass-81",
    "quotes": "it's \"wrong\" 82",
    "tab": "wrong\tpass-83",
    "non-ascii": "wröng-pässwort-日本-84",
    "everything": "a\\b'c\"d\te-é-85",
}


def rendered_forms(secret: str) -> set[str]:
    """How kafka-python would print `secret` when nothing hides it: as is, in a str repr (its configuration
    dump) and in a bytes repr (the SASL PLAIN authentication bytes, UTF-8), with either quoting."""
    raw = secret.encode()
    return {secret, repr(secret)[1:-1], repr(secret + "'\"")[1:-4], repr(raw)[2:-1], repr(raw + b"'\"")[2:-5]}


def named_errors(watch: Watch) -> list[str]:
    return [r.getMessage() for r in watch.caplog.records
            if r.levelno == logging.ERROR and r.name == "kafka_detective.kafka.client"]


ODD_CASES = [("PLAIN", p) for p in ODD_PASSWORDS.values()] + [("SCRAM-SHA-512", ODD_PASSWORDS["everything"])]


@pytest.mark.parametrize(("mechanism", "password"), ODD_CASES,
                         ids=[f"PLAIN-{k}" for k in ODD_PASSWORDS] + ["SCRAM-SHA-512-everything"])
def test_odd_wrong_password_is_named_at_error_and_shown_in_no_form(
    secure_kafka: LocalKafka, secrets_dir: Path, watch: Watch, mechanism: str, password: str,
) -> None:
    collector = collector_for(cluster_config(secure_kafka, "SASL_PLAINTEXT", mechanism, secrets_dir,
                                             password=password, timeout=3))
    try:
        samples = watch.cycle(collector)
    finally:
        collector.close()
    assert one(samples, "kafka_detective_cluster_up", cluster="secure") == 0
    # The password did travel: kafka-python logged the authentication request at DEBUG (masked).
    assert any("SaslAuthenticateRequest" in r.getMessage() for r in watch.caplog.records)
    errors = named_errors(watch)
    assert errors and all("authentication failed" in e and "wrong password" in e for e in errors), errors
    assert collector.last_error and "authentication failed" in collector.last_error
    watch.assert_never_leaked(password)
    for form in rendered_forms(password):
        assert form not in watch.caplog.text, f"the password in the form {form!r}"


def encrypted_client_key(directory: Path, password: str) -> tuple[Path, Path]:
    """A self-signed client certificate and its key encrypted with `password` (the brokers do not ask for
    client certificates: what matters is that the client must decrypt the key to build its TLS context)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "detective-client")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "client.crt", directory / "client.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(password.encode())))
    return cert_path, key_path


FAILURES = {
    # name: (client protocol, mechanism, listener reached, words the ERROR line must hold)
    "wrong-sasl-password": ("SASL_PLAINTEXT", "PLAIN", "SASL_PLAINTEXT", ["authentication failed", "wrong password"]),
    "wrong-key-password": ("SSL", None, "SSL", ["client certificate and key", "wrong key password"]),
    "missing-ca": ("SSL", None, "SSL", ["tls.ca_file", "cannot be read", "missing CA"]),
    "unknown-ca": ("SSL", None, "SSL", ["not trusted", "unknown CA"]),
    "ssl-to-plaintext-port": ("SSL", None, "PLAINTEXT", ["TLS handshake failed", "TLS mismatch"]),
    "plaintext-to-sasl-port": ("PLAINTEXT", None, "SASL_PLAINTEXT", ["requires SASL", "SASL_PLAINTEXT"]),
    "plaintext-to-ssl-port": ("PLAINTEXT", None, "SSL", ["TLS", "SSL"]),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_auth_and_tls_failures_are_named_at_error_with_a_hint(
    secure_kafka: LocalKafka, lagging_topic: str, secrets_dir: Path, tmp_path: Path, watch: Watch, failure: str,
) -> None:
    protocol, mechanism, listener, words = FAILURES[failure]
    kafka = secure_kafka
    cluster = cluster_config(kafka, protocol, mechanism, secrets_dir,
                             password="wrong-" + next(iter(kafka.users.values())), timeout=3)
    cluster["bootstrap_servers"] = kafka.bootstrap_for_protocol(listener).split(",")
    if failure == "wrong-key-password":
        cert, key = encrypted_client_key(tmp_path, "the-right-key-password")
        cluster["tls"].update(cert_file=str(cert), key_file=str(key),
                              key_password_file=str(write_secret(secrets_dir, "key-password", "not-the-right-one")))
    elif failure == "missing-ca":
        cluster["tls"]["ca_file"] = str(tmp_path / "no-such-ca.crt")
    elif failure == "unknown-ca":
        cluster["tls"]["ca_file"] = str(generate_tls_material(tmp_path / "other-ca")["ca"])
    collector = collector_for(cluster)
    try:
        samples = watch.cycle(collector)
    finally:
        collector.close()
    assert one(samples, "kafka_detective_cluster_up", cluster="secure") == 0
    assert one(samples, "kafka_detective_collection_errors_total", cluster="secure", phase="connect") == 1
    errors = named_errors(watch)
    assert len(errors) == 1, errors
    for word in words:
        assert word in errors[0], (word, errors[0])
    assert "hint: " in errors[0]
    assert collector.last_error and collector.last_error.startswith("connect: ")
    assert "Unable to bootstrap" not in collector.last_error
