"""Secrets reach kafka-python's settings and nothing else: not logs, not /metrics, not reprs."""

import base64
import json
import logging
import socket
import ssl

import kafka.errors as Errors
import pytest

from kafka_detective.config import ClusterConfig, parse_config
from kafka_detective.kafka.client import (
    ClusterConnectError,
    ConnectionFailure,
    RequestCounter,
    admin_client_settings,
    connect,
    describe_connect_failure,
)
from kafka_detective.kafka.redaction import redact_url, register_secret
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective.prometheus_api import Prometheus

SECRET = "pa55-Sentinel-7731"


def sasl_config(tmp_path, mechanism="SCRAM-SHA-512"):
    secret = tmp_path / "password"
    secret.write_text(SECRET + "\n")
    return parse_config({"clusters": [{
        "name": "secure", "bootstrap_servers": ["127.0.0.1:9"], "request_timeout_seconds": 1,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl": {"mechanism": mechanism, "username": "detective", "password_file": str(secret)},
    }]})


def test_password_file_reaches_the_client_settings(tmp_path):
    settings = admin_client_settings(sasl_config(tmp_path).clusters[0])
    assert settings["sasl_mechanism"] == "SCRAM-SHA-512"
    assert settings["sasl_plain_username"] == "detective"
    assert settings["sasl_plain_password"] == SECRET


def test_password_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KD_TEST_PASSWORD", SECRET)
    config = parse_config({"clusters": [{
        "name": "secure", "bootstrap_servers": ["k:9093"], "security_protocol": "SASL_SSL",
        "sasl": {"mechanism": "PLAIN", "username": "u", "password_env": "KD_TEST_PASSWORD"},
        "tls": {"ca_file": "/etc/ca.crt"},
    }]})
    settings = admin_client_settings(config.clusters[0])
    assert settings["sasl_plain_password"] == SECRET
    assert settings["ssl_cafile"] == "/etc/ca.crt"
    assert SECRET not in repr(config)


def test_failed_connection_logs_and_metrics_never_show_the_password(tmp_path, caplog):
    config = sasl_config(tmp_path)
    exposition = Exposition()
    collector = ClusterCollector(config.clusters[0], exposition, analysis=config.analysis)
    with caplog.at_level(logging.DEBUG):
        collector.run_cycle()
    assert collector.last_error is not None  # the cycle did fail and was logged
    assert SECRET not in caplog.text
    assert SECRET.encode() not in exposition.static_body()
    assert SECRET not in repr(config.clusters[0])


# --- the redactor: every form a log line may carry a secret in ------------------------------------------------

PASSWORD_SHAPES = {
    "backslash": "pa\\ss\\word-71",
    "single-quote": "it's-a-secret-72",
    "double-quote": 'say "secret" 73',
    "both-quotes": "mix'n\"match-74",
    "tab": "tab\tseparated-75",
    "non-ascii": "pässwörd-日本-76",
    "newline-and-nul": "line\nbreak\x00-77",
    "everything": "a\\b'c\"d\te-é-78",
}


def base64_windows(blob: bytes, start: int, end: int) -> set[str]:
    """8-character windows of base64(blob) made only of bits of blob[start:end]: each would leak the secret."""
    encoded = base64.b64encode(blob).decode()
    out = set()
    for j in range(len(encoded) - 7):
        first_byte, last_byte = 6 * j // 8, (6 * (j + 8) - 1) // 8
        if start <= first_byte and last_byte < end:
            out.add(encoded[j:j + 8])
    return out


def leaked_forms(text: str, secret: str) -> list[str]:
    """The renderings of `secret` found in `text`, computed here independently of the redactor."""
    raw = secret.encode()
    forms = {secret, repr(secret)[1:-1], ascii(secret)[1:-1], json.dumps(secret)[1:-1],
             repr(raw)[2:-1], repr(raw + b"'\"")[2:-5], raw.hex()}
    return sorted(form for form in forms if form in text)


@pytest.fixture
def kafka_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="kafka")
    return caplog


