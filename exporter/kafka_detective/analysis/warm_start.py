"""Warm start: refill the online analytics from the Prometheus that scrapes the exporter.

Baselines, seasonal profiles, anomaly detectors and histories live in memory, so a restarted exporter would be
blind to produce/consume rates and seasonality until it has seen them again. With `analysis.warm_start_url`
set, each cluster's collection thread first reads back the exporter's own series over the last
`analysis.warm_start_lookback_seconds` (default: `analysis.history_seconds`) with one `query_range` per sample
field, at the collection interval as step, and replays them oldest first through
`OnlineAnalytics.replay` before its first live cycle.

A warm start is best effort: whatever goes wrong (Prometheus down, a wrong URL, an auth failure, an unexpected
answer) logs one warning and the exporter starts cold. It runs in the collection thread, so /metrics is served
meanwhile, and it is bounded by `WARM_START_TIMEOUT_SECONDS` in total.
"""

from __future__ import annotations

import logging
import math
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.durations import format_duration
from kafka_detective.kafka.redaction import redact_url
from kafka_detective.prometheus_api import MAX_POINTS_PER_SERIES, Prometheus, selector, series_points
from kafka_detective.signals.samples import GroupTopicSample

log = logging.getLogger(__name__)

WARM_START_TIMEOUT_SECONDS = 30.0
# Replayed samples at most (subjects x points): the step grows beyond that. A replayed sample costs ~50 us,
# so this keeps the replay near 10 s; what the budget has no time left for is not replayed.
MAX_SAMPLES = 200_000

# Sample field -> (labels its series are keyed by, PromQL template over the cluster selector `{sel}`).
# `max by` the exporter's own labels collapses duplicates when two exporter replicas are scraped;
# per-partition series are summed per topic after that, as group_topic_samples does.
_GT = ("consumergroup", "topic")
_QUERIES: dict[str, tuple[tuple[str, ...], str]] = {
    "lag": (_GT, "max by (consumergroup, topic) (kafka_consumergroup_lag_sum{sel})"),
    "committed_offset": (_GT, "max by (consumergroup, topic) (kafka_consumergroup_current_offset_sum{sel})"),
    "lag_seconds": (_GT, "max by (consumergroup, topic) (kafka_consumergroup_max_lag_seconds{sel})"),
    "lost_messages_total": (_GT, "max by (consumergroup, topic) (kafka_consumergroup_lost_messages_total{sel})"),
    "members": (("consumergroup",), "max by (consumergroup) (kafka_consumergroup_members{sel})"),
    "rebalances_total": (("consumergroup",), "max by (consumergroup) (kafka_consumergroup_rebalances_total{sel})"),
    "state": (("consumergroup", "state"), "max by (consumergroup, state) (kafka_consumergroup_state{sel}) == 1"),
    "log_end_offset": (("topic",), "sum by (topic) (max by (topic, partition) "
                                   "(kafka_topic_partition_current_offset{sel}))"),
    "retention_seconds": (("topic",), "max by (topic) (kafka_topic_retention_seconds{sel})"),
    "leader_changes_total": (("topic",), "sum by (topic) (max by (topic, partition) "
                                         "(kafka_topic_partition_leader_changes_total{sel}))"),
    "under_replicated_partitions": (("topic",), "sum by (topic) (max by (topic, partition) "
                                                "(kafka_topic_partition_under_replicated_partition{sel}))"),
    "offline_partitions": (("topic",), "sum by (topic) (max by (topic, partition) "
                                       "(kafka_topic_partition_offline{sel}))"),
    "brokers": ((), "max(kafka_brokers{sel})"),
}

QueryRange = Mapping[str, list[dict[str, Any]]]   # field -> the `result` of its query_range (a matrix)


def warm_start_queries(cluster: str) -> dict[str, str]:
    """PromQL per sample field for every group/topic of one cluster, with the exporter's metric names."""
    sel = selector(cluster=cluster)
    return {name: template.replace("{sel}", sel) for name, (_, template) in _QUERIES.items()}


def _series(result: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple[str, ...], dict[float, float]]:
    """Label values -> {timestamp: value} of a matrix result; NaN and infinities are dropped."""
    out: dict[tuple[str, ...], dict[float, float]] = {}
    for series in result:
        metric = series.get("metric") or {}
        key = tuple(str(metric.get(k, "")) for k in keys)
        out.setdefault(key, {}).update(series_points(series))
    return out


