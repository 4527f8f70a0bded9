"""The web configuration file (`--web.config.file`): TLS and basic auth of the HTTP endpoint.

The format is the Prometheus exporter-toolkit's (github.com/prometheus/exporter-toolkit, docs/web-configuration.md),
so the file an operator already writes for node_exporter works here too. The subset Python's `ssl` can honour is
supported; every other key is refused by name rather than ignored, because a silently ignored security setting
is worse than a start-up error. The file is read once at start-up (no reload).

Basic auth checks are cached like the toolkit does: bcrypt is slow by design (~70 ms at cost 10), and Prometheus
sends the same credentials every scrape, so only the first scrape pays for the hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
import re
import ssl
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka_detective import yamlio
from kafka_detective.errors import UserError

TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
CLIENT_AUTH_TYPES = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# Go can ask for a certificate and not verify it; OpenSSL through Python's ssl cannot, so these are refused.
_UNVERIFIED_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert", "RequireClientCert")
# The headers (and allowed values) the exporter-toolkit lets a web config add to every response.
EXTRA_HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
_TLS_KEYS = ("cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type", "client_ca_file",
             "client_allowed_sans", "min_version", "max_version", "cipher_suites", "prefer_server_cipher_suites",
             "curve_preferences")
_TOP_KEYS = ("tls_server_config", "http_server_config", "basic_auth_users", "auth_excluded_paths", "rate_limit")
_BCRYPT_HASH = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
_BCRYPT_MAX_PASSWORD = 72
_CACHE_SIZE = 256


class WebConfigError(UserError):
    def __init__(self, path: str, key: str, message: str) -> None:
        super().__init__(f"web config {path}: {key}: {message}")
        self.key = key


@dataclass(frozen=True)
class TlsServer:
    context: ssl.SSLContext
    client_allowed_sans: tuple[str, ...] = ()

    def peer_allowed(self, peer_cert: Mapping[str, Any] | None) -> bool:
        """Whether the verified client certificate carries one of client_allowed_sans (always, if none set)."""
        if not self.client_allowed_sans:
            return True
        values = {_normal_san(str(value)) for _kind, value in (peer_cert or {}).get("subjectAltName", ())}
        return any(_normal_san(allowed) in values for allowed in self.client_allowed_sans)


def _normal_san(value: str) -> str:
    # Python prints IPv6 SANs in full upper-case form; compare addresses, not spellings.
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


class BasicAuth:
    """Checks `Authorization: Basic` headers against bcrypt hashes, caching outcomes by a digest of the triple."""

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = dict(users)
        cost = min(int(h[4:6]) for h in self._users.values())
        # Unknown users are checked against a hash of the same cost, so timing does not reveal which names exist.
        self._decoy: bytes = _bcrypt().hashpw(b"decoy", _bcrypt().gensalt(rounds=cost))
        self._bcrypt_lock = threading.Lock()  # one bcrypt at a time: a password flood costs one core, not all
        self._cache_lock = threading.Lock()
        # Two caches so that a flood of wrong passwords cannot evict the scraper's good one.
        self._good: OrderedDict[bytes, None] = OrderedDict()
        self._bad: OrderedDict[bytes, None] = OrderedDict()

    @property
    def user_count(self) -> int:
        return len(self._users)

    def check(self, header: str | None) -> str | None:
        """The user name if the header carries valid credentials, else None."""
        credentials = parse_basic_auth(header)
        if credentials is None:
            return None
        user, password = credentials
        hashed = self._users.get(user)
        known = hashed is not None
        hashed = hashed if hashed is not None else self._decoy
        key = hashlib.sha256(b":".join(binascii.hexlify(p) for p in (user.encode(), hashed, password))).digest()
        cached = self._cached(key)
        if cached is None:
            with self._bcrypt_lock:
                cached = self._cached(key)  # parallel first scrapes: only one of them hashes
                if cached is None:
                    cached = known and _bcrypt().checkpw(password[:_BCRYPT_MAX_PASSWORD], hashed)
                    self._remember(key, cached)
        return user if cached and known else None

    def _cached(self, key: bytes) -> bool | None:
        with self._cache_lock:
            if key in self._good:
                return True
            if key in self._bad:
                return False
        return None

    def _remember(self, key: bytes, ok: bool) -> None:
        with self._cache_lock:
            cache = self._good if ok else self._bad
            cache[key] = None
            while len(cache) > _CACHE_SIZE:
                cache.popitem(last=False)


def parse_basic_auth(header: str | None) -> tuple[str, bytes] | None:
    """(user, password bytes) from an `Authorization: Basic ...` header; None when absent or malformed."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


def _bcrypt() -> Any:
    import bcrypt  # imported on use: only deployments with basic_auth_users need it

    return bcrypt


