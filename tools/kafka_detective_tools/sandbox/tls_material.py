"""Throwaway TLS material (a CA and a broker certificate) for the local Kafka's SSL and SASL_SSL listeners."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka_detective_tools.sandbox.errors import MissingToolError


def generate_tls_material(directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> dict[str, Path]:
    """A throwaway CA and a broker certificate for ``hosts`` (IP addresses become IP SANs), written as PEM.

    Returns ``ca`` (the CA certificate, what clients trust), ``broker_keystore`` (broker key + certificate chain,
    for ``ssl.keystore.type=PEM``), ``broker_cert`` and ``broker_key``. Keys are unencrypted and mode 0600.
    """
    import ipaddress

    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        raise MissingToolError("TLS listeners of the local Kafka need the `cryptography` package") from None

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    not_before, not_after = now - timedelta(hours=1), now + timedelta(days=30)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("kafka-detective sandbox CA"))
        .issuer_name(name("kafka-detective sandbox CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    cert_pem, ca_pem = cert.public_bytes(pem), ca_cert.public_bytes(pem)
    paths = {
        "ca": directory / "ca.crt",
        "broker_cert": directory / "broker.crt",
        "broker_key": directory / "broker.key",
        "broker_keystore": directory / "broker-keystore.pem",
    }
    write_private(paths["ca"], ca_pem, mode=0o644)
    write_private(paths["broker_cert"], cert_pem + ca_pem, mode=0o644)
    write_private(paths["broker_key"], key_pem)
    write_private(paths["broker_keystore"], key_pem + cert_pem + ca_pem)
    return paths


def write_private(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Write a file that is never readable by others while it is being written."""
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
