"""Where the offline CLI gets the history of one subject (cluster, consumer group, topic) from.

* a trace file (`--trace FILE`), read with `kafka_detective_tools.scenarios.trace`;
* the Prometheus HTTP API (`--prometheus URL`): one `/api/v1/query_range` per signal, using the exporter's
  metric names, aligned on the timestamps of `kafka_consumergroup_lag_sum`.

Both return `list[GroupTopicSample]`, oldest first, so the analysis code is the same as the exporter's.
Every failure (unreachable Prometheus, empty answer, malformed trace, ambiguous subject) is a `UserError`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime

from kafka_detective.durations import format_duration, parse_duration
from kafka_detective.errors import UserError
from kafka_detective.prometheus_api import MAX_POINTS_PER_SERIES, Prometheus, selector, series_points
from kafka_detective.signals.samples import GroupTopicSample

CPU_RECORDING_RULE = "consumergroup:cpu_utilisation:ratio"


def parse_time(text: str | float | datetime | None, default: float | None = None) -> float:
    """Unix seconds or RFC 3339 / ISO 8601 ('2026-11-27T03:00:00Z') -> unix seconds; `now` -> now.
    A YAML value may already be a number or a datetime."""
    if text is None or text == "" or text == "now":
        return time.time() if default is None else default
    if isinstance(text, int | float):
        return float(text)
    if isinstance(text, datetime):
        return text.timestamp()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise UserError(f"invalid time {text!r} (use unix seconds or RFC 3339, e.g. 2026-11-27T03:00:00Z)") from None


# --- trace ------------------------------------------------------------------------------------------------


@dataclass
class Subject:
    cluster: str
    group: str
    topic: str


def _pick_subject(subjects: list[tuple[str, str, str]], cluster: str | None, group: str, topic: str | None,
                  where: str) -> Subject:
    matches = [s for s in subjects if s[1] == group and (topic is None or s[2] == topic)
               and (cluster is None or s[0] == cluster)]
    if not matches:
        groups = sorted({f"{g}/{t}" + (f" (cluster {c})" if c else "") for c, g, t in subjects})
        shown = ", ".join(groups[:8]) + (" ..." if len(groups) > 8 else "")
        what = f"group {group!r}" + (f" topic {topic!r}" if topic else "") + (f" cluster {cluster!r}" if cluster
                                                                             else "")
        raise UserError(f"{where} has no lag series for {what}; it has: {shown or 'none'}")
    if len({m[0] for m in matches}) > 1:
        raise UserError(f"{where}: group {group!r} exists in several clusters "
                        f"({', '.join(sorted({m[0] for m in matches}))}); pass --cluster")
    if len({m[2] for m in matches}) > 1:
        raise UserError(f"{where}: group {group!r} consumes several topics "
                        f"({', '.join(sorted({m[2] for m in matches}))}); pass --topic")
    c, g, t = matches[0]
    return Subject(c, g, t)


def samples_from_trace_file(path: str, group: str, topic: str | None = None, cluster: str | None = None,
                            since: float | None = None, until: float | None = None
                            ) -> tuple[Subject, list[GroupTopicSample]]:
    """(subject, history) of the group on the topic in the trace: up to `until` (unix seconds) when given, then
    the last `since` seconds of that when given."""
    from kafka_detective_tools.scenarios.trace import load_trace, samples_from_trace

    trace = load_trace(path)
    subject = _pick_subject(trace.subjects(), cluster, group, topic, f"trace {path}")
    samples = samples_from_trace(trace, subject.cluster, subject.group, subject.topic)
    if until is not None:
        samples = [s for s in samples if s.timestamp <= until]
    if since is not None and samples:
        cutoff = samples[-1].timestamp - since
        samples = [s for s in samples if s.timestamp >= cutoff]
    if len(samples) < 2:
        where = " in the selected range" if since is not None or until is not None else ""
        raise UserError(f"trace {path}: fewer than 2 samples for {subject.group}/{subject.topic}{where}")
    return subject, samples


# --- Prometheus -------------------------------------------------------------------------------------------


def auto_step(start: float, end: float) -> float:
    """About 700 points over the range, at least 15 s, rounded to whole seconds."""
    return float(max(15, math.ceil((end - start) / 700)))


def subject_queries(cluster: str, group: str, topic: str, cpu_query: str | None = None,
                    disk_query: str | None = None) -> dict[str, str]:
    """PromQL per sample field for one subject, with the exporter's metric names."""
    gt = selector(cluster=cluster, consumergroup=group, topic=topic)
    g = selector(cluster=cluster, consumergroup=group)
    tp = selector(cluster=cluster, topic=topic)
    c = selector(cluster=cluster)
    return {
        "lag": f"sum(kafka_consumergroup_lag_sum{gt})",
        "log_end_offset": f"sum(kafka_topic_partition_current_offset{tp})",
        "committed_offset": f"sum(kafka_consumergroup_current_offset_sum{gt})",
        "lag_seconds": f"max(kafka_consumergroup_max_lag_seconds{gt})",
        "members": f"max(kafka_consumergroup_members{g})",
        "state": f"max by (state) (kafka_consumergroup_state{g}) == 1",
        "rebalances_total": f"max(kafka_consumergroup_rebalances_total{g})",
        "lost_messages_total": f"sum(kafka_consumergroup_lost_messages_total{gt})",
        "retention_seconds": f"max(kafka_topic_retention_seconds{tp})",
        "leader_changes_total": f"sum(kafka_topic_partition_leader_changes_total{tp})",
        "under_replicated_partitions": f"sum(kafka_topic_partition_under_replicated_partition{tp})",
        "offline_partitions": f"sum(kafka_topic_partition_offline{tp})",
        "consumer_cpu_ratio": cpu_query or f"max({CPU_RECORDING_RULE}{g})",
        "disk_used_ratio": disk_query or (f"max(1 - kafka_broker_log_dir_usable_bytes{c} "
                                          f"/ kafka_broker_log_dir_total_bytes{c})"),
        "broker_leader_share_ratio": (f"max(kafka_broker_leader_partitions{c}) "
                                      f"/ avg(kafka_broker_leader_partitions{c})"),
        "brokers": f"max(kafka_brokers{c})",
    }


