"""Fixtures of the HTTP endpoint tests: a throwaway PKI (CA, server and client certificates) and bcrypt hashes."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import pytest

PASSWORD = "s3cret-pässword"


def _pki(directory: Path) -> dict[str, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def ca(label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(label)).issuer_name(name(label))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .sign(key, hashes.SHA256()))
        return key, cert

    def leaf(issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], sans: list[x509.GeneralName],
             usage: x509.ObjectIdentifier) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name("leaf")).issuer_name(issuer[1].subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                .sign(issuer[0], hashes.SHA256()))
        pem = serialization.Encoding.PEM
        return (cert.public_bytes(pem),
                key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    root, other_root = ca("test CA"), ca("another CA")
    server = leaf(root, [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                         x509.IPAddress(ipaddress.ip_address("::1"))], ExtendedKeyUsageOID.SERVER_AUTH)
    client = leaf(root, [x509.DNSName("prometheus.monitoring")], ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger = leaf(other_root, [x509.DNSName("prometheus.monitoring")], ExtendedKeyUsageOID.CLIENT_AUTH)
    other = leaf(root, [x509.DNSName("someone-else")], ExtendedKeyUsageOID.CLIENT_AUTH)
    files = {
        "ca": root[1].public_bytes(serialization.Encoding.PEM),
        "server.crt": server[0], "server.key": server[1],
        "client.crt": client[0], "client.key": client[1],
        "stranger.crt": stranger[0], "stranger.key": stranger[1],
        "other.crt": other[0], "other.key": other[1],
    }
    paths = {}
    for label, data in files.items():
        path = directory / (label if "." in label else f"{label}.pem")
        path.write_bytes(data)
        paths[label] = path
    return paths


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Cost 4, the minimum: the tests check behaviour, not bcrypt's slowness.
    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
