"""Trace I/O: OpenMetrics text with timestamps (seconds) plus a YAML ground truth.

A trace holds the exporter's own series exactly as `/metrics` exposes them (names and labels from
`kafka_detective.metrics.catalogue`), each sample with its timestamp, in the format
`promtool tsdb create-blocks-from openmetrics` accepts:

    # TYPE kafka_consumergroup_lag_sum gauge
    kafka_consumergroup_lag_sum{cluster="c",consumergroup="g",topic="t"} 123 1700000000.000
    ...
    # TYPE kafka_consumergroup_rebalances counter
    kafka_consumergroup_rebalances_total{cluster="c",consumergroup="g"} 4 1700000000.000
    # EOF

Every family appears once with its `# TYPE` line (counters are typed by their family name without `_total`,
as OpenMetrics requires), samples are sorted by time within a series, and `# EOF` is the last line.

The ground truth lives beside the trace in `<name>.truth.yaml` (see `docs/scenarios.md`).

Pure Python (PyYAML only for the truth file), so the exporter and the offline CLI share it.
"""

from __future__ import annotations

import gzip
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kafka_detective.errors import UserError
from kafka_detective.signals.samples import GroupTopicSample
from kafka_detective.yamlio import load_file, text_lines

# A series that is not one of the exporter's metrics but that the simulator (or a Prometheus recording
# rule fed from node_exporter / cAdvisor) provides: CPU utilisation of the group's consumers, 0-1.
CONSUMER_CPU_METRIC = "consumergroup:cpu_utilisation:ratio"
LOOKBACK_SECONDS = 300.0   # Prometheus' default lookback: a series without a point for longer is gone

_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(\S+))?\s*$")
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass
class Series:
    """One time series: name as exposed (counters end in `_total`), labels, parallel timestamps/values."""

    name: str
    labels: dict[str, str]
    timestamps: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.name, tuple(sorted(self.labels.items()))

    def at(self, timestamp: float, default: float | None = None) -> float | None:
        """Last value at or before `timestamp` (step hold), or `default`."""
        from bisect import bisect_right

        i = bisect_right(self.timestamps, timestamp + 1e-6)
        return self.values[i - 1] if i else default


@dataclass
class Trace:
    series: list[Series]
    types: dict[str, str] = field(default_factory=dict)   # family name -> counter | gauge | ...
    path: str | None = None

    def select(self, name: str, **labels: str) -> list[Series]:
        """Series named `name` whose labels include every given label (exact match)."""
        out = []
        for s in self.series:
            if s.name != name:
                continue
            if all(s.labels.get(k) == v for k, v in labels.items()):
                out.append(s)
        return out

    def one(self, name: str, **labels: str) -> Series | None:
        found = self.select(name, **labels)
        return found[0] if found else None

    def subjects(self) -> list[tuple[str, str, str]]:
        """(cluster, consumergroup, topic) of every `kafka_consumergroup_lag_sum` series."""
        return sorted(
            {(s.labels.get("cluster", ""), s.labels.get("consumergroup", ""), s.labels.get("topic", ""))
             for s in self.select("kafka_consumergroup_lag_sum")}
        )

    def time_range(self) -> tuple[float, float]:
        starts = [s.timestamps[0] for s in self.series if s.timestamps]
        ends = [s.timestamps[-1] for s in self.series if s.timestamps]
        if not starts:
            return 0.0, 0.0
        return min(starts), max(ends)


# --- OpenMetrics writing ---------------------------------------------------------------------------------


