"""The exporter against a real Kafka broker, checked against Kafka's own consumer-groups command."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import CoordinatorNotAvailableError
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.config import parse_config
from kafka_detective.exporter import Exporter
from kafka_detective.gathering import offsets
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.local_kafka import LocalKafka

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import assert_group_equals_the_tool, one, pick, series, subscribed_consumer, wait_until

pytestmark = pytest.mark.kafka


def collector_for(kafka: LocalKafka, **cluster: object) -> ClusterCollector:
    config = parse_config({"clusters": [{"name": "it", "bootstrap_servers": kafka.bootstrap_servers.split(","),
                                         **cluster}]})
    return ClusterCollector(config.clusters[0], Exposition(), config.config_refresh_seconds, config.analysis)


def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                admin.alter_group_offsets(group, {tp: OffsetAndMetadata(o, "", None) for tp, o in offsets.items()})
                return
            except CoordinatorNotAvailableError:  # the offsets topic is still being created on a fresh broker
                assert time.monotonic() < deadline
                time.sleep(0.5)
    finally:
        admin.close()


def consume_and_commit(bootstrap: str, topic: str, group: str, count: int) -> KafkaConsumer:
    """A live classic-protocol member that consumed and committed `count` messages; the caller closes it."""
    consumer = subscribed_consumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                   enable_auto_commit=False, max_poll_records=count)
    seen = 0
    deadline = time.monotonic() + 60
    while seen < count and time.monotonic() < deadline:
        for records in consumer.poll(500, max_records=count - seen).values():
            seen += len(records)
    assert seen == count
    consumer.commit()
    return consumer


def test_offsets_lag_members_and_state_match_kafkas_consumer_groups_command(kafka, new_topic):
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("orders", partitions=4)
    for partition, count in enumerate((50, 20, 7, 0)):
        if count:
            kafka_tools.produce(bootstrap, topic, count, partition=partition)
    # admin-committed group without members, a live classic member, and a KIP-848 member
    commit(bootstrap, "it-admin", {TopicPartition(topic, 0): 10, TopicPartition(topic, 1): 20})
    live = consume_and_commit(bootstrap, topic, "it-classic", 30)
    kip848 = kafka_tools.start_console_consumer(bootstrap, topic, "it-kip848", protocol="consumer")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # the console consumer's JVM needs a few seconds to start and join
                rows = kafka_tools.describe_group_offsets(bootstrap, "it-kip848")
            except kafka_tools.GroupNotFoundError:
                rows = []
            if len(rows) == 4 and all(r["lag"] == 0 for r in rows):
                break
            assert time.monotonic() < deadline, f"KIP-848 consumer did not catch up: {rows}"
            time.sleep(1)
        collector = collector_for(kafka)
        collector.run_cycle()
        samples = series(collector)
        for group in ("it-admin", "it-classic", "it-kip848"):
            assert_group_equals_the_tool(samples, bootstrap, group)
        info = pick(samples, "kafka_consumergroup_info", consumergroup="it-kip848")
        assert dict(next(iter(info)))["protocol"] == "consumer"
        assert one(samples, "kafka_consumergroup_lag_sum", consumergroup="it-admin", topic=topic) == (50 - 10) + 0
        # partitions 2 and 3 are not committed by it-admin and it has no assignment: no series, no -1 anywhere
        assert all(v >= 0 for v in samples["kafka_consumergroup_lag"].values())
    finally:
        kafka_tools.stop_console_consumer(kip848)
        live.close()


def test_empty_group_keeps_lag_and_deleted_group_disappears(kafka, new_topic):
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("payments", partitions=2)
    kafka_tools.produce(bootstrap, topic, 40)
    member = consume_and_commit(bootstrap, topic, "it-empty", 10)
    collector = collector_for(kafka)
    collector.run_cycle()
    assert one(series(collector), "kafka_consumergroup_members", consumergroup="it-empty") == 1
    member.close()
    deadline = time.monotonic() + 30
    while kafka_tools.describe_group_state(bootstrap, "it-empty")["state"] != "Empty":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    kafka_tools.produce(bootstrap, topic, 20)
    collector.run_cycle()
    samples = series(collector)
    assert one(samples, "kafka_consumergroup_state", consumergroup="it-empty", state="Empty") == 1
    expected = sum(r["lag"] for r in kafka_tools.describe_group_offsets(bootstrap, "it-empty"))
    assert expected == 50
    assert one(samples, "kafka_consumergroup_lag_sum", consumergroup="it-empty", topic=topic) == expected
    assert one(samples, "kafka_consumergroup_max_lag_seconds", consumergroup="it-empty", topic=topic) > 0

    kafka_tools.delete_group(bootstrap, "it-empty")
    collector.run_cycle()
    samples = series(collector)
    for name, values in samples.items():
        assert not [k for k in values if ("consumergroup", "it-empty") in k], name


def test_records_deleted_past_the_committed_offset_show_as_lost_messages(kafka, new_topic, monkeypatch):
    # Log-start offsets are read every cycle here (by default every minute, gathering/offsets.py): this test is
    # about what a new log-start offset does to the series, not about how often it is read.
    monkeypatch.setattr(offsets, "LOG_START_REFRESH_SECONDS", 0.0)
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("vanishing", partitions=1)
    kafka_tools.produce(bootstrap, topic, 100)
    commit(bootstrap, "it-lost", {TopicPartition(topic, 0): 30})
    collector = collector_for(kafka)
    collector.run_cycle()
    labels = {"consumergroup": "it-lost", "topic": topic}
    assert one(series(collector), "kafka_consumergroup_lost_messages_total", **labels) == 0
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_records({TopicPartition(topic, 0): 75})
    finally:
        admin.close()
    collector.run_cycle()
    samples = series(collector)
    assert one(samples, "kafka_topic_partition_oldest_offset", topic=topic, partition="0") == 75
    assert one(samples, "kafka_consumergroup_lost_messages", partition="0", **labels) == 45
    assert one(samples, "kafka_consumergroup_lost_messages_total", **labels) == 45
    collector.run_cycle()  # the same gap is not counted twice
    assert one(series(collector), "kafka_consumergroup_lost_messages_total", **labels) == 45


def test_deleted_topic_leaves_metrics_within_one_cycle(kafka, new_topic):
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("short-lived", partitions=2)
    kafka_tools.produce(bootstrap, topic, 10)
    commit(bootstrap, "it-topic-gone", {TopicPartition(topic, 0): 1})
    collector = collector_for(kafka)
    collector.run_cycle()
    assert pick(series(collector), "kafka_topic_partition_current_offset", topic=topic)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()
    deadline = time.monotonic() + 30
    while True:
        collector.run_cycle()
        samples = series(collector)
        leftovers = {n for n, v in samples.items() for k in v if ("topic", topic) in k}
        if not leftovers:
            break
        assert time.monotonic() < deadline, f"series of deleted topic remain: {leftovers}"
        time.sleep(1)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def value_in(text: str, name: str, **labels: str) -> float | None:
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and labels.items() <= s.labels.items():
                return s.value
    return None


@pytest.fixture
def private_kafka() -> Iterator[LocalKafka]:
    with LocalKafka(brokers=1) as cluster:
        yield cluster


def test_kafka_down_keeps_serving_last_snapshot_and_recovers(private_kafka, new_topic):
    topic = new_topic("survivor", partitions=1, cluster=private_kafka)
    kafka_tools.produce(private_kafka.bootstrap_servers, topic, 5)
    config = parse_config({"listen_address": "127.0.0.1", "listen_port": 0, "interval_seconds": 1,
                           "clusters": [{"name": "it", "request_timeout_seconds": 2,
                                         "bootstrap_servers": private_kafka.bootstrap_servers.split(",")}]})
    with Exporter(config) as exporter:
        def wait_for(predicate, what: str, timeout: float = 60.0) -> str:
            deadline = time.monotonic() + timeout
            while True:
                text = scrape(exporter.port)
                if predicate(text):
                    return text
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                time.sleep(0.5)

        wait_for(lambda t: value_in(t, "kafka_detective_cluster_up", cluster="it") == 1, "up")
        private_kafka.stop_broker(private_kafka.broker_ids[0])
        down = wait_for(lambda t: value_in(t, "kafka_detective_cluster_up", cluster="it") == 0, "down")
        # the last snapshot is still served, and its age is visible
        assert value_in(down, "kafka_topic_partition_current_offset", topic=topic) == 5
        assert value_in(down, "kafka_detective_collection_errors_total", cluster="it", phase="cluster") or \
            value_in(down, "kafka_detective_collection_errors_total", cluster="it", phase="connect")
        assert value_in(down, "kafka_detective_snapshot_age_seconds", cluster="it") is not None
        private_kafka.start_broker(private_kafka.broker_ids[0])
        wait_for(lambda t: value_in(t, "kafka_detective_cluster_up", cluster="it") == 1, "recovery", 90)
        assert exporter.alive()


@pytest.mark.cluster3
def test_broker_loss_shows_leader_changes_and_under_replication(kafka_cluster3, new_topic):
    cluster = kafka_cluster3
    topic = new_topic("replicated", partitions=6, rf=3, cluster=cluster)
    kafka_tools.produce(cluster.bootstrap_servers, topic, 6 * 5)
    commit(cluster.bootstrap_servers, "it-outage", {TopicPartition(topic, p): 2 for p in range(6)})
    collector = collector_for(cluster)
    collector.run_cycle()
    before = series(collector)
    assert one(before, "kafka_brokers") == 3
    assert sum(pick(before, "kafka_topic_partition_under_replicated_partition", topic=topic).values()) == 0
    led = {dict(k)["partition"]: v for k, v in pick(before, "kafka_topic_partition_leader", topic=topic).items()}
    victim = int(max(set(led.values()), key=list(led.values()).count))
    victim_partitions = {p for p, leader in led.items() if leader == victim}
    cluster.kill_broker(victim)
    try:
        deadline = time.monotonic() + 60
        while True:
            collector.run_cycle()
            after = series(collector)
            moved = {dict(k)["partition"]: v for k, v in pick(after, "kafka_topic_partition_leader",
                                                               topic=topic).items()}
            under = sum(pick(after, "kafka_topic_partition_under_replicated_partition", topic=topic).values())
            if all(moved[p] != victim for p in victim_partitions) and under == 6:
                break
            assert time.monotonic() < deadline, f"leaders {moved}, under-replicated {under}"
            time.sleep(1)
        changes = pick(after, "kafka_topic_partition_leader_changes_total", topic=topic)
        assert all(changes[k] >= 1 for k in changes if dict(k)["partition"] in victim_partitions)
        assert one(after, "kafka_detective_cluster_up") == 1
        assert sum(pick(after, "kafka_broker_leader_partitions", broker_id=str(victim)).values()) == 0
        # the dead broker is fenced, not live: kafka_brokers drops once the controller fences it
        deadline = time.monotonic() + 60
        while one(series(collector), "kafka_brokers") != 2:
            assert time.monotonic() < deadline, "killed broker still counted"
            time.sleep(1)
            collector.run_cycle()
        assert not pick(series(collector), "kafka_broker_info", broker_id=str(victim))
        # With the dead broker fenced, every phase succeeds again: group lag must not freeze during an outage.
        collector.run_cycle()
        errors_before = {dict(k)["phase"]: v for k, v in
                         pick(series(collector), "kafka_detective_collection_errors_total").items()}
        kafka_tools.produce(cluster.bootstrap_servers, topic, 12)
        collector.run_cycle()
        during = series(collector)
        errors_after = {dict(k)["phase"]: v for k, v in
                        pick(during, "kafka_detective_collection_errors_total").items()}
        assert errors_after == errors_before
        assert one(during, "kafka_consumergroup_lag_sum", consumergroup="it-outage", topic=topic) == 12 + 6 * 3
    finally:
        cluster.restart_stopped()


def test_unreachable_cluster_does_not_stall_a_healthy_one(kafka):
    config = parse_config({
        "listen_address": "127.0.0.1", "listen_port": 0, "interval_seconds": 1,
        "clusters": [
            {"name": "healthy", "bootstrap_servers": kafka.bootstrap_servers.split(",")},
            # a closed loopback port: connection refused, and the bootstrap waits out its timeout
            {"name": "broken", "bootstrap_servers": ["127.0.0.1:9"], "request_timeout_seconds": 20},
        ],
    })
    with Exporter(config) as exporter:
        # Four healthy cycles well inside the 20 s the broken cluster's bootstrap blocks: a shared loop would
        # show none until that timeout. Waited on, not slept: a loaded machine makes each cycle slower.
        wait_until(lambda: (value_in(scrape(exporter.port), "kafka_detective_collection_cycles_total",
                                     cluster="healthy") or 0) >= 4,
                   15, "four collection cycles of the healthy cluster while the broken one times out")
        text = scrape(exporter.port)
        assert value_in(text, "kafka_detective_cluster_up", cluster="healthy") == 1
        with urllib.request.urlopen(f"http://127.0.0.1:{exporter.port}/healthz", timeout=5) as r:
            assert r.status == 200


def test_readyz_waits_for_the_first_cycle(kafka):
    config = parse_config({"listen_address": "127.0.0.1", "listen_port": 0, "interval_seconds": 30,
                           "clusters": [{"name": "slow", "bootstrap_servers": ["127.0.0.1:9"],
                                         "request_timeout_seconds": 3}]})
    with Exporter(config) as exporter:
        url = f"http://127.0.0.1:{exporter.port}/readyz"
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(url, timeout=5)
        assert not_ready.value.code == 503
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    assert r.status == 200
                    break
            except urllib.error.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        # Kafka unreachable, yet /metrics answers and says so
        assert value_in(scrape(exporter.port), "kafka_detective_cluster_up", cluster="slow") == 0


def test_rebalances_are_counted_for_classic_and_kip848_groups(kafka, new_topic):
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("rebalancing", partitions=4)
    kafka_tools.produce(bootstrap, topic, 20)
    collector = collector_for(kafka)
    first = consume_and_commit(bootstrap, topic, "it-rebalance-classic", 5)
    kip848 = [kafka_tools.start_console_consumer(bootstrap, topic, "it-rebalance-848", protocol="consumer")]
    try:
        def members(group: str, count: int) -> None:
            deadline = time.monotonic() + 60
            while True:
                try:
                    state = kafka_tools.describe_group_state(bootstrap, group)
                except kafka_tools.GroupNotFoundError:
                    state = {}
                if state.get("members") == count and state.get("state") == "Stable":
                    return
                assert time.monotonic() < deadline, f"{group}: {state}"
                time.sleep(0.5)

        members("it-rebalance-848", 1)
        collector.run_cycle()
        base = series(collector)
        classic_before = one(base, "kafka_consumergroup_rebalances_total", consumergroup="it-rebalance-classic")
        epoch_before = one(base, "kafka_consumergroup_epoch", consumergroup="it-rebalance-848")
        kip848.append(kafka_tools.start_console_consumer(bootstrap, topic, "it-rebalance-848", protocol="consumer"))
        second = subscribed_consumer(topic, bootstrap_servers=bootstrap, group_id="it-rebalance-classic",
                                     enable_auto_commit=False)
        deadline = time.monotonic() + 60
        while kafka_tools.describe_group_state(bootstrap, "it-rebalance-classic").get("members") != 2:
            first.poll(200)
            second.poll(200)
            assert time.monotonic() < deadline
        members("it-rebalance-848", 2)
        collector.run_cycle()
        after = series(collector)
        assert one(after, "kafka_consumergroup_rebalances_total", consumergroup="it-rebalance-classic") \
            > classic_before
        epoch_after = one(after, "kafka_consumergroup_epoch", consumergroup="it-rebalance-848")
        assert epoch_after > epoch_before
        assert one(after, "kafka_consumergroup_rebalances_total", consumergroup="it-rebalance-848") \
            == epoch_after - epoch_before
        second.close()
    finally:
        for proc in kip848:
            kafka_tools.stop_console_consumer(proc)
        first.close()


def test_lag_seconds_agree_with_the_message_timestamps_in_kafka(kafka, new_topic):
    """The interpolated age of the next unconsumed message, versus that message's own CreateTime."""
    from kafka import KafkaProducer

    bootstrap = kafka.bootstrap_servers
    topic = new_topic("timed", partitions=1)
    collector = collector_for(kafka)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    try:
        for _ in range(12):  # ~1 message every 0.5 s, with a collection cycle every ~1 s
            for _ in range(2):
                producer.send(topic, b"m").get(timeout=30)
                time.sleep(0.5)
            collector.run_cycle()
    finally:
        producer.close()
    committed = 6
    commit(bootstrap, "it-timed", {TopicPartition(topic, 0): committed})
    collector.run_cycle()
    now = time.time()
    lag_seconds = one(series(collector), "kafka_consumergroup_lag_seconds", consumergroup="it-timed", topic=topic)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, committed)
        records = consumer.poll(10000, max_records=1)[tp]
        true_age = now - records[0].timestamp / 1000
    finally:
        consumer.close()
    # Interpolation between cycles ~1 s apart: the error is bounded by the spacing of the points.
    assert abs(lag_seconds - true_age) < 1.5, (lag_seconds, true_age)


