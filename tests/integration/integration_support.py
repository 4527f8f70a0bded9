"""Helpers of the integration tests (imported via sys.path, like tests/e2e/e2e_support.py): reading a collector's
rendered exposition back as series, with prometheus_client's parser, waiting on a condition, and waiting until a
kafka-python consumer knows its topic before it joins a group."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective_tools.sandbox import kafka_tools

Samples = dict[str, dict[tuple, float]]


def series(collector: ClusterCollector) -> Samples:
    """Family name -> {sorted label items: value}, parsed from the rendered exposition text."""
    text = collector.exposition.static_body().decode()
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def pick(samples: Samples, name: str, **labels: str) -> dict[tuple, float]:
    wanted = set(labels.items())
    return {k: v for k, v in samples.get(name, {}).items() if wanted <= set(k)}


def one(samples: Samples, name: str, **labels: str) -> float:
    found = pick(samples, name, **labels)
    assert len(found) == 1, f"{name}{labels}: {found}"
    return next(iter(found.values()))


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """The first truthy value of ``predicate()``, polled every ``interval`` s; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def assert_group_equals_the_tool(samples: Samples, bootstrap: str, group: str) -> None:
    """Offsets, lag, members and state of `group` in the exporter's samples equal what Kafka's own
    kafka-consumer-groups.sh reports (partitions without a commit have no lag series)."""
    rows = kafka_tools.describe_group_offsets(bootstrap, group)
    assert rows, group
    for row in rows:
        labels = {"consumergroup": group, "topic": row["topic"], "partition": str(row["partition"])}
        assert one(samples, "kafka_topic_partition_current_offset", topic=row["topic"],
                   partition=str(row["partition"])) == row["log_end_offset"]
        if row["current_offset"] is None:
            assert not pick(samples, "kafka_consumergroup_lag", **labels), "no commit: no lag series"
            continue
        assert one(samples, "kafka_consumergroup_current_offset", **labels) == row["current_offset"]
        assert one(samples, "kafka_consumergroup_lag", **labels) == row["lag"]
    state = kafka_tools.describe_group_state(bootstrap, group)
    assert one(samples, "kafka_consumergroup_members", consumergroup=group) == state["members"]
    assert one(samples, "kafka_consumergroup_state", consumergroup=group, state=state["state"]) == 1


def wait_for_consumer_metadata(consumer: KafkaConsumer, topic: str, partitions: int | None = None,
                               timeout: float = 60.0) -> None:
    """Block until ``consumer``'s own metadata has a leader for each of the ``partitions`` of ``topic`` (default:
    every partition its metadata lists, at least one).

    Call it after subscribing and before the first poll. kafka-python (3.0.12), unlike the Java client, joins the
    group before its metadata knows the subscribed topic: the range assignor then logs "No partition metadata for
    topic" and hands out nothing, and the metadata that arrives a moment later forces a second rebalance. In about
    one of twenty runs on a loaded machine that second rebalance never completes on the client (the SyncGroup
    answer with every partition arrives, the assignment is never applied), so the member sits with an empty
    assignment() for good. Joining with the metadata already known makes the first assignment the final one.
    """
    cluster: Any = consumer._cluster  # kafka-python keeps no public view of partition leaders

    def ready() -> bool:
        led = cluster.available_partitions_for_topic(topic) or set()
        if partitions is not None:
            return len(led) >= partitions
        return bool(led) and led == (cluster.partitions_for_topic(topic) or set())

    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"consumer metadata has no leader for every partition of {topic} after {timeout}s: "
                                 f"{cluster.available_partitions_for_topic(topic)}")
        # A response to an earlier metadata request may clear the client's "update needed" flag, after which its
        # timer alone would wait 5 minutes: ask again (this never blocks, the client's own thread fetches).
        cluster.request_update()
        time.sleep(0.05)


def subscribed_consumer(topic: str, partitions: int | None = None, **config: Any) -> KafkaConsumer:
    """A kafka-python consumer subscribed to ``topic`` whose metadata already knows every partition's leader."""
    consumer = KafkaConsumer(topic, **config)
    try:
        wait_for_consumer_metadata(consumer, topic, partitions)
    except BaseException:
        consumer.close()
        raise
    return consumer