def _family_type(name: str) -> tuple[str, str]:
    """(family name, type) of an exposed sample name, from the catalogue."""
    from kafka_detective.metrics.catalogue import BY_NAME

    spec = BY_NAME.get(name)
    if spec is not None:
        if spec.type == "counter":
            return (name[: -len("_total")] if name.endswith("_total") else name), "counter"
        return name, "gauge"
    if name.endswith("_total"):
        return name[: -len("_total")], "counter"
    return name, "gauge"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_value(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 1e15):
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def format_labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def write_trace(path: str | Path, series: Iterable[Series], helps: dict[str, str] | None = None) -> None:
    """Write `series` as OpenMetrics text (each family once with `# TYPE`, sorted samples, `# EOF`)."""
    families: dict[str, tuple[str, list[Series]]] = {}
    for s in series:
        if not _NAME_RE.match(s.name):
            raise ValueError(f"invalid metric name {s.name!r}")
        if len(s.timestamps) != len(s.values):
            raise ValueError(f"series {s.name} has {len(s.timestamps)} timestamps and {len(s.values)} values")
        family, kind = _family_type(s.name)
        families.setdefault(family, (kind, []))[1].append(s)
    helps = helps or {}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # `.gz`: generated scenario families are large and compress ~20x; level 1 keeps writing cheap. No time in the
    # gzip header (mtime=0), so one seed gives the same bytes on every run.
    with (io.TextIOWrapper(gzip.GzipFile(path, "wb", compresslevel=1, mtime=0), encoding="utf-8")
          if path.suffix == ".gz" else open(path, "w", encoding="utf-8")) as out:
        for family, (kind, members) in families.items():
            out.write(f"# TYPE {family} {kind}\n")
            if family in helps:
                out.write(f"# HELP {family} {helps[family]}\n")
            for s in members:
                prefix = s.name + format_labels(s.labels) + " "
                pairs = sorted(zip(s.timestamps, s.values, strict=True), key=lambda p: p[0])
                out.writelines(f"{prefix}{_format_value(v)} {t:.3f}\n" for t, v in pairs)
        out.write("# EOF\n")


# --- OpenMetrics reading ---------------------------------------------------------------------------------


def _parse_labels(text: str, where: str) -> dict[str, str]:
    inner = text[1:-1].strip()
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(inner):
        m = _LABEL_RE.match(inner, pos)
        if not m:
            raise UserError(f"{where}: malformed labels {text!r}")
        value = m.group(2)
        if "\\" in value:
            value = value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        labels[m.group(1)] = value
        pos = m.end()
    return labels


