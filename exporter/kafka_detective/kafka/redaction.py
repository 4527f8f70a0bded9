"""Secrets never reach a log record, and credentials never reach a message through a URL.

kafka-python prints what it is given in many shapes: its configuration dump is a dict repr (a password with a
backslash, quote, tab or non-ASCII letter comes out escaped), the SASL PLAIN authentication bytes are a bytes repr
(UTF-8, escaped again), and tokens may travel base64-encoded. Redacting only the plain text of a secret misses all
of those, so every secret registered here is expanded once into every form a log line may carry, and each log
record is rewritten at creation, before any handler, filter or formatter of any logger sees it.

This module must stay free of kafka-python imports: the analysis commands use `redact_url` without a Kafka client.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "<redacted>"

# Shorter fragments would turn ordinary words into <redacted> (a base64 slice of a short password may be 2 chars).
_MIN_FRAGMENT = 4

# Configuration keys whose values are secrets whatever they hold: their values are masked by key in dict dumps.
SECRET_KEYS = ("password", "secret", "token", "credential", "sasl_oauth_token_provider", "ssl_password")


def _repr_bodies(text: str | bytes) -> set[str]:
    """The escaped body of `repr(text)` as it appears inside a larger repr: Python escapes a single quote only
    when the enclosing literal is delimited by single quotes, which depends on the *whole* value, so both."""
    probe = repr(text + "'\"") if isinstance(text, str) else repr(text + b"'\"")
    prefix = 2 if isinstance(text, bytes) else 1  # b'...' vs '...'
    escaped = probe[prefix:-4]  # both quote kinds present: single-quoted, the trailing \'" dropped
    return {escaped, escaped.replace("\\'", "'")}


def _base64_fragments(data: bytes) -> set[str]:
    """The part of base64(data) that does not depend on what surrounds `data`, at each of the three alignments
    it may have inside a longer encoded blob (standard and URL-safe alphabets)."""
    out: set[str] = set()
    for offset in range(3):
        padded = b"\0" * offset + data
        end = len(padded) // 3 * 4               # complete groups only: the tail depends on the next bytes
        start = 4 if offset else 0               # the first group mixes in the unknown preceding bytes
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            fragment = encode(padded).decode("ascii")[start:end]
            if len(fragment) >= _MIN_FRAGMENT:
                out.add(fragment)
    return out


def secret_forms(secret: str) -> set[str]:
    """Every rendering of `secret` a log line may contain: raw, str repr, ascii(), JSON, UTF-8 bytes repr
    (both quote styles), and base64 (any alignment, both alphabets)."""
    forms = {secret}
    forms |= _repr_bodies(secret)
    forms.add(ascii(secret)[1:-1])
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    for encoding in ("utf-8", "latin-1"):
        try:
            raw = secret.encode(encoding)
        except UnicodeEncodeError:
            continue
        forms |= _repr_bodies(raw)
        forms.add(raw.hex())
        forms |= _base64_fragments(raw)
    return {form for form in forms if len(form) >= min(_MIN_FRAGMENT, len(secret))}


class SecretRedactor:
    """The registered secrets, and the rewriting of text and log records that hides them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._forms: tuple[str, ...] = ()

    def add(self, secret: str | None) -> None:
        if not secret or secret in self._secrets:
            return
        with self._lock:
            self._secrets.add(secret)
            forms = set(self._forms) | secret_forms(secret)
            # Longest first: a form that contains another must be replaced whole, not left half-masked.
            self._forms = tuple(sorted(forms, key=len, reverse=True))

    def __contains__(self, secret: object) -> bool:
        return secret in self._secrets

    def redact(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def redact_record(self, record: logging.LogRecord) -> None:
        """Rewrite `record` in place so that no registered secret survives in its message or its traceback."""
        if record.name.startswith("kafka."):
            _mask_structurally(record)
        if not self._forms:
            return
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report; leave it as it is
            return
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # Formatters cache the traceback text in exc_text; filling it now means the cached text is redacted.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


def _mask_structurally(record: logging.LogRecord) -> None:
    """Hide kafka-python's secret-bearing arguments by what they are, not by value, so that even a secret never
    registered here (set some other way) does not show: the configuration dump (`%s` of the settings dict) keeps
    its keys with secret values masked, and a SASL authentication request loses its bytes."""
    args = record.args
    if isinstance(args, Mapping):
        record.args = mask_secret_keys(args)  # `msg % dict` formats a %s as the dict
    elif isinstance(args, tuple) and any(type(arg).__name__.startswith(_SASL_REQUESTS) for arg in args):
        record.args = tuple(f"{type(arg).__name__}(auth_bytes={REDACTED})"
                            if type(arg).__name__.startswith(_SASL_REQUESTS) else arg for arg in args)


_SASL_REQUESTS = ("SaslAuthenticateRequest", "SaslBytesRequest")


def mask_secret_keys(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a settings mapping with the value of every secret-named key replaced (when set)."""
    return {key: (REDACTED if value and any(word in str(key).lower() for word in SECRET_KEYS) else value)
            for key, value in settings.items()}


REDACTOR = SecretRedactor()


def register_secret(value: str | None) -> str | None:
    """Remember `value` as a secret (every log record is redacted from then on) and return it unchanged."""
    if value:
        REDACTOR.add(value)
    return value


def redact(text: str) -> str:
    return REDACTOR.redact(text)


_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Redact every log record of the process at creation. Idempotent.

    A log record factory rather than a filter: filters on a logger do not apply to records of its children, nor to
    handlers added later (pytest's caplog, a user's logging config), whereas every record passes the factory."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            REDACTOR.redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


# --- URLs ---------------------------------------------------------------------------------------------------

_SENSITIVE_QUERY = ("password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "access_key", "auth",
                    "signature", "sig", "key")


def redact_url(url: str) -> str:
    """`url` fit for a message or a log: the user-info's password (and any secret-named query parameter)
    replaced, the rest kept so the user still recognises which endpoint is meant. Never raises."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>" if "@" in url else url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    query = parts.query
    if query:
        pairs = []
        for pair in query.split("&"):
            name, eq, _value = pair.partition("=")
            sensitive = eq and any(word in name.lower() for word in _SENSITIVE_QUERY)
            pairs.append(f"{name}={REDACTED}" if sensitive else pair)
        query = "&".join(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_urls(values: Iterable[str]) -> list[str]:
    return [redact_url(value) for value in values]
