"""`serve --check-config` checks what can be checked offline, and says valid only when serve would start.

Secret files and variables, TLS material (loaded with the same OpenSSL calls the Kafka client makes) and the
listen address; each failure is one line naming the field, exit 2.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

Check = Callable[[str], tuple[int, list[str], str]]


def cluster(protocol: str = "PLAINTEXT", extra: str = "", listen: str = "127.0.0.1") -> str:
    return (f"listen_address: \"{listen}\"\nclusters:\n  - name: prod\n    bootstrap_servers: [\"127.0.0.1:9092\"]\n"
            f"    security_protocol: {protocol}\n{extra}")


def assert_valid(result: tuple[int, list[str], str]) -> None:
    assert result[:2] == (0, []), result
    assert "configuration is valid" in result[2]


def assert_error(result: tuple[int, list[str], str], expected: str) -> None:
    code, lines, out = result
    assert code == 2 and "valid" not in out, result
    assert lines == [f"kafka-detective serve: config: {expected}"]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text("s3cret\n")
    return path


def sasl(source: str) -> str:
    return f"    sasl: {{mechanism: SCRAM-SHA-512, username: u, {source}}}\n"


def test_sasl_password_file_must_exist(check: Check, tmp_path: Path, secret: Path) -> None:
    assert_valid(check(cluster("SASL_PLAINTEXT", sasl(f"password_file: {secret}"))))
    missing = tmp_path / "nope"
    assert_error(check(cluster("SASL_PLAINTEXT", sasl(f"password_file: {missing}"))),
                 f"clusters[0].sasl.password_file: cannot read secret file {missing}: No such file or directory")
    secret.write_text("\n")
    assert_error(check(cluster("SASL_PLAINTEXT", sasl(f"password_file: {secret}"))),
                 f"clusters[0].sasl.password_file: secret file {secret} is empty")


def test_a_secret_file_that_is_not_utf8_is_named_without_its_bytes(check: Check, secret: Path) -> None:
    secret.write_bytes(b"caf\xe9\n")
    assert_error(check(cluster("SASL_PLAINTEXT", sasl(f"password_file: {secret}"))),
                 f"clusters[0].sasl.password_file: secret file {secret} is not UTF-8 text")


def test_sasl_password_variable_must_be_set(check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KD_TEST_PASSWORD", raising=False)
    assert_error(check(cluster("SASL_PLAINTEXT", sasl("password_env: KD_TEST_PASSWORD"))),
                 "clusters[0].sasl.password_env: environment variable KD_TEST_PASSWORD is not set")
    monkeypatch.setenv("KD_TEST_PASSWORD", "pw")
    assert_valid(check(cluster("SASL_PLAINTEXT", sasl("password_env: KD_TEST_PASSWORD"))))


def test_oauth_token_file_must_exist(check: Check, tmp_path: Path) -> None:
    extra = f"    sasl: {{mechanism: OAUTHBEARER, token_file: {tmp_path / 'token'}}}\n"
    assert_error(check(cluster("SASL_PLAINTEXT", extra)),
                 f"clusters[0].sasl.token_file: cannot read secret file {tmp_path / 'token'}: No such file or "
                 "directory")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real CA, certificate and key (the sandbox's), plus the key encrypted with the password `right`."""
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization

    from kafka_detective_tools.sandbox.tls_material import generate_tls_material

    directory = tmp_path_factory.mktemp("tls")
    paths = generate_tls_material(directory)
    key = serialization.load_pem_private_key(paths["broker_key"].read_bytes(), None)
    encrypted = directory / "encrypted.key"
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"right")))
    (directory / "right").write_text("right\n")
    (directory / "wrong").write_text("wrong\n")
    other = generate_tls_material(directory / "other")
    return {**paths, "encrypted_key": encrypted, "right": directory / "right", "wrong": directory / "wrong",
            "other_key": other["broker_key"]}


def tls(**fields: Path) -> str:
    return "    tls:\n" + "".join(f"      {name}: {path}\n" for name, path in fields.items())


def test_ca_file_must_exist_and_hold_a_certificate(check: Check, tmp_path: Path, tls_files: dict[str, Path]) -> None:
    assert_valid(check(cluster("SSL", tls(ca_file=tls_files["ca"]))))
    missing = tmp_path / "ca.crt"
    assert_error(check(cluster("SSL", tls(ca_file=missing))),
                 f"clusters[0].tls.ca_file: cannot read {missing}: No such file or directory")
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate\n")
    assert_error(check(cluster("SSL", tls(ca_file=garbage))),
                 f"clusters[0].tls.ca_file: {garbage} holds no usable PEM certificate (no certificate or crl found)")


def test_client_key_and_its_password_are_loaded(check: Check, tls_files: dict[str, Path]) -> None:
    cert = tls_files["broker_cert"]
    assert_valid(check(cluster("SSL", tls(ca_file=tls_files["ca"], cert_file=cert, key_file=tls_files["broker_key"]))))
    encrypted = tls_files["encrypted_key"]
    assert_valid(check(cluster("SSL", tls(cert_file=cert, key_file=encrypted, key_password_file=tls_files["right"]))))
    result = check(cluster("SSL", tls(cert_file=cert, key_file=encrypted, key_password_file=tls_files["wrong"])))
    assert_error(result, f"clusters[0].tls.key_file: cannot load {encrypted} with {cert}: wrong key_password, or not "
                 "a PEM key and certificate")
    # no password configured for an encrypted key: an error, not OpenSSL prompting on the terminal
    result = check(cluster("SSL", tls(cert_file=cert, key_file=encrypted)))
    assert_error(result, f"clusters[0].tls.key_file: cannot load {encrypted} with {cert}: the key is encrypted (set "
                 "key_password_file or key_password_env), or not a PEM key and certificate")
    other = tls_files["other_key"]
    assert_error(check(cluster("SSL", tls(cert_file=cert, key_file=other))),
                 f"clusters[0].tls.key_file: {other} is not the key of {cert}")


@pytest.mark.parametrize("address", ["not-an-address.invalid", "999.1.1.1", "1.2.3", "::12345", "[::1"])
def test_listen_address_must_parse_or_resolve(check: Check, address: str) -> None:
    code, lines, out = check(cluster(listen=address))
    assert code == 2 and len(lines) == 1 and "valid" not in out, (code, lines)
    assert lines[0].startswith(f"kafka-detective serve: config: listen_address: {address!r} is not an IP address")


def _ipv6_literals_parse() -> bool:
    try:
        socket.getaddrinfo("::", 0, flags=socket.AI_NUMERICHOST)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("address", ["0.0.0.0", "127.0.0.1", "localhost", "", "::", "::1", "[::]"])
def test_wildcards_literals_and_resolvable_names_are_accepted(check: Check, address: str) -> None:
    if ":" in address and not _ipv6_literals_parse():
        pytest.skip("this host's resolver does not parse IPv6 literals")
    assert_valid(check(cluster(listen=address)))
