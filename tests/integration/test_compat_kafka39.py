"""The core of the integration suite against Apache Kafka 3.9, the last 3.x line (KRaft, classic groups only).

The same checks as test_exporter.py's and test_groups.py's core, on a broker of another major release: lag,
committed and log-end offsets equal what Kafka 3.9's own consumer-groups tool says; group states and members
follow a live member through Stable, Empty and deletion; log-start offsets and lost messages after
DeleteRecords. Every cycle must succeed with no failed phase: a 3.9 broker lacks APIs a 4.x broker has
(ConsumerGroupDescribe for KIP-848 groups is early access there, off by default), which the exporter must not
need for classic groups.

The broker is this module's own (`kafka39`, one node); its jars come from Maven Central like the default
version's (scripts/setup.sh fetches them in advance). Versions: `COMPAT_KAFKA_VERSIONS` in kafka_distribution.py.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from kafka_detective.config import parse_config
from kafka_detective.gathering import offsets
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.kafka_distribution import COMPAT_KAFKA_VERSIONS, ensure_kafka_distribution, find_java
from kafka_detective_tools.sandbox.local_kafka import LocalKafka

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import Samples, assert_group_equals_the_tool, one, pick, series, subscribed_consumer

pytestmark = pytest.mark.kafka

VERSION = next(v for v in COMPAT_KAFKA_VERSIONS if v.startswith("3.9."))


@pytest.fixture(scope="module")
def kafka39() -> Iterator[LocalKafka]:
    with LocalKafka(brokers=1, kafka_version=VERSION) as cluster:
        yield cluster


@pytest.fixture
def tools39(monkeypatch: pytest.MonkeyPatch) -> None:
    """kafka_tools runs Kafka 3.9's own tools, from the 3.9 jars, instead of the default version's."""
    libs = ensure_kafka_distribution(version=VERSION)
    monkeypatch.setattr(kafka_tools, "_java_and_libs", lambda: (find_java(), libs))


def _wait(what: str, check: Callable[[], Any], timeout: float = 60.0, poll: Callable[[], Any] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if poll is not None:
            poll()
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.2)


def _topic(kafka: LocalKafka, counts: tuple[int, ...]) -> str:
    """A new topic with `counts[p]` messages in partition p, every partition led."""
    name = f"compat-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, client_id="tests-compat")
    try:
        admin.create_topics({name: {"num_partitions": len(counts), "replication_factor": 1}}, wait_for_metadata=True)
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=0)
    try:
        for partition, count in enumerate(counts):
            for _ in range(count):
                producer.send(name, b"m", partition=partition)
        producer.flush(60)
    finally:
        producer.close()
    return name


def _admin_commit(kafka: LocalKafka, group: str, offsets: dict[TopicPartition, int]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, client_id="tests-compat")
    try:
        def attempt() -> bool:
            errors = admin.alter_group_offsets(group, {tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
            return all(e.errno == 0 for e in errors.values())
        _wait(f"an admin commit for {group}", attempt)
    finally:
        admin.close()


def _collector(kafka: LocalKafka) -> ClusterCollector:
    config = parse_config({"clusters": [{"name": "k39", "bootstrap_servers": kafka.bootstrap_servers.split(",")}]})
    return ClusterCollector(config.clusters[0], Exposition(), config.config_refresh_seconds, config.analysis)


def _cycle(collector: ClusterCollector) -> Samples:
    snapshot = collector.run_cycle()
    assert snapshot.failed_phases == frozenset(), collector.last_error
    return series(collector)


def test_lag_offsets_and_members_equal_kafka_39s_consumer_groups_tool(kafka39: LocalKafka, tools39: None) -> None:
    bootstrap = kafka39.bootstrap_servers
    topic = _topic(kafka39, (30, 10, 0))
    _admin_commit(kafka39, "c39-admin", {TopicPartition(topic, 0): 10, TopicPartition(topic, 1): 4})
    member = subscribed_consumer(topic, 3, bootstrap_servers=bootstrap, group_id="c39-live",
                                 auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=25)
    try:
        seen: list[int] = []
        _wait("the member to read 25 messages", lambda: sum(seen) >= 25,
              poll=lambda: seen.extend(len(r) for r in member.poll(200, max_records=25 - sum(seen)).values()))
        member.commit()
        samples = _cycle(_collector(kafka39))
        assert kafka_tools.describe_group_state(bootstrap, "c39-live")["state"] == "Stable"
        for group in ("c39-admin", "c39-live"):
            assert_group_equals_the_tool(samples, bootstrap, group)
        assert one(samples, "kafka_consumergroup_lag_sum", consumergroup="c39-admin", topic=topic) == 20 + 6
        assert one(samples, "kafka_consumergroup_lag_sum", consumergroup="c39-live", topic=topic) == 40 - 25
        (info,) = pick(samples, "kafka_consumergroup_info", consumergroup="c39-live")
        assert dict(info)["protocol"] == "classic"
    finally:
        member.close()


def test_group_states_follow_a_member_through_empty_and_deletion(kafka39: LocalKafka, tools39: None) -> None:
    bootstrap = kafka39.bootstrap_servers
    topic = _topic(kafka39, (5, 5))
    collector = _collector(kafka39)
    member: KafkaConsumer | None = subscribed_consumer(topic, 2, bootstrap_servers=bootstrap, group_id="c39-life",
                                                       auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        assert member is not None
        _wait("the member to own both partitions", lambda: len(member.assignment()) == 2,
              poll=lambda: member.poll(100))
        member.commit({TopicPartition(topic, p): OffsetAndMetadata(3, "", -1) for p in (0, 1)})
        samples = _cycle(collector)
        assert one(samples, "kafka_consumergroup_state", consumergroup="c39-life", state="Stable") == 1
        assert one(samples, "kafka_consumergroup_members", consumergroup="c39-life") == 1
        member.close()
        member = None
        _wait("the group to be Empty", lambda: kafka_tools.describe_group_state(bootstrap, "c39-life")["state"]
              == "Empty")
        samples = _cycle(collector)
        assert one(samples, "kafka_consumergroup_state", consumergroup="c39-life", state="Empty") == 1
        assert one(samples, "kafka_consumergroup_members", consumergroup="c39-life") == 0
        assert one(samples, "kafka_consumergroup_lag_sum", consumergroup="c39-life", topic=topic) == 4
        kafka_tools.delete_group(bootstrap, "c39-life")
        samples = _cycle(collector)
        assert not [k for values in samples.values() for k in values if ("consumergroup", "c39-life") in k]
    finally:
        if member is not None:
            member.close()


def test_log_start_offsets_and_lost_messages_after_delete_records(kafka39: LocalKafka,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Log-start offsets are read every cycle here (by default every minute, gathering/offsets.py): this test is
    # about what a new log-start offset does to the series, not about how often it is read.
    monkeypatch.setattr(offsets, "LOG_START_REFRESH_SECONDS", 0.0)
    topic = _topic(kafka39, (100,))
    _admin_commit(kafka39, "c39-lost", {TopicPartition(topic, 0): 30})
    collector = _collector(kafka39)
    samples = _cycle(collector)
    assert one(samples, "kafka_topic_partition_oldest_offset", topic=topic, partition="0") == 0
    assert one(samples, "kafka_topic_partition_current_offset", topic=topic, partition="0") == 100
    admin = KafkaAdminClient(bootstrap_servers=kafka39.bootstrap_servers, client_id="tests-compat")
    try:
        admin.delete_records({TopicPartition(topic, 0): 75})
    finally:
        admin.close()
    samples = _cycle(collector)
    labels = {"consumergroup": "c39-lost", "topic": topic}
    assert one(samples, "kafka_topic_partition_oldest_offset", topic=topic, partition="0") == 75
    assert one(samples, "kafka_consumergroup_lost_messages", partition="0", **labels) == 45
    assert one(samples, "kafka_consumergroup_lost_messages_total", **labels) == 45
    assert one(samples, "kafka_consumergroup_lag_sum", **labels) == 70