@dataclass(frozen=True)
class WebConfig:
    path: str
    tls: TlsServer | None = None
    auth: BasicAuth | None = None
    headers: tuple[tuple[str, str], ...] = ()
    auth_excluded_paths: frozenset[str] = field(default_factory=frozenset)

    @property
    def user_count(self) -> int:
        return self.auth.user_count if self.auth else 0


class _Section:
    def __init__(self, path: str, data: Any, prefix: str, allowed: tuple[str, ...]) -> None:
        self.path, self.prefix = path, prefix
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise WebConfigError(path, prefix or "(top level)", f"must be a mapping, got {type(data).__name__}")
        for key in data:
            if key not in allowed:
                raise WebConfigError(path, self.name(str(key)), "unknown field (supported: " + ", ".join(allowed) + ")")
        self.data = data

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, message: str) -> WebConfigError:
        return WebConfigError(self.path, self.name(key), message)

    def string(self, key: str) -> str:
        value = self.data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, "must be a list of strings")
        return tuple(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value


def load_web_config(path: str) -> WebConfig:
    """Read and validate a web config file; every problem is one WebConfigError naming the key."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise WebConfigError(path, "--web.config.file", f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise WebConfigError(path, "--web.config.file", "is not UTF-8 text") from None
    try:
        # The package's strict reader: duplicate keys are refused, as the toolkit's strict YAML decoding does.
        data = yamlio.loads(text, path)
    except yamlio.YamlError as error:
        raise WebConfigError(path, f"line {error.line}" if error.line else "(file)", error.problem) from None
    return parse_web_config(data, path)


def parse_web_config(data: Any, path: str = "(web config)") -> WebConfig:
    top = _Section(path, data, "", _TOP_KEYS)
    if top.data.get("rate_limit") is not None:
        raise top.error("rate_limit", "is not supported by kafka-detective; remove it (rate-limit at a proxy)")
    base = Path(path).parent
    tls = _tls(_Section(path, top.data.get("tls_server_config"), "tls_server_config", _TLS_KEYS), base)
    http = _Section(path, top.data.get("http_server_config"), "http_server_config", ("http2", "headers"))
    # http2 is accepted for compatibility; the endpoint speaks HTTP/1.1, which every Prometheus negotiates.
    http.boolean("http2", True)
    headers = _headers(_Section(path, http.data.get("headers"), "http_server_config.headers", tuple(EXTRA_HEADERS)))
    users = _users(top)
    excluded = top.strings("auth_excluded_paths")
    for index, excluded_path in enumerate(excluded):
        if not excluded_path.startswith("/"):
            raise top.error(f"auth_excluded_paths[{index}]", f"must be a path starting with '/', got {excluded_path!r}")
    return WebConfig(path=path, tls=tls, auth=BasicAuth(users) if users else None, headers=headers,
                     auth_excluded_paths=frozenset(excluded))


def _headers(section: _Section) -> tuple[tuple[str, str], ...]:
    out = []
    for name in section.data:
        value = section.string(name)
        allowed = EXTRA_HEADERS[name]
        if allowed and value not in allowed:
            raise section.error(name, f"must be one of {', '.join(allowed)}, got {value!r}")
        if value:
            out.append((name, value))
    return tuple(out)


def _users(top: _Section) -> dict[str, bytes]:
    raw = top.data.get("basic_auth_users")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise top.error("basic_auth_users", f"must be a mapping of user name to bcrypt hash, got {type(raw).__name__}")
    users: dict[str, bytes] = {}
    for user, hashed in raw.items():
        where = f"basic_auth_users.{user}"
        if not isinstance(user, str) or not user or ":" in user:
            raise WebConfigError(top.path, where, "a user name must be a non-empty string without ':'")
        match = _BCRYPT_HASH.match(hashed) if isinstance(hashed, str) else None
        if match is None or not 4 <= int(match.group(1)) <= 31:
            # The value itself is never printed: it may be a plain password pasted by mistake.
            raise WebConfigError(top.path, where, "is not a bcrypt hash (make one with "
                                 "`htpasswd -nBC 10 \"\" | tr -d ':\\n'`)")
        users[user] = hashed.encode("ascii")
    return users


def _tls(section: _Section, base: Path) -> TlsServer | None:
    s = section
    cert, key, client_ca = s.string("cert"), s.string("key"), s.string("client_ca")
    cert_file, key_file, ca_file = (_resolve(s.string(k), base) for k in ("cert_file", "key_file", "client_ca_file"))
    auth_type = s.string("client_auth_type")
    if not any((cert, key, client_ca, cert_file, key_file, ca_file, auth_type)):
        return None  # the toolkit's rule: TLS is on as soon as any of these is set
    for inline, named in (("cert", "cert_file"), ("key", "key_file"), ("client_ca", "client_ca_file")):
        if s.string(inline) and s.string(named):
            raise s.error(named, f"set only one of {inline} and {named}")
    if not (cert or cert_file):
        raise s.error("cert_file", "is required to serve TLS (or cert)")
    if not (key or key_file):
        raise s.error("key_file", "is required to serve TLS (or key)")
    for key_name in ("cipher_suites", "curve_preferences"):
        if s.data.get(key_name):
            raise s.error(key_name, "is not supported by kafka-detective (it uses OpenSSL's defaults); remove it")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    versions = {}
    for key_name, default in (("min_version", "TLS12"), ("max_version", "TLS13")):
        name = s.string(key_name) or default
        if name not in TLS_VERSIONS:
            raise s.error(key_name, f"must be one of {', '.join(TLS_VERSIONS)}, got {name!r}")
        versions[key_name] = TLS_VERSIONS[name]
    if versions["min_version"] > versions["max_version"]:
        raise s.error("min_version", "is above max_version")
    try:
        context.minimum_version = versions["min_version"]
        context.maximum_version = versions["max_version"]
    except (ValueError, ssl.SSLError) as error:
        raise s.error("min_version", f"not available with this OpenSSL: {error}") from None
    if s.boolean("prefer_server_cipher_suites", True):
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    # Go clients offer h2 first; announcing only http/1.1 keeps the handshake explicit about what is served.
    context.set_alpn_protocols(["http/1.1"])
    _load_chain(s, context, cert, key, cert_file, key_file)

    if auth_type in _UNVERIFIED_CLIENT_AUTH:
        raise s.error("client_auth_type", f"{auth_type} is not supported (Python's TLS cannot request a client "
                      "certificate without verifying it); use VerifyClientCertIfGiven or RequireAndVerifyClientCert")
    if auth_type and auth_type not in CLIENT_AUTH_TYPES:
        raise s.error("client_auth_type", f"must be one of {', '.join(CLIENT_AUTH_TYPES)}, got {auth_type!r}")
    mode = CLIENT_AUTH_TYPES[auth_type or "NoClientCert"]
    has_ca = bool(ca_file or client_ca)
    if has_ca and mode == ssl.CERT_NONE:
        raise s.error("client_auth_type", "client_ca_file is set but client_auth_type is NoClientCert; "
                      "set RequireAndVerifyClientCert")
    if mode != ssl.CERT_NONE and not has_ca:
        raise s.error("client_ca_file", f"is required with client_auth_type {auth_type}")
    if has_ca:
        try:
            if ca_file:
                context.load_verify_locations(cafile=ca_file)
            else:
                context.load_verify_locations(cadata=client_ca)
        except FileNotFoundError:
            raise s.error("client_ca_file", f"cannot read {ca_file}: no such file") from None
        except (ssl.SSLError, OSError, ValueError) as error:
            raise s.error("client_ca_file" if ca_file else "client_ca",
                          f"no usable CA certificate: {getattr(error, 'reason', None) or error}") from None
    context.verify_mode = mode
    sans = s.strings("client_allowed_sans")
    if sans and mode != ssl.CERT_REQUIRED:
        raise s.error("client_allowed_sans", "needs client_auth_type RequireAndVerifyClientCert")
    return TlsServer(context=context, client_allowed_sans=sans)


def _resolve(value: str, base: Path) -> str:
    # Relative file names are relative to the web config file, as in the exporter-toolkit.
    return str(base / value) if value and not os.path.isabs(value) else value


def _load_chain(s: _Section, context: ssl.SSLContext, cert: str, key: str, cert_file: str, key_file: str) -> None:
    for key_name, file_name in (("cert_file", cert_file), ("key_file", key_file)):
        if file_name:
            try:
                with open(file_name, "rb"):
                    pass
            except OSError as error:
                raise s.error(key_name, f"cannot read {file_name}: {error.strerror}") from None
    with tempfile.TemporaryDirectory(prefix="kafka-detective-tls-") as tmp:
        # ssl loads certificates from files only: inline PEM goes through a private temporary directory.
        if cert:
            cert_file = _write_private(Path(tmp) / "cert.pem", cert)
        if key:
            key_file = _write_private(Path(tmp) / "key.pem", key)
        try:
            context.load_cert_chain(cert_file, key_file)
        except (ssl.SSLError, ValueError) as error:
            reason = getattr(error, "reason", None) or str(error)
            raise s.error("cert_file" if not cert else "cert",
                          f"cannot load the certificate and key ({reason}); are they PEM and do they match?") from None


def _write_private(path: Path, text: str) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return str(path)