@pytest.mark.parametrize("secret", PASSWORD_SHAPES.values(), ids=PASSWORD_SHAPES.keys())
def test_every_rendering_of_a_registered_secret_is_redacted(secret: str, kafka_debug) -> None:
    register_secret(secret)
    raw = secret.encode()
    frame = b"\x00\x00\x00\x2a\x00\x24\x00\x02detective\x00detective\x00" + raw + b"\x01'\""
    parser = logging.getLogger("kafka.protocol.parser")
    parser.debug("node=1 Send: %r", frame)                                     # raw request bytes
    parser.debug("config: %s", {"sasl_plain_password_copy": secret})           # dict repr (str escaped)
    parser.debug("json: %s", json.dumps({"p": secret}))                        # JSON, \u escapes
    parser.debug("json: %s", json.dumps({"p": secret}, ensure_ascii=False))
    parser.debug("ascii: %s", ascii(secret))
    parser.debug("hex: %s", raw.hex())
    logging.getLogger("kafka_detective.anything").warning("plain %s in our own logger", secret)
    for prefix in (b"", b"x", b"xy"):                                          # base64 at every alignment
        blob = prefix + raw + b"tail"
        logging.getLogger("kafka.net").debug("token %s", base64.b64encode(blob).decode())
        windows = base64_windows(blob, len(prefix), len(prefix) + len(raw))
        assert windows, "the secret is long enough for the check to mean something"
        assert not [w for w in windows if w in kafka_debug.text], f"base64 of the secret at offset {len(prefix)}"
    try:
        raise ValueError(f"bad value {secret!r}")
    except ValueError:
        logging.getLogger("kafka.conn").exception("failed")                    # traceback text
    assert len(kafka_debug.records) >= 10
    for record in kafka_debug.records:
        assert not leaked_forms(record.getMessage(), secret), record.getMessage()
    assert not leaked_forms(kafka_debug.text, secret)
    assert "<redacted>" in kafka_debug.text


def test_unregistered_secrets_in_the_client_config_dump_and_sasl_requests_are_masked(kafka_debug) -> None:
    from kafka.protocol.sasl import SaslAuthenticateRequest

    unregistered = "never-registered-Secret-81"
    logging.getLogger("kafka.admin.client").debug("Starting KafkaAdminClient with configuration: %s",
                                                  {"bootstrap_servers": ["k:9092"],
                                                   "sasl_plain_password": unregistered,
                                                   "ssl_password": unregistered, "sasl_plain_username": "bob"})
    request = SaslAuthenticateRequest(auth_bytes=b"bob\x00bob\x00" + unregistered.encode())
    logging.getLogger("kafka.net.connection").debug("%s Request %d: %s", "<conn>", 3, request)
    assert unregistered not in kafka_debug.text
    assert "'sasl_plain_username': 'bob'" in kafka_debug.text  # the rest of the dump stays useful
    assert "SaslAuthenticateRequest(auth_bytes=<redacted>)" in kafka_debug.text


@pytest.mark.parametrize("secret", PASSWORD_SHAPES.values(), ids=PASSWORD_SHAPES.keys())
def test_real_client_logs_at_debug_never_show_an_odd_password(tmp_path, kafka_debug, secret: str) -> None:
    # A password file keeps everything but the final newline: what the user wrote is the password.
    password = tmp_path / "password"
    password.write_text(secret + "\n", encoding="utf-8")
    config = parse_config({"clusters": [{
        "name": "secure", "bootstrap_servers": ["127.0.0.1:9"], "request_timeout_seconds": 0.3,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl": {"mechanism": "PLAIN", "username": "detective", "password_file": str(password)},
    }], "analysis": {"enabled": False}})
    collector = ClusterCollector(config.clusters[0], Exposition(), analysis=config.analysis)
    try:
        collector.run_cycle()
    finally:
        collector.close()
    assert any(r.name == "kafka.admin.client" for r in kafka_debug.records), "the config dump was not captured"
    assert not leaked_forms(kafka_debug.text, secret)
    assert "'sasl_plain_password': '<redacted>'" in kafka_debug.text


