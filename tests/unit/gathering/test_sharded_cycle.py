"""The collection cycle of a shard, on the faked cluster: it describes only its own groups, has their lag from its
first cycle even when another shard owns their topic, and the shards' pages add up to the unsharded one."""

from __future__ import annotations

from typing import Any

import pytest

from kafka_detective.config import parse_config
from kafka_detective.gathering.sharding import UNSHARDED, Shard, shard_of
from kafka_detective.metrics import self_metrics
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector

from .kafka_fakes import TOPIC, FakeAdmin, FakeKafka, FakeManager, Group, page

TOTAL = 3
GROUPS = {f"g{i:02d}": Group(1 + i % 3, {0: 10 + i, 1: 20, 2: 30}) for i in range(12)}
HEALTH = {spec.name for spec in self_metrics.SPECS}


def collector(kafka: FakeKafka, shard: Shard) -> ClusterCollector:
    cluster = parse_config({"clusters": [{"name": "t", "bootstrap_servers": ["127.0.0.1:9001"]}]}).clusters[0]
    return ClusterCollector(cluster, Exposition(), config_refresh_seconds=3600.0,
                            connector=lambda _cluster, _counter: FakeAdmin(kafka), shard=shard)


def kafka_series(c: ClusterCollector) -> dict[tuple[str, tuple], float]:
    return {(name, labels): value for name, samples in page(c).items() if name not in HEALTH
            for labels, value in samples.items()}


@pytest.fixture
def described(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every group id a DescribeGroups request asks for."""
    asked: list[str] = []
    original = FakeManager._DescribeGroupsRequest

    def record(self: FakeManager, request: Any, node: int) -> Any:
        asked.extend(request.groups)
        return original(self, request, node)

    monkeypatch.setattr(FakeManager, "_DescribeGroupsRequest", record)
    return asked


def test_a_shard_describes_only_its_groups_and_the_shards_add_up_to_one_exporter(described: list[str]) -> None:
    kafka = FakeKafka(groups=dict(GROUPS))
    whole = collector(kafka, UNSHARDED)
    whole.run_cycle()
    expected = kafka_series(whole)
    assert len(described) == len(GROUPS)
    union: dict[tuple[str, tuple], float] = {}
    for index in range(TOTAL):
        described.clear()
        shard = collector(kafka, Shard(index, TOTAL))
        shard.run_cycle()   # the first cycle: its groups' topic is topped up after the groups phase if not its own
        mine = {g for g in GROUPS if shard_of(g, TOTAL) == index}
        assert sorted(described) == sorted(mine)
        series = kafka_series(shard)
        lagging = {dict(labels)["consumergroup"] for name, labels in series if name == "kafka_consumergroup_lag"}
        assert lagging == mine
        topic_series = {name for name, labels in series if dict(labels).get("topic") == TOPIC
                        and "consumergroup" not in dict(labels)}
        assert bool(topic_series) == (shard_of(TOPIC, TOTAL) == index)
        assert not union.keys() & series.keys()
        union.update(series)
    assert union == expected