def test_topic_granularity_serves_sums_of_what_kafka_reports_per_partition(kafka, new_topic):
    """The lean profile (groups and topics at topic granularity) against a real broker: the per-topic and
    per-group/topic sums equal the per-partition numbers of kafka-consumer-groups.sh and of the default page,
    and no series has a partition label."""
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("coarse", partitions=3)
    for partition, count in enumerate((30, 12, 5)):
        kafka_tools.produce(bootstrap, topic, count, partition=partition)
    commit(bootstrap, "it-coarse", {TopicPartition(topic, 0): 10, TopicPartition(topic, 1): 12,
                                    TopicPartition(topic, 2): 1})
    fine, coarse = collector_for(kafka), collector_for(kafka, metrics={"profile": "lean"})
    fine.run_cycle()
    coarse.run_cycle()
    fine_samples, coarse_samples = series(fine), series(coarse)
    rows = kafka_tools.describe_group_offsets(bootstrap, "it-coarse")
    assert sorted(r["lag"] for r in rows) == [0, 4, 20]
    assert one(coarse_samples, "kafka_consumergroup_lag_sum", consumergroup="it-coarse", topic=topic) == 24
    assert one(coarse_samples, "kafka_consumergroup_current_offset_sum", consumergroup="it-coarse",
               topic=topic) == sum(r["current_offset"] for r in rows) == 23
    assert one(coarse_samples, "kafka_topic_current_offset", topic=topic) == sum(
        r["log_end_offset"] for r in rows) == sum(pick(fine_samples, "kafka_topic_partition_current_offset",
                                                       topic=topic).values()) == 47
    assert one(coarse_samples, "kafka_topic_under_replicated_partitions", topic=topic) == 0
    ages = pick(fine_samples, "kafka_consumergroup_lag_seconds", consumergroup="it-coarse", topic=topic).values()
    assert list(pick(coarse_samples, "kafka_consumergroup_max_lag_seconds", consumergroup="it-coarse",
                     topic=topic).values()) == ([max(ages)] if ages else [])
    assert not [name for name, values in coarse_samples.items() for labels in values if "partition" in dict(labels)]
    assert "kafka_consumergroup_lag" in fine_samples and "kafka_consumergroup_lag" not in coarse_samples
