"""Helpers of the HTTP endpoint tests (tests/unit/serving): requests with credentials, TLS clients, web configs."""

from __future__ import annotations

import base64
import http.client
import ssl
from pathlib import Path
from typing import Protocol

import yaml

PASSWORD = "s3cret-pässword"   # conftest.py's password_hash is of this


class Endpoint(Protocol):
    @property
    def port(self) -> int: ...


def auth_header(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def request(target: Endpoint | int, path: str = "/metrics", headers: dict[str, str] | None = None,
            context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    port = target if isinstance(target, int) else target.port
    if context is not None:
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=10, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()


def web_file(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "web.yml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def client_context(pki: dict[str, Path], cert: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if cert:
        context.load_cert_chain(str(pki[f"{cert}.crt"]), str(pki[f"{cert}.key"]))
    return context


def tls_config(pki: dict[str, Path], **extra: object) -> dict:
    return {"tls_server_config": {"cert_file": str(pki["server.crt"]), "key_file": str(pki["server.key"]), **extra}}