# --- URLs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "shown"), [
    ("http://admin:S3CRET@prom:9090", "http://admin:<redacted>@prom:9090"),
    ("https://admin:S3CRET@[::1]:9090/prefix/", "https://admin:<redacted>@[::1]:9090/prefix/"),
    ("http://only-a-token@prom:9090", "http://<redacted>@prom:9090"),
    ("http://prom:9090/?token=S3CRET&x=1", "http://prom:9090/?token=<redacted>&x=1"),
    ("http://a:b:S3CRET@prom", "http://a:<redacted>@prom"),
    ("http://prom:9090", "http://prom:9090"),
    ("not a url", "not a url"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_investigate_error_never_prints_prometheus_credentials(capsys) -> None:
    from kafka_detective import cli

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    code = cli.main(["investigate", "--prometheus", f"http://admin:S3CRET-91@127.0.0.1:{port}",
                     "--group", "g", "--topic", "t"])
    out = capsys.readouterr()
    assert code != 0
    assert "S3CRET-91" not in out.out + out.err
    assert f"http://admin:<redacted>@127.0.0.1:{port}" in out.err


def test_prometheus_client_repr_hides_credentials() -> None:
    prom = Prometheus("http://admin:S3CRET-92@prom:9090", headers={"Authorization": "Bearer S3CRET-93"})
    assert "S3CRET" not in repr(prom)


# --- naming a failed connect ----------------------------------------------------------------------------------


def cluster_of(protocol: str, mechanism: str | None = None, **extra) -> ClusterConfig:
    cluster: dict = {"name": "c", "bootstrap_servers": ["k1:9092"], "security_protocol": protocol, **extra}
    if mechanism == "OAUTHBEARER":
        cluster["sasl"] = {"mechanism": mechanism, "token_env": "UNUSED"}
    elif mechanism:
        cluster["sasl"] = {"mechanism": mechanism, "username": "detective", "password_env": "UNUSED"}
    return parse_config({"clusters": [cluster]}).clusters[0]


TIMEOUT = Errors.KafkaTimeoutError("Unable to bootstrap from ['k1:9092']")
DISCONNECTED = Errors.KafkaConnectionError("socket disconnected")


@pytest.mark.parametrize(("cluster", "failures", "kind", "words"), [
    (cluster_of("SASL_SSL", "SCRAM-SHA-512"),
     [ConnectionFailure(DISCONNECTED, "SaslAuthenticateRequest", False),
      ConnectionFailure(Errors.SaslAuthenticationFailedError(
          "SaslAuthenticationFailedError: Authentication failed during authentication due to invalid credentials"),
          "SaslAuthenticateRequest", False)],
     "authentication", ["user 'detective'", "invalid credentials", "wrong password", "SCRAM-SHA-512 credentials"]),
    (cluster_of("SASL_PLAINTEXT", "PLAIN"), [ConnectionFailure(DISCONNECTED, "SaslAuthenticateRequest", False)],
     "authentication", ["authentication failed", "user 'detective'", "closed the connection", "wrong password"]),
    (cluster_of("SASL_PLAINTEXT", "OAUTHBEARER"),
     [ConnectionFailure(Errors.SaslAuthenticationFailedError("x: invalid_token"), "SaslAuthenticateRequest", False)],
     "authentication", ["token", "invalid_token"]),
    (cluster_of("SSL"),
     [ConnectionFailure(Errors.KafkaConnectionError("Handshake failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                                                    "verify failed: self-signed certificate in certificate chain "
                                                    "(_ssl.c:1006)"), None, False)],
     "tls_unknown_ca", ["unknown CA", "self-signed certificate in certificate chain"]),
    (cluster_of("SSL"),
     [ConnectionFailure(Errors.KafkaConnectionError("Handshake failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                                                    "verify failed: IP address mismatch, certificate is not valid "
                                                    "for '10.0.0.1'. (_ssl.c:1006)"), None, False)],
     "tls_hostname", ["does not match", "check_hostname"]),
    (cluster_of("SSL"),
     [ConnectionFailure(Errors.KafkaConnectionError("Handshake failed: [SSL: UNEXPECTED_EOF_WHILE_READING] EOF "
                                                    "occurred in violation of protocol"), None, False)],
     "tls_mismatch", ["TLS mismatch", "does not speak TLS"]),
    (cluster_of("SSL"), [ConnectionFailure(ssl.SSLError(9, "[SSL] PEM lib (_ssl.c:3917)"), None, False)],
     "tls_client_key", ["wrong key password"]),
    (cluster_of("PLAINTEXT"),
     [ConnectionFailure(Errors.InvalidReceiveError("Invalid frame length: 352518912"), "ApiVersionsRequest", False)],
     "tls_mismatch", ["plaintext to a TLS port", "SSL"]),
    (cluster_of("SASL_PLAINTEXT", "PLAIN"),
     [ConnectionFailure(Errors.InvalidReceiveError("Invalid frame length: 352518912"), "ApiVersionsRequest", False)],
     "tls_mismatch", ["SASL_SSL"]),
    (cluster_of("PLAINTEXT"), [ConnectionFailure(DISCONNECTED, "MetadataRequest", True)],
     "sasl_required", ["requires SASL", "SASL_PLAINTEXT"]),
    (cluster_of("SASL_PLAINTEXT", "SCRAM-SHA-256"), [ConnectionFailure(DISCONNECTED, "SaslHandshakeRequest", False)],
     "sasl_mechanism", ["SCRAM-SHA-256", "does not enable"]),
])
def test_connect_failures_are_named_with_a_hint(cluster, failures, kind, words) -> None:
    failure = describe_connect_failure(cluster, TIMEOUT, failures)
    assert failure.kind == kind, str(failure)
    assert failure.needs_attention
    assert "Unable to bootstrap" not in str(failure)
    for word in words:
        assert word in str(failure), (word, str(failure))


def test_down_or_hung_clusters_are_not_configuration_errors() -> None:
    refused = describe_connect_failure(cluster_of("PLAINTEXT"), TIMEOUT, [
        ConnectionFailure(Errors.KafkaConnectionError("111 ECONNREFUSED"), None, False)])
    assert (refused.kind, refused.needs_attention) == ("unreachable", False)
    assert "connection refused" in str(refused)
    hung = describe_connect_failure(cluster_of("PLAINTEXT"), TIMEOUT, [
        ConnectionFailure(Errors.KafkaTimeoutError("Request timed out after 200 ms"), "ApiVersionsRequest", False)])
    assert (hung.kind, hung.needs_attention) == ("no_answer", False)


def test_missing_ca_and_encrypted_key_without_password_are_named_before_connecting(tmp_path) -> None:
    missing = cluster_of("SSL", tls={"ca_file": str(tmp_path / "nope.crt")})
    with pytest.raises(ClusterConnectError, match=r"tls.ca_file .*nope.crt cannot be read.*missing CA") as raised:
        connect(missing, RequestCounter())
    assert raised.value.needs_attention
    key = tmp_path / "client.key"
    key.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
    cert = tmp_path / "client.crt"
    cert.write_text("unused")
    encrypted = cluster_of("SSL", tls={"cert_file": str(cert), "key_file": str(key)})
    with pytest.raises(ClusterConnectError, match="encrypted and no key password"):
        connect(encrypted, RequestCounter())


def test_configuration_mistakes_are_logged_at_error(tmp_path, caplog) -> None:
    missing = cluster_of("SSL", tls={"ca_file": str(tmp_path / "nope.crt")})
    collector = ClusterCollector(missing, Exposition())
    with caplog.at_level(logging.WARNING):
        collector.run_cycle()
    collector.close()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "tls.ca_file" in r.getMessage()]
    assert errors, caplog.text
    assert "hint:" in errors[0].getMessage()