def samples_from_query_range(cluster: str, results: QueryRange) -> list[list[GroupTopicSample]]:
    """One batch of samples per timestamp, oldest first, from the answers to `warm_start_queries`.

    A group/topic has a sample wherever its lag has a point (all queries share one start, end and step, so their
    timestamps coincide); a missing field takes the value a live cycle would give when the exporter knows nothing
    of it (no log-end offset: committed + lag, no members, state Unknown, counters 0)."""
    fields = {name: _series(results.get(name) or [], keys) for name, (keys, _) in _QUERIES.items()}
    states: dict[tuple[str, float], str] = {}
    for (group, state), points in fields.pop("state").items():
        for t in points:
            states[(group, t)] = state
    batches: dict[float, list[GroupTopicSample]] = defaultdict(list)
    for (group, topic), lag_points in sorted(fields["lag"].items()):
        gt = (group, topic)
        for t, lag in lag_points.items():
            def at(name: str, key: tuple[str, ...], t: float = t) -> float | None:
                return fields[name].get(key, {}).get(t)

            committed = at("committed_offset", gt)
            log_end = at("log_end_offset", (topic,))
            if log_end is None:
                log_end = (committed or 0.0) + lag
            batches[t].append(GroupTopicSample(
                cluster=cluster, group=group, topic=topic, timestamp=t, lag=int(lag),
                log_end_offset=int(log_end), committed_offset=int(committed or 0),
                lag_seconds=at("lag_seconds", gt), members=int(at("members", (group,)) or 0),
                state=states.get((group, t), "Unknown"),
                rebalances_total=int(at("rebalances_total", (group,)) or 0),
                lost_messages_total=int(at("lost_messages_total", gt) or 0),
                retention_seconds=at("retention_seconds", (topic,)),
                leader_changes_total=int(at("leader_changes_total", (topic,)) or 0),
                under_replicated_partitions=int(at("under_replicated_partitions", (topic,)) or 0),
                offline_partitions=int(at("offline_partitions", (topic,)) or 0),
                brokers=int(b) if (b := at("brokers", ())) is not None else None,
            ))
    return [batches[t] for t in sorted(batches)]


def choose_step(lookback: float, interval: float, subjects: int) -> float:
    """The collection interval, made coarser only to stay within Prometheus' and the replay's limits."""
    step = max(float(interval), lookback / MAX_POINTS_PER_SERIES, lookback * max(1, subjects) / MAX_SAMPLES)
    return float(math.ceil(step * 1000) / 1000)


class _Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("took longer than the warm-start budget")
        return left


def fetch_query_range(url: str, cluster: str, lookback: float, interval: float, now: float | None = None,
                      timeout: float = WARM_START_TIMEOUT_SECONDS, budget: _Budget | None = None
                      ) -> tuple[dict[str, list[dict[str, Any]]], float]:
    """(field -> query_range result, step) for the last `lookback` seconds of one cluster's series."""
    budget = budget or _Budget(timeout)
    end = time.time() if now is None else now
    start = end - lookback
    sel = selector(cluster=cluster)
    prom = Prometheus(url, timeout=budget.left())
    counted = prom.query(f"count(count by (consumergroup, topic) (last_over_time(kafka_consumergroup_lag_sum{sel}"
                         f"[{format_duration(lookback)}])))", at=end)
    subjects = int(float(counted[0]["value"][1])) if counted else 0
    step = choose_step(lookback, interval, subjects)
    results: dict[str, list[dict[str, Any]]] = {}
    if subjects == 0:
        return results, step
    for name, query in warm_start_queries(cluster).items():
        prom.timeout = budget.left()
        results[name] = prom.query_range(query, start, end, step)
        if name == "lag" and not results[name]:
            break
    return results, step


def warm_start(analytics: OnlineAnalytics, url: str, cluster: str, lookback: float, interval: float,
               timeout: float = WARM_START_TIMEOUT_SECONDS, owns: Callable[[str], bool] | None = None) -> int:
    """Replay the cluster's recent series from Prometheus into `analytics`; with `owns`, only of the consumer
    groups it accepts (a shard's own: gathering/sharding.py).

    Returns the number of samples replayed; never raises: a failure is one warning and a cold start."""
    shown = redact_url(url)
    started = time.monotonic()
    budget = _Budget(timeout)
    cut: list[float] = []

    def within_budget(batches: list[list[GroupTopicSample]]) -> Iterator[list[GroupTopicSample]]:
        for batch in batches:
            if time.monotonic() >= budget.deadline:
                cut.append(batch[0].timestamp)
                return
            yield batch

    try:
        results, step = fetch_query_range(url, cluster, lookback, interval, budget=budget)
        batches = samples_from_query_range(cluster, results)
        if owns is not None:   # another shard's groups would only be forgotten again after the first cycle
            batches = [mine for batch in batches if (mine := [s for s in batch if owns(s.group)])]
        fed = analytics.replay(within_budget(batches))
    except Exception as error:  # best effort by design: any failure means a cold start, never a dead thread
        reason = str(error).replace(url, shown) or type(error).__name__
        log.warning("cluster %s: warm start from %s failed, starting cold: %s", cluster, shown, reason)
        return 0
    subjects = len({(s.group, s.topic) for batch in batches for s in batch})
    log.info("cluster %s: warm start from %s: %d samples of %d group/topic(s) over the last %s (step %gs) "
             "in %.1fs%s", cluster, shown, fed, subjects, format_duration(lookback), step,
             time.monotonic() - started, f"; out of time before {time.ctime(cut[0])}" if cut else "")
    return fed


def check_url(url: str) -> str | None:
    """Why `url` cannot be a Prometheus base URL, or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if parts.scheme not in ("http", "https"):
        return f"must be an http:// or https:// URL, got {redact_url(url)!r}"
    if not parts.hostname:
        return f"has no host: {redact_url(url)!r}"
    if parts.query or parts.fragment:
        return f"must be a base URL without ?query or #fragment: {redact_url(url)!r}"
    return None

