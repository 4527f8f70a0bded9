"""The web config file (exporter-toolkit format): what it accepts, what it refuses and how, and basic auth."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import bcrypt
import pytest
import yaml

from kafka_detective.serving import web_config
from kafka_detective.serving.web_config import (
    BasicAuth,
    WebConfigError,
    load_web_config,
    parse_basic_auth,
)

PASSWORD = "s3cret-pässword"


def basic(user: str, password: str | bytes) -> str:
    raw = user.encode() + b":" + (password.encode() if isinstance(password, str) else password)
    return "Basic " + base64.b64encode(raw).decode()


def write(tmp_path: Path, data: object, name: str = "web.yml") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return str(path)


def refused(tmp_path: Path, data: object) -> str:
    with pytest.raises(WebConfigError) as error:
        load_web_config(write(tmp_path, data))
    message = str(error.value)
    assert "\n" not in message
    return message


def test_full_config_is_loaded_with_paths_relative_to_the_file(tmp_path, pki, password_hash):
    for label in ("server.crt", "server.key", "ca"):
        (tmp_path / pki[label].name).write_bytes(pki[label].read_bytes())
    config = load_web_config(write(tmp_path, {
        "tls_server_config": {"cert_file": "server.crt", "key_file": "server.key", "client_ca_file": "ca.pem",
                              "client_auth_type": "RequireAndVerifyClientCert", "min_version": "TLS13",
                              "client_allowed_sans": ["prometheus.monitoring"]},
        "http_server_config": {"http2": False, "headers": {"X-Frame-Options": "deny"}},
        "basic_auth_users": {"prometheus": password_hash},
        "auth_excluded_paths": ["/healthz"],
    }))
    assert config.tls is not None
    assert config.tls.context.verify_mode == ssl.CERT_REQUIRED
    assert config.tls.context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert config.tls.client_allowed_sans == ("prometheus.monitoring",)
    assert config.headers == (("X-Frame-Options", "deny"),)
    assert config.user_count == 1
    assert config.auth_excluded_paths == frozenset({"/healthz"})


def test_an_empty_file_means_plain_http_without_auth(tmp_path):
    config = load_web_config(write(tmp_path, ""))
    assert config.tls is None and config.auth is None


def test_inline_pem_is_accepted(tmp_path, pki):
    config = load_web_config(write(tmp_path, {"tls_server_config": {
        "cert": pki["server.crt"].read_text(), "key": pki["server.key"].read_text(),
        "client_ca": pki["ca"].read_text(), "client_auth_type": "VerifyClientCertIfGiven"}}))
    assert config.tls is not None and config.tls.context.verify_mode == ssl.CERT_OPTIONAL


@pytest.mark.parametrize(("data", "expected"), [
    ({"tls_config": {}}, "tls_config: unknown field"),
    ({"tls_server_config": {"certfile": "x"}}, "tls_server_config.certfile: unknown field"),
    ({"http_server_config": {"headers": {"X-Powered-By": "me"}}}, "http_server_config.headers.X-Powered-By: unknown"),
    ({"http_server_config": {"headers": {"X-Frame-Options": "allow"}}}, "X-Frame-Options: must be one of deny"),
    ({"rate_limit": {"interval": "1s", "burst": 5}}, "rate_limit: is not supported"),
    ({"basic_auth_users": {"alice": "plain-text-password"}}, "basic_auth_users.alice: is not a bcrypt hash"),
    ({"basic_auth_users": {"a:b": "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG"}},
     "basic_auth_users.a:b: a user name must be"),
    ({"basic_auth_users": ["alice"]}, "basic_auth_users: must be a mapping"),
    ({"auth_excluded_paths": ["healthz"]}, "auth_excluded_paths[0]: must be a path"),
    ({"tls_server_config": {"key_file": "k"}}, "tls_server_config.cert_file: is required"),
    ({"tls_server_config": {"cert_file": "c"}}, "tls_server_config.key_file: is required"),
    ({"tls_server_config": {"cert_file": "missing.crt", "key_file": "k"}},
     "tls_server_config.cert_file: cannot read"),
    ([1, 2], "(top level): must be a mapping"),
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: [\n", "invalid YAML"),
    ("? [a, b]\n: 1\n", "line 1: invalid YAML: found unhashable key"),
    ("[" * 300, "line 1: invalid YAML: nested deeper than"),
])
def test_bad_files_are_refused_naming_the_key(tmp_path, data, expected):
    assert expected in refused(tmp_path, data)


def test_a_plain_password_in_place_of_a_hash_is_never_echoed(tmp_path):
    assert "hunter2" not in refused(tmp_path, {"basic_auth_users": {"alice": "hunter2"}})


@pytest.mark.parametrize(("tls", "expected"), [
    ({"client_auth_type": "RequireAnyClientCert"}, "client_auth_type: RequireAnyClientCert is not supported"),
    ({"client_auth_type": "Sometimes"}, "client_auth_type: must be one of"),
    ({"client_auth_type": "RequireAndVerifyClientCert"}, "client_ca_file: is required"),
    ({"client_ca_file": "CA"}, "client_auth_type: client_ca_file is set but client_auth_type is NoClientCert"),
    ({"min_version": "TLS9"}, "min_version: must be one of TLS10"),
    ({"min_version": "TLS13", "max_version": "TLS12"}, "min_version: is above max_version"),
    ({"cipher_suites": ["TLS_AES_128_GCM_SHA256"]}, "cipher_suites: is not supported"),
    ({"client_allowed_sans": ["x"]}, "client_allowed_sans: needs client_auth_type RequireAndVerifyClientCert"),
    ({"cert": "PEM"}, "tls_server_config.cert_file: set only one of cert and cert_file"),
])
def test_tls_settings_that_cannot_be_honoured_are_refused(tmp_path, pki, tls, expected):
    base = {"cert_file": str(pki["server.crt"]), "key_file": str(pki["server.key"])}
    tls = {k: (str(pki["ca"]) if v == "CA" else v) for k, v in tls.items()}
    assert expected in refused(tmp_path, {"tls_server_config": {**base, **tls}})


def test_a_key_that_does_not_match_the_certificate_is_refused(tmp_path, pki):
    message = refused(tmp_path, {"tls_server_config": {"cert_file": str(pki["server.crt"]),
                                                       "key_file": str(pki["client.key"])}})
    assert "tls_server_config.cert_file: cannot load the certificate and key" in message


def test_non_utf8_file_is_one_line(tmp_path):
    path = tmp_path / "web.yml"
    path.write_bytes(b"basic_auth_users:\n  \xff\xfe: x\n")
    with pytest.raises(WebConfigError, match="is not UTF-8 text"):
        load_web_config(str(path))


# --- basic auth ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("", None),
    ("Bearer abc", None),
    ("Basic !!!", None),
    ("Basic " + base64.b64encode(b"no-colon").decode(), None),
    ("Basic " + base64.b64encode(b"\xff:x").decode(), None),
    ("basic " + base64.b64encode(b"u:p:q").decode(), ("u", b"p:q")),
])
def test_parse_basic_auth(header, expected):
    assert parse_basic_auth(header) == expected


def test_good_bad_and_unknown_credentials(password_hash):
    auth = BasicAuth({"prometheus": password_hash.encode()})
    assert auth.check(basic("prometheus", PASSWORD)) == "prometheus"
    assert auth.check(basic("prometheus", "wrong")) is None
    assert auth.check(basic("nobody", PASSWORD)) is None
    assert auth.check(None) is None


def test_checks_are_cached_so_a_scrape_costs_one_bcrypt_only_once(password_hash, monkeypatch):
    calls = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(password)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    auth = BasicAuth({"prometheus": password_hash.encode()})
    for _ in range(5):
        assert auth.check(basic("prometheus", PASSWORD)) == "prometheus"
        assert auth.check(basic("prometheus", "wrong")) is None
    assert len(calls) == 2


def test_a_flood_of_wrong_passwords_does_not_evict_the_good_one(password_hash, monkeypatch):
    auth = BasicAuth({"prometheus": password_hash.encode()})
    assert auth.check(basic("prometheus", PASSWORD))
    monkeypatch.setattr(web_config, "_CACHE_SIZE", 4)
    for attempt in range(10):
        auth.check(basic("prometheus", f"guess-{attempt}"))
    monkeypatch.setattr(bcrypt, "checkpw", lambda *_: pytest.fail("the good password was evicted"))
    assert auth.check(basic("prometheus", PASSWORD)) == "prometheus"


def test_passwords_longer_than_bcrypt_takes_match_like_htpasswd_made_them():
    long_password = "x" * 100
    hashed = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4))
    auth = BasicAuth({"u": hashed})
    assert auth.check(basic("u", long_password)) == "u"
