"""Exporter configuration: YAML file, environment variables and flags (see docs/configuration.md).

Validation names the offending field (`clusters[0].sasl.mechanism: ...`) and raises `ConfigError`, which the
CLI prints as one line with exit code 2. Secrets are only ever read from files or environment variables, at
connection time, and are never part of a repr.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kafka_detective.errors import UserError

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "AWS_MSK_IAM")
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


class ConfigError(UserError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"config: {path}: {message}")
        self.path = path


def read_secret(path: str | None, env: str | None, field_name: str) -> str:
    """A secret from a file or an environment variable; the error names the field, never the value."""
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\n")
        except OSError as error:
            raise ConfigError(field_name, f"cannot read secret file {path}: {error.strerror}") from None
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(field_name, f"environment variable {env} is not set")
        return value
    raise ConfigError(field_name, "needs a *_file or *_env source")


@dataclass(frozen=True)
class NameFilter:
    include: tuple[re.Pattern[str], ...] = (re.compile(".*"),)
    exclude: tuple[re.Pattern[str], ...] = ()

    def allows(self, name: str) -> bool:
        return any(p.fullmatch(name) for p in self.include) and not any(p.fullmatch(name) for p in self.exclude)


@dataclass(frozen=True)
class TlsConfig:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    key_password_file: str | None = None
    key_password_env: str | None = None
    check_hostname: bool = True

    def key_password(self) -> str | None:
        if not (self.key_password_file or self.key_password_env):
            return None
        return read_secret(self.key_password_file, self.key_password_env, "tls.key_password")


@dataclass(frozen=True)
class SaslConfig:
    mechanism: str
    username: str | None = None
    password_file: str | None = field(default=None, repr=False)
    password_env: str | None = field(default=None, repr=False)
    token_file: str | None = field(default=None, repr=False)
    token_env: str | None = field(default=None, repr=False)
    aws_region: str | None = None

    def password(self) -> str:
        return read_secret(self.password_file, self.password_env, "sasl.password")


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    bootstrap_servers: tuple[str, ...]
    client_id: str = "kafka-detective"
    request_timeout_seconds: float = 10.0
    security_protocol: str = "PLAINTEXT"
    sasl: SaslConfig | None = None
    tls: TlsConfig = TlsConfig()
    groups: NameFilter = NameFilter()
    topics: NameFilter = NameFilter(exclude=(re.compile(r"^__.*"),))
    lag_table_size: int = 60


@dataclass(frozen=True)
class AnalysisConfig:
    enabled: bool = True
    horizons_seconds: tuple[int, ...] = (300, 900, 1800)
    history_seconds: int = 7200
    history_points: int = 120                 # samples kept per group/topic for diagnoses: the memory knob
    diagnose_every_seconds: float = 60.0      # at most one root-cause analysis per group/topic this often
    problem_hold_seconds: float = 600.0       # a lag problem stays open this long after it calms down
    min_backlog_seconds: float = 120.0        # a backlog smaller than this much production is not a problem
    max_diagnoses_per_cycle: int = 25

    def online_settings(self) -> dict[str, Any]:
        """Keyword arguments of `OnlineAnalytics`."""
        return {
            "horizons_seconds": self.horizons_seconds,
            "history_seconds": self.history_seconds,
            "history_points": self.history_points,
            "diagnose_every_seconds": self.diagnose_every_seconds,
            "problem_hold_seconds": self.problem_hold_seconds,
            "min_backlog_seconds": self.min_backlog_seconds,
            "max_diagnoses_per_cycle": self.max_diagnoses_per_cycle,
        }


@dataclass(frozen=True)
class Config:
    clusters: tuple[ClusterConfig, ...]
    listen_address: str = "0.0.0.0"
    listen_port: int = 9308
    interval_seconds: float = 15.0
    config_refresh_seconds: float = 300.0
    log_level: str = "info"
    analysis: AnalysisConfig = AnalysisConfig()


# --- parsing -------------------------------------------------------------------------------------------------

class _Fields:
    """Reads typed fields from a mapping and rejects unknown keys, naming the full path of each field."""

    def __init__(self, data: Any, path: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(path or "(top level)", f"must be a mapping, got {type(data).__name__}")
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise ConfigError(self.name(key), "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise ConfigError(self.name(key), f"must be {_kind_names(kinds)}, got a boolean")
        if not isinstance(value, kinds):
            raise ConfigError(self.name(key), f"must be {_kind_names(kinds)}, got {type(value).__name__}")
        return value

    def positive(self, key: str, default: float, kind: type = float) -> Any:
        value = self.get(key, kind, default)
        if value <= 0:
            raise ConfigError(self.name(key), f"must be greater than 0, got {value}")
        return value

    def choice(self, key: str, choices: Sequence[str], default: str | None = None) -> str | None:
        value = self.get(key, str, default)
        if value is not None and value not in choices:
            raise ConfigError(self.name(key), f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def sub(self, key: str) -> _Fields:
        self.used.add(key)
        return _Fields(self.data.get(key), self.name(key))

    def done(self) -> None:
        unknown = sorted(str(k) for k in self.data if k not in self.used)
        if unknown:
            raise ConfigError(self.name(unknown[0]), "unknown field")


def _kind_names(kinds: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
             dict: "a mapping"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _patterns(fields: _Fields, key: str, default: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    raw = fields.get(key, list, list(default))
    compiled = []
    for index, item in enumerate(raw):
        where = f"{fields.name(key)}[{index}]"
        if not isinstance(item, str):
            raise ConfigError(where, "must be a string (a regular expression)")
        try:
            compiled.append(re.compile(item))
        except re.error as error:
            raise ConfigError(where, f"invalid regular expression: {error}") from None
    return tuple(compiled)


def _name_filter(fields: _Fields, default_exclude: tuple[str, ...]) -> NameFilter:
    result = NameFilter(include=_patterns(fields, "include", (".*",)),
                        exclude=_patterns(fields, "exclude", default_exclude))
    fields.done()
    return result


def _secret_source(fields: _Fields, base: str, required: bool) -> tuple[str | None, str | None]:
    path = fields.get(f"{base}_file", str)
    env = fields.get(f"{base}_env", str)
    if base in fields.data and fields.data[base] is not None:
        raise ConfigError(fields.name(base), f"secrets are not accepted inline; use {base}_file or {base}_env")
    fields.used.add(base)
    if path and env:
        raise ConfigError(fields.name(f"{base}_file"), f"set only one of {base}_file and {base}_env")
    if required and not (path or env):
        raise ConfigError(fields.name(f"{base}_file"), f"is required (or {base}_env)")
    return path, env


def _sasl(fields: _Fields) -> SaslConfig:
    mechanism = fields.choice("mechanism", SASL_MECHANISMS)
    if mechanism is None:
        raise ConfigError(fields.name("mechanism"), "is required")
    username = fields.get("username", str)
    password_file = password_env = token_file = token_env = None
    if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        if not username:
            raise ConfigError(fields.name("username"), f"is required for {mechanism}")
        password_file, password_env = _secret_source(fields, "password", required=True)
    elif mechanism == "OAUTHBEARER":
        token_file, token_env = _secret_source(fields, "token", required=True)
    region = fields.get("aws_region", str)
    fields.done()
    return SaslConfig(mechanism, username, password_file, password_env, token_file, token_env, region)


def _tls(fields: _Fields) -> TlsConfig:
    key_password_file, key_password_env = _secret_source(fields, "key_password", required=False)
    tls = TlsConfig(
        ca_file=fields.get("ca_file", str),
        cert_file=fields.get("cert_file", str),
        key_file=fields.get("key_file", str),
        key_password_file=key_password_file,
        key_password_env=key_password_env,
        check_hostname=fields.get("check_hostname", bool, True),
    )
    fields.done()
    if bool(tls.cert_file) != bool(tls.key_file):
        raise ConfigError(fields.name("cert_file" if not tls.cert_file else "key_file"),
                          "cert_file and key_file go together")
    return tls


def _cluster(fields: _Fields) -> ClusterConfig:
    name = fields.get("name", str, required=True)
    if not _CLUSTER_NAME.match(name):
        raise ConfigError(fields.name("name"), "may contain only letters, digits, '_', '.', ':' and '-'")
    servers = fields.get("bootstrap_servers", (list, str), required=True)
    if isinstance(servers, str):
        servers = [s.strip() for s in servers.split(",") if s.strip()]
    if not servers:
        raise ConfigError(fields.name("bootstrap_servers"), "must name at least one host:port")
    for index, server in enumerate(servers):
        if not isinstance(server, str) or not re.fullmatch(r"\[?[^\s\]]+\]?:\d{1,5}", server):
            raise ConfigError(f"{fields.name('bootstrap_servers')}[{index}]", f"must be host:port, got {server!r}")
    protocol = fields.choice("security_protocol", SECURITY_PROTOCOLS, "PLAINTEXT")
    sasl_fields = fields.sub("sasl")
    sasl = _sasl(sasl_fields) if sasl_fields.data else None
    if protocol.startswith("SASL_") and sasl is None:
        raise ConfigError(fields.name("sasl"), f"is required with security_protocol {protocol}")
    if sasl is not None and not protocol.startswith("SASL_"):
        raise ConfigError(fields.name("security_protocol"), "must be SASL_PLAINTEXT or SASL_SSL when sasl is set")
    if sasl is not None and sasl.mechanism == "AWS_MSK_IAM" and protocol != "SASL_SSL":
        raise ConfigError(fields.name("security_protocol"), "AWS_MSK_IAM needs SASL_SSL")
    tls = _tls(fields.sub("tls"))
    lag = fields.sub("lag_seconds")
    table_size = lag.positive("table_size", 60, int)
    lag.done()
    if table_size < 4:
        raise ConfigError(f"{lag.path}.table_size", "must be at least 4")
    cluster = ClusterConfig(
        name=name,
        bootstrap_servers=tuple(servers),
        client_id=fields.get("client_id", str, "kafka-detective"),
        request_timeout_seconds=fields.positive("request_timeout_seconds", 10.0),
        security_protocol=protocol,
        sasl=sasl,
        tls=tls,
        groups=_name_filter(fields.sub("groups"), ()),
        topics=_name_filter(fields.sub("topics"), (r"^__.*",)),
        lag_table_size=table_size,
    )
    fields.done()
    return cluster


def _analysis(fields: _Fields) -> AnalysisConfig:
    horizons = fields.get("horizons_seconds", list, [300, 900, 1800])
    for index, value in enumerate(horizons):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{fields.name('horizons_seconds')}[{index}]", "must be a positive integer")
    result = AnalysisConfig(
        enabled=fields.get("enabled", bool, True),
        horizons_seconds=tuple(sorted(set(horizons))),
        history_seconds=fields.positive("history_seconds", 7200, int),
        history_points=fields.positive("history_points", 120, int),
        diagnose_every_seconds=fields.positive("diagnose_every_seconds", 60.0),
        problem_hold_seconds=fields.positive("problem_hold_seconds", 600.0),
        min_backlog_seconds=fields.positive("min_backlog_seconds", 120.0),
        max_diagnoses_per_cycle=fields.positive("max_diagnoses_per_cycle", 25, int),
    )
    fields.done()
    return result


def parse_config(data: Any) -> Config:
    """Validate a configuration mapping (as loaded from YAML, with env and flags merged in)."""
    fields = _Fields(data, "")
    raw_clusters = fields.get("clusters", list, required=True)
    if not raw_clusters:
        raise ConfigError("clusters", "must list at least one cluster")
    clusters = tuple(_cluster(_Fields(raw, f"clusters[{i}]")) for i, raw in enumerate(raw_clusters))
    seen: set[str] = set()
    for index, cluster in enumerate(clusters):
        if cluster.name in seen:
            raise ConfigError(f"clusters[{index}].name", f"duplicate cluster name {cluster.name!r}")
        seen.add(cluster.name)
    port = fields.get("listen_port", int, 9308)
    if not 0 <= port <= 65535:
        raise ConfigError("listen_port", f"must be between 0 and 65535, got {port}")
    config = Config(
        clusters=clusters,
        listen_address=fields.get("listen_address", str, "0.0.0.0"),
        listen_port=port,
        interval_seconds=fields.positive("interval_seconds", 15.0),
        config_refresh_seconds=fields.positive("config_refresh_seconds", 300.0),
        log_level=fields.choice("log_level", ("debug", "info", "warning", "error"), "info"),
        analysis=_analysis(fields.sub("analysis")),
    )
    fields.done()
    return config


def load_config(
    path: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """File, then environment, then flag overrides (already as config keys), validated as a whole."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("KAFKA_DETECTIVE_CONFIG")
    data: dict[str, Any] = {}
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError("--config", f"cannot read {path}: {error.strerror}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{path}{where}", f"invalid YAML: {getattr(error, 'problem', error)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError("(top level)", f"must be a mapping, got {type(loaded).__name__}")
        data = dict(loaded or {})
    env_keys = {
        "KAFKA_DETECTIVE_LISTEN_PORT": ("listen_port", int),
        "KAFKA_DETECTIVE_INTERVAL_SECONDS": ("interval_seconds", float),
        "KAFKA_DETECTIVE_LOG_LEVEL": ("log_level", str),
    }
    for variable, (key, kind) in env_keys.items():
        if variable in environ:
            try:
                data[key] = kind(environ[variable])
            except ValueError:
                raise ConfigError(key, f"{variable} must be {_kind_names((kind,))}") from None
    bootstrap = environ.get("KAFKA_DETECTIVE_BOOTSTRAP_SERVERS")
    overrides = dict(overrides or {})
    flag_servers = overrides.pop("bootstrap_servers", None)
    cluster_name = overrides.pop("cluster_name", None) or environ.get("KAFKA_DETECTIVE_CLUSTER_NAME")
    servers = flag_servers or bootstrap
    if servers:
        if data.get("clusters"):
            raise ConfigError("clusters", "set either clusters in the file or a single bootstrap server, not both")
        data["clusters"] = [{"name": cluster_name or "default", "bootstrap_servers": servers}]
    data.update({k: v for k, v in overrides.items() if v is not None})
    return parse_config(data)
