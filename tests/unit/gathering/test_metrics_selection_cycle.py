"""A cluster's `metrics` block and topic filter applied by the real collection cycle (faked Kafka, kafka_fakes.py)."""

from __future__ import annotations

from typing import Any

from kafka_detective.config import parse_config
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector

from .kafka_fakes import TOPIC, FakeAdmin, FakeKafka, Group, page


def collector(kafka: FakeKafka, **cluster: Any) -> ClusterCollector:
    config = parse_config({"clusters": [{"name": "t", "bootstrap_servers": ["127.0.0.1:9001"], **cluster}]})
    return ClusterCollector(config.clusters[0], Exposition(),
                            connector=lambda _cluster, _counter: FakeAdmin(kafka))


def fake() -> FakeKafka:
    # partitions 0, 1, 2 of `orders` end at 100, 200, 300; one group committed 10 and 20 on the first two.
    return FakeKafka(groups={"billing": Group(1, {0: 10, 1: 20}, "Stable")})


def test_topic_granularity_through_the_cycle_serves_sums_and_no_partition_label() -> None:
    fine, coarse = collector(fake()), collector(fake(), metrics={"profile": "lean"})
    fine.run_cycle()
    coarse.run_cycle()
    fine_page, coarse_page = page(fine), page(coarse)
    assert all("partition" not in dict(labels) for series in coarse_page.values() for labels in series)
    group_topic = (("cluster", "t"), ("consumergroup", "billing"), ("topic", TOPIC))
    assert coarse_page["kafka_consumergroup_lag_sum"] == {group_topic: 90 + 180}
    assert coarse_page["kafka_consumergroup_lag_sum"] == fine_page["kafka_consumergroup_lag_sum"]
    assert coarse_page["kafka_topic_current_offset"] == {(("cluster", "t"), ("topic", TOPIC)): 600}
    assert "kafka_consumergroup_lag" not in coarse_page and "kafka_consumergroup_lag" in fine_page
    series = coarse_page["kafka_detective_series"][(("cluster", "t"),)]
    assert series < fine_page["kafka_detective_series"][(("cluster", "t"),)]


def test_a_topic_the_filter_excludes_has_neither_partition_nor_group_series() -> None:
    """Internal topics (`^__.*`, the default exclude) are left out this way: with their committed offsets, so no
    group lag on `__consumer_offsets` either."""
    excluded = collector(fake(), topics={"exclude": [TOPIC]})
    excluded.run_cycle()
    exposed = page(excluded)
    assert not any(dict(labels).get("topic") == TOPIC for series in exposed.values() for labels in series)
    assert exposed["kafka_consumergroup_members"]   # the group itself is still there
