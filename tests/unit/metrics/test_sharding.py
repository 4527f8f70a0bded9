"""A sharded exporter's pages, together, are the unsharded page: every series once, on the shard that owns it.

Each shard's view is what its own cycle would hold: the whole cluster state, offsets and configs (a shard reads
more topics than it owns), but only the consumer groups it owns (it describes no other). The golden fixture's
cycle is rendered unsharded and as every shard of 2, 3 and 4, and the pages are compared series by series.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.gathering.sharding import Shard, shard_of
from kafka_detective.metrics import render
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.metrics.view import View

from .golden_fixture import CLUSTER, view

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _series(v: View) -> tuple[Series, Series]:
    """(the Kafka series, the exporter's own kafka_detective_* health series) of the page rendered from `v`."""
    exposition = Exposition()
    exposition.publish(CLUSTER, render.cluster_families(v))
    kafka: Series = {}
    health: Series = {}
    for family in text_string_to_metric_families(exposition.static_body().decode()):
        health_family = family.name.startswith("kafka_detective_") and family.name not in (
            "kafka_detective_anomaly_score", "kafka_detective_diagnosis")
        for s in family.samples:
            (health if health_family else kafka)[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return kafka, health


def shard_view(shard: Shard) -> View:
    """The golden cycle as shard `shard` collects it: its own groups only."""
    whole = view()
    owns = shard.owns
    groups = whole.snapshot.groups
    assert groups is not None
    groups = replace(groups, descriptions={g: d for g, d in groups.descriptions.items() if owns(g)},
                     committed={g: c for g, c in groups.committed.items() if owns(g)})
    d = whole.derived
    derived = replace(
        d,
        lag={k: v for k, v in d.lag.items() if owns(k[0])},
        committed={k: v for k, v in d.committed.items() if owns(k[0])},
        lag_seconds={k: v for k, v in d.lag_seconds.items() if owns(k[0])},
        extrapolated={k: v for k, v in d.extrapolated.items() if owns(k[0])},
        uncommitted={k: v for k, v in d.uncommitted.items() if owns(k[0])},
        lost={k: v for k, v in d.lost.items() if owns(k[0])},
        lost_total={k: v for k, v in d.lost_total.items() if owns(k[0])},
        consume_rate={k: v for k, v in d.consume_rate.items() if owns(k[0])},
        rebalances_total={k: v for k, v in d.rebalances_total.items() if owns(k)},
    )
    return replace(whole, snapshot=replace(whole.snapshot, groups=groups), derived=derived,
                   analysis=[a for a in whole.analysis if owns(a.group)], shard=shard)


@pytest.mark.parametrize("total", [2, 3, 4])
def test_the_shards_pages_add_up_to_the_unsharded_page_without_a_duplicate(total: int) -> None:
    expected, _ = _series(view())
    union: Series = {}
    for index in range(total):
        kafka, _ = _series(shard_view(Shard(index, total)))
        duplicates = union.keys() & kafka.keys()
        assert not duplicates, f"shard {index} of {total} repeats {sorted(duplicates)[:3]}"
        union.update(kafka)
    assert union == expected


def test_a_series_is_on_the_shard_of_its_group_else_of_its_topic_else_on_shard_0() -> None:
    total = 3
    for index in range(total):
        kafka, _ = _series(shard_view(Shard(index, total)))
        for name, labels in kafka:
            label = dict(labels)
            owner = label.get("consumergroup", label.get("topic"))
            assert (shard_of(owner, total) if owner is not None else 0) == index, (name, label)


def test_every_shard_reports_its_own_health_with_a_shard_label() -> None:
    _, unsharded = _series(view())
    assert all("shard" not in dict(labels) for _, labels in unsharded)
    for index in range(3):
        _, health = _series(shard_view(Shard(index, 3)))
        assert {name for name, _ in health} == {name for name, _ in unsharded}
        assert all(dict(labels)["shard"] == str(index) for _, labels in health)
        # The series count is that of the shard's page, not of the cluster.
        kafka, _ = _series(shard_view(Shard(index, 3)))
        series = [v for (name, _), v in health.items() if name == "kafka_detective_series"]
        assert series == [len(kafka)]
