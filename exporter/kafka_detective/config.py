"""Exporter configuration: YAML file, environment variables and flags (see docs/configuration.md).

Validation names the offending field (`clusters[0].sasl.mechanism: ...`) and raises `ConfigError`, which the
CLI prints as one line with exit code 2. Secrets are only ever read from files or environment variables, at
connection time, and are never part of a repr.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from kafka_detective import yamlio
from kafka_detective.errors import UserError

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
TLS_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "AWS_MSK_IAM")
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
_NUMERIC_V4 = re.compile(r"^[0-9.]+$")
_HOST_PORT = re.compile(r"\[(?P<v6>[^\]]*)\]:(?P<port6>\d+)|(?P<host>[^\s:\[\]/]+):(?P<port>\d+)")
_DAY = 86400.0


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
        except UnicodeDecodeError:
            # No byte value or position: they would tell something about the secret.
            raise ConfigError(field_name, f"secret file {path} is not UTF-8 text") from None
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(field_name, f"environment variable {env} is not set")
        return value
    raise ConfigError(field_name, "needs a *_file or *_env source")


def split_host_port(text: str) -> tuple[str, int]:
    """'host:port' or '[ipv6]:port' -> (host, port); ValueError saying what is wrong."""
    match = _HOST_PORT.fullmatch(text)
    if match is None:
        if text.count(":") > 1 and "[" not in text:
            raise ValueError(f"IPv6 addresses go in brackets, e.g. [::1]:9092, got {text!r}")
        raise ValueError(f"must be host:port, got {text!r}")
    port = int(match["port6"] or match["port"])
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be between 1 and 65535, got {port} in {text!r}")
    if match["v6"] is not None:
        host = match["v6"]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} in brackets is not an IPv6 address") from None
    else:
        host = match["host"]
        _check_numeric_ipv4(host)
    return host, port


def _check_numeric_ipv4(host: str) -> None:
    # All digits and dots is never a host name: 999.1.1.1 would otherwise wait for a DNS answer that says no.
    if _NUMERIC_V4.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv4 address") from None


def _listen_address(value: str) -> str:
    """The HTTP listen address: an IPv4/IPv6 literal ('[::]' is accepted for '::') or a host name."""
    address = value.strip()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    try:
        if ":" in address:
            ipaddress.IPv6Address(address)
        else:
            _check_numeric_ipv4(address)
    except ValueError:
        raise ConfigError("listen_address", f"{value!r} is not an IP address or a host name") from None
    if any(c.isspace() or c in "/[]" for c in address):
        raise ConfigError("listen_address", f"{value!r} is not an IP address or a host name")
    return address


@dataclass(frozen=True)
class NameFilter:
    include: tuple[re.Pattern[str], ...] = (re.compile(".*"),)
    exclude: tuple[re.Pattern[str], ...] = ()

    def allows(self, name: str) -> bool:
        return any(p.fullmatch(name) for p in self.include) and not any(p.fullmatch(name) for p in self.exclude)


GRANULARITIES = ("partition", "topic")
# Presets of the `metrics` block (docs/configuration.md): keys the user sets themselves win over the preset's.
# lean: no per-partition series (per-topic and per-group/topic sums instead) and none of the families that no
# alert rule reads and that cost a series per group/topic or more; metrics/budget.py states its series count.
METRICS_PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "lean": {
        "groups": {"granularity": "topic"},
        "topics": {"granularity": "topic"},
        "exclude": [
            "kafka_consumergroup_predicted_lag_(upper|lower)",
            "kafka_consumergroup_catch_up_seconds",
            "kafka_consumergroup_consume_rate_messages_per_second",
            "kafka_consumergroup_lag_seconds_extrapolated_partitions",
            "kafka_consumergroup_uncommitted_partitions",
            "kafka_consumergroup_info",
            "kafka_consumergroup_epoch",
            "kafka_topic_info",
            "kafka_topic_oldest_offset",
        ],
    },
}


@dataclass(frozen=True)
class MetricsConfig:
    """Which series are rendered (metrics/selection.py applies it): per-partition or per-topic granularity of the
    group and topic series, and an allow/deny list of family names (the exporter's health is always kept)."""
    profile: str = "default"
    group_granularity: str = "partition"
    topic_granularity: str = "partition"
    families: NameFilter = NameFilter()


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
    metrics: MetricsConfig = MetricsConfig()


@dataclass(frozen=True)
class AnalysisConfig:
    enabled: bool = True
    horizons_seconds: tuple[int, ...] = (300, 900, 1800)
    history_seconds: int = 7200
    history_points: int = 120                 # samples kept per group/topic for diagnoses: the memory knob
    diagnose_every_seconds: float = 60.0      # at most one root-cause analysis per group/topic this often
    problem_hold_seconds: float = 600.0       # a lag problem stays open this long after it calms down
    min_backlog_seconds: float = 120.0        # a backlog smaller than this much production is not a problem
    intermittent_min_gap_seconds: float = 1800.0   # calm between short episodes that makes them `intermittent`
    max_diagnoses_per_cycle: int = 25
    # Prometheus scraping this exporter, read back at start-up to refill the analytics (analysis/warm_start.py)
    warm_start_url: str | None = None
    warm_start_lookback_seconds: int | None = None   # None: history_seconds

    def online_settings(self) -> dict[str, Any]:
        """Keyword arguments of `OnlineAnalytics`."""
        return {
            "horizons_seconds": self.horizons_seconds,
            "history_seconds": self.history_seconds,
            "history_points": self.history_points,
            "diagnose_every_seconds": self.diagnose_every_seconds,
            "problem_hold_seconds": self.problem_hold_seconds,
            "min_backlog_seconds": self.min_backlog_seconds,
            "intermittent_min_gap_seconds": self.intermittent_min_gap_seconds,
            "max_diagnoses_per_cycle": self.max_diagnoses_per_cycle,
        }


@dataclass(frozen=True)
class ShardingConfig:
    """This process's part of a sharded exporter (gathering/sharding.py): consumer groups and topics are split
    over `total_shards` processes by a stable hash of their names; 0 of 1 is not sharded."""
    shard: int = 0
    total_shards: int = 1


@dataclass(frozen=True)
class UiConfig:
    enabled: bool = True    # /detective: the investigation pages on the metrics port (read-only)
    library_dir: str | None = None   # a pattern library whose learned/*.signature.json the case files compare


@dataclass(frozen=True)
class Config:
    clusters: tuple[ClusterConfig, ...]
    listen_address: str = "0.0.0.0"
    listen_port: int = 9308
    interval_seconds: float = 15.0
    config_refresh_seconds: float = 300.0
    log_level: str = "info"
    analysis: AnalysisConfig = AnalysisConfig()
    # TLS and basic auth of the HTTP endpoint (exporter-toolkit format; serving/web_config.py validates it).
    web_config_file: str | None = None
    ui: UiConfig = UiConfig()
    sharding: ShardingConfig = ShardingConfig()


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
            if float in kinds and isinstance(value, str) and _looks_numeric(value):
                # YAML 1.1 reads 1e3 (no dot) as text; say so rather than "got str" for what looks like a number.
                raise ConfigError(self.name(key), f"must be a number, got the string {value!r} (YAML reads an "
                                  "exponent without a dot and a sign as text: write 1.0e+3, not 1e3)")
            raise ConfigError(self.name(key), f"must be {_kind_names(kinds)}, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            # YAML's .nan/.inf: NaN ran cycles back to back and inf killed the collection thread.
            raise ConfigError(self.name(key), f"must be a finite number, got {value}")
        return value

    def positive(self, key: str, default: float, kind: type = float, maximum: float | None = None,
                 minimum: float | None = None) -> Any:
        """A number > 0 (and >= minimum, <= maximum when given)."""
        value = self.get(key, kind, default)
        if value <= 0:
            raise ConfigError(self.name(key), f"must be greater than 0, got {value}")
        if minimum is not None and value < minimum:
            raise ConfigError(self.name(key), f"must be at least {minimum:g}, got {value:g}")
        if maximum is not None and value > maximum:
            raise ConfigError(self.name(key), f"must be at most {maximum:g}, got {value:g}")
        return value

    @overload
    def choice(self, key: str, choices: Sequence[str], default: str) -> str: ...
    @overload
    def choice(self, key: str, choices: Sequence[str], default: None = None) -> str | None: ...

    def choice(self, key: str, choices: Sequence[str], default: str | None = None) -> str | None:
        value: str | None = self.get(key, str, default)
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


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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


def _metrics(fields: _Fields, inherited: MetricsConfig = MetricsConfig()) -> MetricsConfig:
    """A `metrics` block. Keys it leaves out come from its `profile` when it names one, else from `inherited`
    (a cluster's block inherits the top-level one, which inherits the defaults)."""
    base = inherited
    if fields.data.get("profile") is not None:
        profile = fields.choice("profile", tuple(METRICS_PROFILES), "default")
        base = _metrics(_Fields(METRICS_PROFILES[profile], f"(profile {profile})"), MetricsConfig(profile=profile))
    fields.used.add("profile")
    granularity = {}
    for key, default in (("groups", base.group_granularity), ("topics", base.topic_granularity)):
        sub = fields.sub(key)
        granularity[key] = sub.choice("granularity", GRANULARITIES, default)
        sub.done()
    families = base.families
    result = MetricsConfig(
        profile=base.profile,
        group_granularity=granularity["groups"],
        topic_granularity=granularity["topics"],
        families=NameFilter(include=_patterns(fields, "include", tuple(p.pattern for p in families.include)),
                            exclude=_patterns(fields, "exclude", tuple(p.pattern for p in families.exclude))),
    )
    fields.done()
    return result


def _cluster(fields: _Fields, metrics: MetricsConfig = MetricsConfig()) -> ClusterConfig:
    name = fields.get("name", str, required=True)
    if not _CLUSTER_NAME.match(name):
        raise ConfigError(fields.name("name"), "may contain only letters, digits, '_', '.', ':' and '-'")
    servers = fields.get("bootstrap_servers", (list, str), required=True)
    if isinstance(servers, str):
        servers = [s.strip() for s in servers.split(",") if s.strip()]
    if not servers:
        raise ConfigError(fields.name("bootstrap_servers"), "must name at least one host:port")
    for index, server in enumerate(servers):
        where = f"{fields.name('bootstrap_servers')}[{index}]"
        if not isinstance(server, str):
            raise ConfigError(where, f"must be host:port, got {server!r}")
        try:
            split_host_port(server)
        except ValueError as error:
            raise ConfigError(where, str(error)) from None
    protocol = fields.choice("security_protocol", SECURITY_PROTOCOLS, "PLAINTEXT")
    sasl_fields = fields.sub("sasl")
    sasl = _sasl(sasl_fields) if sasl_fields.data else None
    if protocol.startswith("SASL_") and sasl is None:
        raise ConfigError(fields.name("sasl"), f"is required with security_protocol {protocol}")
    if sasl is not None and not protocol.startswith("SASL_"):
        raise ConfigError(fields.name("security_protocol"), "must be SASL_PLAINTEXT or SASL_SSL when sasl is set")
    if sasl is not None and sasl.mechanism == "AWS_MSK_IAM" and protocol != "SASL_SSL":
        raise ConfigError(fields.name("security_protocol"), "AWS_MSK_IAM needs SASL_SSL")
    tls_fields = fields.sub("tls")
    tls = _tls(tls_fields)
    if tls_fields.data and protocol not in TLS_PROTOCOLS:
        # Silently connecting in plaintext while the file asks for a CA is the wrong kind of forgiving.
        raise ConfigError(tls_fields.path, f"is set but security_protocol {protocol} does not use TLS; "
                          f"use {'SASL_SSL' if protocol.startswith('SASL_') else 'SSL'} or remove tls")
    lag = fields.sub("lag_seconds")
    table_size = lag.positive("table_size", 60, int, maximum=100_000)
    lag.done()
    if table_size < 4:
        raise ConfigError(f"{lag.path}.table_size", "must be at least 4")
    cluster = ClusterConfig(
        name=name,
        bootstrap_servers=tuple(servers),
        client_id=fields.get("client_id", str, "kafka-detective"),
        request_timeout_seconds=fields.positive("request_timeout_seconds", 10.0, minimum=0.1, maximum=3600),
        security_protocol=protocol,
        sasl=sasl,
        tls=tls,
        groups=_name_filter(fields.sub("groups"), ()),
        topics=_name_filter(fields.sub("topics"), (r"^__.*",)),
        lag_table_size=table_size,
        metrics=_metrics(fields.sub("metrics"), metrics),
    )
    fields.done()
    return cluster


def _analysis(fields: _Fields) -> AnalysisConfig:
    horizons = fields.get("horizons_seconds", list, [300, 900, 1800])
    for index, value in enumerate(horizons):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{fields.name('horizons_seconds')}[{index}]", "must be a positive integer")
        if value > 7 * _DAY:
            raise ConfigError(f"{fields.name('horizons_seconds')}[{index}]", f"must be at most 604800, got {value}")
    result = AnalysisConfig(
        enabled=fields.get("enabled", bool, True),
        horizons_seconds=tuple(sorted(set(horizons))),
        history_seconds=fields.positive("history_seconds", 7200, int, maximum=30 * _DAY),
        history_points=fields.positive("history_points", 120, int, maximum=100_000),
        diagnose_every_seconds=fields.positive("diagnose_every_seconds", 60.0, maximum=_DAY),
        problem_hold_seconds=fields.positive("problem_hold_seconds", 600.0, maximum=7 * _DAY),
        min_backlog_seconds=fields.positive("min_backlog_seconds", 120.0, maximum=7 * _DAY),
        intermittent_min_gap_seconds=fields.positive("intermittent_min_gap_seconds", 1800.0, maximum=7 * _DAY),
        max_diagnoses_per_cycle=fields.positive("max_diagnoses_per_cycle", 25, int, maximum=100_000),
        warm_start_url=_warm_start_url(fields),
        warm_start_lookback_seconds=(fields.positive("warm_start_lookback_seconds", 1, int, maximum=30 * _DAY)
                                     if fields.data.get("warm_start_lookback_seconds") is not None else None),
    )
    fields.done()
    return result


def _warm_start_url(fields: _Fields) -> str | None:
    # Imported on use: config, the runtime's lowest layer, borrows this one check from the analysis layer above.
    from kafka_detective.analysis.warm_start import check_url

    url = fields.get("warm_start_url", str)
    problem = check_url(url) if url else None   # "" is unset, as a Helm value left empty renders it
    if problem:
        raise ConfigError(fields.name("warm_start_url"), problem)
    return url or None


def _ui(fields: _Fields) -> UiConfig:
    result = UiConfig(enabled=fields.get("enabled", bool, True), library_dir=fields.get("library_dir", str) or None)
    fields.done()
    return result


# A StatefulSet pod is named <statefulset>-<ordinal>: its ordinal is its shard (`sharding.pod`).
_POD_ORDINAL = re.compile(r"-(\d+)$")
MAX_SHARDS = 1000


def _sharding(fields: _Fields) -> ShardingConfig:
    total = fields.positive("total_shards", 1, int, maximum=MAX_SHARDS)
    shard = fields.get("shard", int)
    pod = fields.get("pod", str) or None   # "" is unset, as the chart's POD_NAME is outside Kubernetes
    fields.done()
    where = fields.name("shard")
    if pod is not None:
        if shard is not None:
            raise ConfigError(fields.name("pod"), "set either shard or pod (whose ordinal is the shard), not both")
        match = _POD_ORDINAL.search(pod)
        if match is None:
            raise ConfigError(fields.name("pod"), f"{pod!r} does not end with a StatefulSet ordinal (-0, -1, ...)")
        shard, where = int(match[1]), fields.name("pod")
    shard = 0 if shard is None else shard
    if not 0 <= shard < total:
        raise ConfigError(where, f"shard {shard} is not between 0 and total_shards - 1 ({total - 1})")
    return ShardingConfig(shard=shard, total_shards=total)


def parse_config(data: Any) -> Config:
    """Validate a configuration mapping (as loaded from YAML, with env and flags merged in)."""
    fields = _Fields(data, "")
    raw_clusters = fields.get("clusters", list, required=True)
    if not raw_clusters:
        raise ConfigError("clusters", "must list at least one cluster")
    metrics = _metrics(fields.sub("metrics"))   # every cluster's, unless it has a metrics block of its own
    clusters = tuple(_cluster(_Fields(raw, f"clusters[{i}]"), metrics) for i, raw in enumerate(raw_clusters))
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
        listen_address=_listen_address(fields.get("listen_address", str, "0.0.0.0")),
        listen_port=port,
        interval_seconds=fields.positive("interval_seconds", 15.0, minimum=0.1, maximum=_DAY),
        config_refresh_seconds=fields.positive("config_refresh_seconds", 300.0, maximum=7 * _DAY),
        log_level=fields.choice("log_level", ("debug", "info", "warning", "error"), "info"),
        analysis=_analysis(fields.sub("analysis")),
        web_config_file=fields.get("web_config_file", str) or None,
        ui=_ui(fields.sub("ui")),
        sharding=_sharding(fields.sub("sharding")),
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
        except UnicodeDecodeError as error:
            raise ConfigError("--config", f"{path} is {yamlio.describe_decode_error(error, error.object)}") from None
        try:
            loaded = yamlio.loads(text, path)
        except yamlio.YamlError as error:
            where = f" line {error.line}" if error.line else ""
            raise ConfigError(f"{path}{where}", error.problem) from None
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
    # --shard, --total-shards and --pod override the file's sharding block key by key.
    sharding = {k: v for k, v in (overrides.pop("sharding", None) or {}).items() if v is not None}
    if sharding:
        data["sharding"] = {**(data["sharding"] if isinstance(data.get("sharding"), dict) else {}), **sharding}
    data.update({k: v for k, v in overrides.items() if v is not None})
    return parse_config(data)


# --- offline checks (serve and --check-config) -----------------------------------------------------------

def check_offline(config: Config) -> None:
    """What can be known without Kafka: secret files and variables, TLS material, the listen address.

    `parse_config` checks shapes and ranges only, so a config can be built in tests without real files;
    `serve` runs this before starting so that `--check-config` says valid exactly when serve would start.
    Raises ConfigError naming the first problem."""
    _check_listen_address(config.listen_address, config.listen_port)
    for index, cluster in enumerate(config.clusters):
        where = f"clusters[{index}]"
        sasl = cluster.sasl
        if sasl is not None:
            if sasl.password_file or sasl.password_env:
                _check_secret(sasl.password_file, sasl.password_env, f"{where}.sasl.password")
            if sasl.token_file or sasl.token_env:
                _check_secret(sasl.token_file, sasl.token_env, f"{where}.sasl.token")
        if cluster.security_protocol in TLS_PROTOCOLS:
            _check_tls(cluster.tls, f"{where}.tls")


def _check_listen_address(address: str, port: int) -> None:
    flags = socket.AI_PASSIVE
    if ":" in address or _NUMERIC_V4.match(address):
        flags |= socket.AI_NUMERICHOST       # a literal is never looked up in DNS
    try:
        socket.getaddrinfo(address or None, port, type=socket.SOCK_STREAM, flags=flags)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError("listen_address", f"{address!r} is not an IP address or a resolvable host name "
                          f"({reason})") from None


def _check_secret(path: str | None, env: str | None, field_name: str) -> str:
    source = f"secret file {path}" if path else f"environment variable {env}"
    field = f"{field_name}_file" if path else f"{field_name}_env"
    value = read_secret(path, env, field)
    if not value.strip():
        raise ConfigError(field, f"{source} is empty")
    return value


def _check_readable(path: str, field_name: str) -> None:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise ConfigError(field_name, f"cannot read {path}: {error.strerror or error}") from None


def _check_tls(tls: TlsConfig, where: str) -> None:
    # The same loads the Kafka client does when it connects, so a bad PEM or key password shows up now.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if tls.ca_file:
        _check_readable(tls.ca_file, f"{where}.ca_file")
        try:
            context.load_verify_locations(cafile=tls.ca_file)
        except ssl.SSLError as error:
            raise ConfigError(f"{where}.ca_file", f"{tls.ca_file} holds no usable PEM certificate "
                              f"({(error.reason or 'unreadable').lower().replace('_', ' ')})") from None
    password = None
    if tls.key_password_file or tls.key_password_env:
        password = _check_secret(tls.key_password_file, tls.key_password_env, f"{where}.key_password")
    if tls.cert_file and tls.key_file:
        _check_readable(tls.cert_file, f"{where}.cert_file")
        _check_readable(tls.key_file, f"{where}.key_file")
        try:
            # An empty password instead of None: OpenSSL would otherwise prompt on the terminal for it.
            context.load_cert_chain(tls.cert_file, tls.key_file, password=password or "")
        except ssl.SSLError as error:
            if error.reason == "KEY_VALUES_MISMATCH":
                message = f"{tls.key_file} is not the key of {tls.cert_file}"
            elif password:
                message = (f"cannot load {tls.key_file} with {tls.cert_file}: wrong key_password, or not a PEM key "
                           "and certificate")
            else:
                message = (f"cannot load {tls.key_file} with {tls.cert_file}: the key is encrypted (set "
                           "key_password_file or key_password_env), or not a PEM key and certificate")
            raise ConfigError(f"{where}.key_file", message) from None