def _parse_float(text: str, what: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{where}: {what} {text!r} is not a number") from None


def load_trace(path: str | Path) -> Trace:
    """Read a trace written by `write_trace` (or any OpenMetrics text with timestamps).

    Raises UserError naming the line for malformed input."""
    path = Path(path)
    try:
        handle = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise UserError(f"cannot read trace {path}: {error.strerror}") from None
    types: dict[str, str] = {}
    by_key: dict[tuple[str, str], Series] = {}
    label_cache: dict[str, dict[str, str]] = {}
    saw_eof = False
    with handle:
        for lineno, line in text_lines(handle, f"trace {path}"):
            line = line.rstrip("\n")
            where = f"{path}:{lineno}"
            if saw_eof:
                if line.strip():
                    raise UserError(f"{where}: content after # EOF")
                continue
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if parts == ["#", "EOF"]:
                    saw_eof = True
                elif len(parts) >= 2 and parts[1] == "TYPE":
                    if len(parts) != 4:
                        raise UserError(f"{where}: malformed # TYPE line")
                    types[parts[2]] = parts[3].strip()
                continue
            m = _SAMPLE_RE.match(line)
            if not m:
                raise UserError(f"{where}: malformed sample line {line[:80]!r}")
            name, label_text, value_text, ts_text = m.groups()
            label_text = label_text or ""
            if ts_text is None:
                raise UserError(f"{where}: sample without a timestamp")
            value = _parse_float(value_text, "value", where)
            ts = _parse_float(ts_text, "timestamp", where)
            key = (name, label_text)
            s = by_key.get(key)
            if s is None:
                labels = label_cache.get(label_text)
                if labels is None:
                    labels = _parse_labels(label_text, where) if label_text else {}
                    label_cache[label_text] = labels
                s = Series(name, dict(labels))
                by_key[key] = s
            elif s.timestamps and ts < s.timestamps[-1]:
                raise UserError(f"{where}: timestamp {ts_text} goes back in time for {name}{label_text}")
            s.timestamps.append(ts)
            s.values.append(value)
    return Trace(series=list(by_key.values()), types=types, path=str(path))


# --- ground truth ----------------------------------------------------------------------------------------


@dataclass
class Incident:
    onset: float
    end: float
    root_cause: str
    patterns: list[str] = field(default_factory=list)


@dataclass
class Truth:
    name: str
    cluster: str
    consumergroup: str
    topic: str
    start: float
    end: float
    step_seconds: float
    incidents: list[Incident] = field(default_factory=list)
    quiet: bool = False
    description: str = ""
    # Other affected subjects (the storm touches many groups): [(cluster, consumergroup, topic)].
    other_subjects: list[tuple[str, str, str]] = field(default_factory=list)
    # Free-form extras for the evaluation (e.g. breach_time, lag_threshold of slow-growth scenarios).
    extra: dict = field(default_factory=dict)

    @property
    def subject(self) -> tuple[str, str, str]:
        return self.cluster, self.consumergroup, self.topic

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "subject": {"cluster": self.cluster, "consumergroup": self.consumergroup, "topic": self.topic},
            "other_subjects": [{"cluster": c, "consumergroup": g, "topic": t} for c, g, t in self.other_subjects],
            "start": self.start,
            "end": self.end,
            "step_seconds": self.step_seconds,
            "quiet": self.quiet,
            "incidents": [
                {"onset": i.onset, "end": i.end, "root_cause": i.root_cause, "patterns": list(i.patterns)}
                for i in self.incidents
            ],
            "extra": dict(self.extra),
        }


def write_truth(path: str | Path, truth: Truth) -> None:
    import yaml

    Path(path).write_text(yaml.safe_dump(truth.to_dict(), sort_keys=False), encoding="utf-8")