def _points(result: list[dict]) -> dict[float, float]:
    """Timestamp -> value of the first series in a query_range result (NaN dropped)."""
    return series_points(result[0]) if result else {}


def _hold(points: dict[float, float], ts: list[float], default: float | None) -> list[float | None]:
    keys = sorted(points)
    out: list[float | None] = []
    j, current = 0, default
    for t in ts:
        while j < len(keys) and keys[j] <= t + 1e-6:
            current = points[keys[j]]
            j += 1
        out.append(current)
    return out


def resolve_prometheus_subject(prom: Prometheus, group: str, topic: str | None, cluster: str | None,
                               start: float, end: float) -> Subject:
    sel = selector(cluster=cluster, consumergroup=group, topic=topic)
    query = f"count by (cluster, consumergroup, topic) (last_over_time(kafka_consumergroup_lag_sum{sel}" \
            f"[{format_duration(max(60.0, end - start))}]))"
    result = prom.query(query, at=end)
    subjects = [(r["metric"].get("cluster", ""), r["metric"].get("consumergroup", ""), r["metric"].get("topic", ""))
                for r in result]
    if not subjects:
        raise UserError(f"Prometheus at {prom.shown_url} has no kafka_consumergroup_lag_sum{sel} in the range "
                        f"(is the exporter scraped? check --group/--topic/--cluster and --since)")
    return _pick_subject(subjects, cluster, group, topic, f"Prometheus at {prom.shown_url}")