def truth_path_for(trace_path: str | Path) -> Path:
    p = Path(trace_path)
    name = p.name
    for suffix in (".om.gz", ".om.txt", ".openmetrics", ".om", ".txt", ".prom"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return p.with_name(name + ".truth.yaml")


def load_truth(path: str | Path) -> Truth:
    path = Path(path)
    data = load_file(path, "ground truth")
    if not isinstance(data, dict):
        raise UserError(f"{path}: ground truth must be a mapping")
    try:
        subject = data["subject"]
        incidents = [
            Incident(float(i["onset"]), float(i["end"]), str(i["root_cause"]),
                     [str(p) for p in i.get("patterns") or []])
            for i in data.get("incidents") or []
        ]
        others = [(o["cluster"], o["consumergroup"], o["topic"]) for o in data.get("other_subjects") or []]
        return Truth(
            name=str(data.get("name") or path.name.removesuffix(".truth.yaml")),
            cluster=str(subject["cluster"]),
            consumergroup=str(subject["consumergroup"]),
            topic=str(subject["topic"]),
            start=float(data["start"]),
            end=float(data["end"]),
            step_seconds=float(data["step_seconds"]),
            incidents=incidents,
            quiet=bool(data.get("quiet", False)),
            description=str(data.get("description") or ""),
            other_subjects=others,
            extra=dict(data.get("extra") or {}),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"{path}: malformed ground truth ({error!r})") from None


# --- samples ---------------------------------------------------------------------------------------------


def _aligned(series: Sequence[Series], timestamps: Sequence[float], default: float | None,
             stale_after: float = LOOKBACK_SECONDS) -> list[list[float | None]]:
    """For each series, its step-held value at each timestamp (default before the first sample, and once its
    last point is older than `stale_after`: Prometheus' lookback drops a series its target stopped exposing, such
    as a broker that left the metadata)."""
    out = []
    for s in series:
        vals: list[float | None] = []
        i = 0
        n = len(s.timestamps)
        current = default
        for t in timestamps:
            while i < n and s.timestamps[i] <= t + 1e-6:
                current = s.values[i]
                i += 1
            if i and t - s.timestamps[i - 1] > stale_after:
                vals.append(default)
            else:
                vals.append(current)
        out.append(vals)
    return out


def _sum_at(series: Sequence[Series], timestamps: Sequence[float]) -> list[float]:
    cols = _aligned(series, timestamps, None)
    return [sum(v for v in (c[k] for c in cols) if v is not None) for k in range(len(timestamps))]


def samples_from_trace(trace: Trace, cluster: str, consumergroup: str, topic: str) -> list[GroupTopicSample]:
    """One GroupTopicSample per timestamp of the subject's `kafka_consumergroup_lag_sum` series."""
    gt = {"cluster": cluster, "consumergroup": consumergroup, "topic": topic}
    g = {"cluster": cluster, "consumergroup": consumergroup}
    tp = {"cluster": cluster, "topic": topic}
    lag_series = trace.one("kafka_consumergroup_lag_sum", **gt)
    if lag_series is None:
        raise UserError(f"trace has no kafka_consumergroup_lag_sum for cluster={cluster} "
                        f"consumergroup={consumergroup} topic={topic}")
    ts = list(lag_series.timestamps)
    n = len(ts)

    def single(name: str, labels: dict[str, str], default: float | None) -> list[float | None]:
        s = trace.one(name, **labels)
        return _aligned([s], ts, default)[0] if s is not None else [default] * n

    lag = lag_series.values
    committed = single("kafka_consumergroup_current_offset_sum", gt, 0.0)
    log_end_series = trace.select("kafka_topic_partition_current_offset", **tp)
    log_end = _sum_at(log_end_series, ts) if log_end_series else [
        (c or 0.0) + lv for c, lv in zip(committed, lag, strict=True)]
    lag_seconds = single("kafka_consumergroup_max_lag_seconds", gt, None)
    members = single("kafka_consumergroup_members", g, 0.0)
    rebalances = single("kafka_consumergroup_rebalances_total", g, 0.0)
    lost = single("kafka_consumergroup_lost_messages_total", gt, 0.0)
    retention = single("kafka_topic_retention_seconds", tp, None)
    leader_changes = _sum_at(trace.select("kafka_topic_partition_leader_changes_total", **tp), ts)
    under = _sum_at(trace.select("kafka_topic_partition_under_replicated_partition", **tp), ts)
    offline = _sum_at(trace.select("kafka_topic_partition_offline", **tp), ts)
    cpu = single(CONSUMER_CPU_METRIC, g, None)

    state_series = trace.select("kafka_consumergroup_state", **g)
    state_cols = _aligned(state_series, ts, 0.0)
    state_names = [s.labels.get("state", "Unknown") for s in state_series]

    # Disk: max used ratio over the brokers' log dirs (brokers leading the topic when known).
    leaders = trace.select("kafka_topic_partition_leader", **tp)
    leader_cols = _aligned(leaders, ts, None)
    sizes = trace.select("kafka_broker_log_dir_usable_bytes", cluster=cluster)
    totals = {(s.labels.get("broker_id"), s.labels.get("log_dir")): s
              for s in trace.select("kafka_broker_log_dir_total_bytes", cluster=cluster)}
    size_pairs = [(s.labels.get("broker_id"), s, totals.get((s.labels.get("broker_id"), s.labels.get("log_dir"))))
                  for s in sizes]
    disk_pairs = [(b, u, t) for b, u, t in size_pairs if t is not None]
    usable_cols = _aligned([u for _, u, _ in disk_pairs], ts, None)
    total_cols = _aligned([t for _, _, t in disk_pairs], ts, None)
    lead = trace.select("kafka_broker_leader_partitions", cluster=cluster)
    lead_cols = _aligned(lead, ts, None)
    brokers = single("kafka_brokers", {"cluster": cluster}, None)
    frozen = _frozen_partitions(trace, gt, ts)

    samples = []
    for k, t in enumerate(ts):
        state = "Unknown"
        for name, col in zip(state_names, state_cols, strict=True):
            if col[k] == 1:
                state = name
                break
        disk = None
        if disk_pairs:
            leading = {str(int(v)) for v in (c[k] for c in leader_cols) if v is not None and v >= 0}
            best = None
            for (broker, _, _), ucol, tcol in zip(disk_pairs, usable_cols, total_cols, strict=True):
                if leading and broker not in leading:
                    continue
                used, total = ucol[k], tcol[k]
                if used is None or not total:
                    continue
                ratio = 1.0 - used / total
                best = ratio if best is None else max(best, ratio)
            disk = best
        share = None
        counts = [v for v in (c[k] for c in lead_cols) if v is not None]
        if counts and sum(counts) > 0:
            share = max(counts) / (sum(counts) / len(counts))
        samples.append(GroupTopicSample(
            cluster=cluster, group=consumergroup, topic=topic, timestamp=t,
            lag=int(lag[k]),
            log_end_offset=int(log_end[k]),
            committed_offset=int(committed[k] or 0),
            lag_seconds=lag_seconds[k],
            members=int(members[k] or 0),
            state=state,
            rebalances_total=int(rebalances[k] or 0),
            lost_messages_total=int(lost[k] or 0),
            retention_seconds=retention[k],
            leader_changes_total=int(leader_changes[k]),
            under_replicated_partitions=int(under[k]),
            offline_partitions=int(offline[k]),
            consumer_cpu_ratio=cpu[k],
            disk_used_ratio=disk,
            broker_leader_share_ratio=share,
            brokers=int(b) if (b := brokers[k]) is not None else None,
            partitions=frozen[k][0] if frozen else None,
            frozen_partitions=frozen[k][1] if frozen else None,
            frozen_partition_ids=frozen[k][2] if frozen else (),
        ))
    return samples


def _frozen_partitions(trace: Trace, gt: dict[str, str], ts: Sequence[float]
                       ) -> list[tuple[int, int, tuple[int, ...]]]:
    """Per timestamp (partitions, frozen partitions, ids of the most lagging frozen ones) from the per-partition
    committed offsets and lags of the subject. A trace has no per-partition message age, so a partition's age is
    the time since its committed offset last moved while it had lag (the exporter's own samples use the oldest
    unconsumed message's age; both exceed FROZEN_SECONDS only on a partition that stopped)."""
    from kafka_detective.signals.samples import frozen_partitions

    offsets = trace.select("kafka_consumergroup_current_offset", **gt)
    lags = {s.labels.get("partition"): s for s in trace.select("kafka_consumergroup_lag", **gt)}
    candidates = [(s.labels.get("partition"), s, lags.get(s.labels.get("partition"))) for s in offsets]
    pairs = [(p, o, g) for p, o, g in candidates if p is not None and p.isdigit() and g is not None]
    if not pairs:
        return []
    ocols = _aligned([o for _, o, _ in pairs], ts, None)
    gcols = _aligned([g for _, _, g in pairs], ts, None)
    moved = [ts[0]] * len(pairs)
    last: list[float | None] = [None] * len(pairs)
    out = []
    for k, t in enumerate(ts):
        ages: dict[int, tuple[int, float]] = {}
        for j, (p, _, _) in enumerate(pairs):
            off, lag = ocols[j][k], gcols[j][k]
            if off is None or lag is None:
                continue
            if last[j] is None or off != last[j] or lag <= 0:
                moved[j] = t
            last[j] = off
            ages[int(p)] = (int(lag), t - moved[j] if lag > 0 else 0.0)
        n, ids = frozen_partitions(ages)
        out.append((len(ages), n, ids))
    return out