def samples_from_prometheus(url: str, group: str, topic: str | None = None, cluster: str | None = None, *,
                            start: float, end: float, step: float | None = None, cpu_query: str | None = None,
                            disk_query: str | None = None, timeout: float = 30.0
                            ) -> tuple[Subject, list[GroupTopicSample]]:
    """(subject, history) from Prometheus between start and end (unix seconds)."""
    prom = Prometheus(url, timeout=timeout)
    step = step or auto_step(start, end)
    if (end - start) / step > MAX_POINTS_PER_SERIES:
        raise UserError(f"range / step gives more than {MAX_POINTS_PER_SERIES} points; use a larger --step than "
                        f"{step:g}s")
    subject = resolve_prometheus_subject(prom, group, topic, cluster, start, end)
    queries = subject_queries(subject.cluster, subject.group, subject.topic, cpu_query, disk_query)
    lag_points = _points(prom.query_range(queries["lag"], start, end, step))
    if len(lag_points) < 2:
        raise UserError(f"query returned fewer than 2 points: {queries['lag']} (range too short or no data)")
    ts = sorted(lag_points)
    cols: dict[str, list] = {}
    for name, q in queries.items():
        if name in ("lag", "state"):
            continue
        result = prom.query_range(q, start, end, step)
        if name == "consumer_cpu_ratio" and cpu_query and not result:
            raise UserError(f"--cpu-query returned nothing: {cpu_query}")
        cols[name] = _hold(_points(result), ts, None)
    states = {}
    for series in prom.query_range(queries["state"], start, end, step):
        name = series["metric"].get("state", "Unknown")
        for t_, _ in series.get("values", []):
            states[round(float(t_), 3)] = name
    state_col = [states.get(t, "Unknown") for t in ts]
    samples = []
    for k, t in enumerate(ts):
        lag = lag_points[t]
        committed = cols["committed_offset"][k]
        log_end = cols["log_end_offset"][k]
        if log_end is None:
            log_end = (committed or 0.0) + lag
        samples.append(GroupTopicSample(
            cluster=subject.cluster, group=subject.group, topic=subject.topic, timestamp=t,
            lag=int(lag), log_end_offset=int(log_end), committed_offset=int(committed or 0),
            lag_seconds=cols["lag_seconds"][k], members=int(cols["members"][k] or 0), state=state_col[k],
            rebalances_total=int(cols["rebalances_total"][k] or 0),
            lost_messages_total=int(cols["lost_messages_total"][k] or 0),
            retention_seconds=cols["retention_seconds"][k],
            leader_changes_total=int(cols["leader_changes_total"][k] or 0),
            under_replicated_partitions=int(cols["under_replicated_partitions"][k] or 0),
            offline_partitions=int(cols["offline_partitions"][k] or 0),
            consumer_cpu_ratio=cols["consumer_cpu_ratio"][k],
            disk_used_ratio=cols["disk_used_ratio"][k],
            broker_leader_share_ratio=cols["broker_leader_share_ratio"][k],
            brokers=int(b) if (b := cols["brokers"][k]) is not None else None,
        ))
    return subject, samples


# --- shared CLI plumbing ----------------------------------------------------------------------------------


def add_source_arguments(parser, topic_required: bool = False) -> None:
    """--trace/--prometheus and the subject/time flags shared by investigate, correlate and learn."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--trace", metavar="FILE", help="OpenMetrics trace file (scenario library format)")
    src.add_argument("--prometheus", metavar="URL", help="Prometheus base URL, e.g. http://localhost:9090")
    parser.add_argument("--group", required=True, help="consumer group")
    parser.add_argument("--topic", required=topic_required, help="topic (optional when the group has one)")
    parser.add_argument("--cluster", help="cluster label (optional when unambiguous)")
    parser.add_argument("--since", default=None,
                        help="how far back to look, e.g. 30m, 6h, 2d (default: 6h for Prometheus, the whole trace)")
    parser.add_argument("--until", default=None,
                        help="end of the range: unix seconds or RFC 3339 (default: now, or the trace's end)")
    parser.add_argument("--step", default=None, help="query_range step, e.g. 15s, 1m (default: range/700, >=15s)")
    parser.add_argument("--cpu-query", default=None,
                        help="PromQL giving the consumers' CPU utilisation 0-1 (default: the recording rule "
                        f"{CPU_RECORDING_RULE}{{cluster,consumergroup}} when it exists)")
    parser.add_argument("--disk-query", default=None, help="PromQL giving the brokers' max disk used ratio 0-1")
    from kafka_detective.commands._argtypes import positive_float

    parser.add_argument("--timeout", type=positive_float, default=30.0, help="HTTP timeout in seconds (default 30)")


def load_history(args) -> tuple[Subject, list[GroupTopicSample]]:
    since = parse_duration(args.since) if args.since else None
    if getattr(args, "trace", None):
        return samples_from_trace_file(args.trace, args.group, args.topic, args.cluster, since=since,
                                       until=parse_time(args.until) if args.until else None)
    end = parse_time(args.until)
    start = end - (since or 6 * 3600.0)
    step = parse_duration(args.step) if args.step else None
    return samples_from_prometheus(args.prometheus, args.group, args.topic, args.cluster, start=start, end=end,
                                   step=step, cpu_query=args.cpu_query, disk_query=args.disk_query,
                                   timeout=args.timeout)
