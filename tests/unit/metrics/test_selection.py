"""The `metrics` block: granularity of group and topic series, and the family allow/deny list (metrics/selection.py).

Each case renders the golden fixture's cycle (golden_fixture.py: 3 brokers, 7 partitions of 3 topics, groups on
6 group x partitions) under a selection and compares it with the default rendering: what is gone, what replaces
it, and that the replacements add up to what they replace.
"""

from __future__ import annotations

import re

import pytest

from kafka_detective.config import MetricsConfig, NameFilter
from kafka_detective.metrics import cluster, groups, lag, offsets, self_metrics
from kafka_detective.metrics.catalogue import CATALOGUE
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.metrics.render import cluster_families
from kafka_detective.metrics.selection import granularity_level, keeps

from .golden_fixture import CLUSTER, view

Series = dict[str, dict[tuple[tuple[str, str], ...], float]]
_LABEL = re.compile(r'(\w+)="([^"]*)"')


DEFAULT = MetricsConfig()


def rendered(metrics: MetricsConfig = DEFAULT) -> Series:
    """family name -> {sorted label pairs: value}, for the families with samples."""
    out: Series = {}
    for family in cluster_families(view(), metrics):
        for labels, value in family.samples:
            out.setdefault(family.spec.name, {})[tuple(sorted(_LABEL.findall(labels)))] = value
    return out


def without(key: tuple[tuple[str, str], ...], *names: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in key if k not in names)


def summed(series: dict[tuple[tuple[str, str], ...], float], *drop: str) -> dict[tuple[tuple[str, str], ...], float]:
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for key, value in series.items():
        out[without(key, *drop)] = out.get(without(key, *drop), 0) + value
    return out


GROUP_PARTITION_FAMILIES = {s.name for s in CATALOGUE if granularity_level(s) == "groups"}
TOPIC_PARTITION_FAMILIES = {s.name for s in CATALOGUE if granularity_level(s) == "topics"}
TOPIC_SUMS = [s for s in CATALOGUE if s.replaces]


def test_the_switches_govern_the_expected_families() -> None:
    assert {groups.CURRENT_OFFSET.name, lag.LAG.name, lag.LAG_SECONDS.name,
                                        lag.LOST_MESSAGES.name} == GROUP_PARTITION_FAMILIES
    assert {s.name for s in TOPIC_SUMS} == {
        offsets.TOPIC_CURRENT_OFFSET.name, offsets.TOPIC_OLDEST_OFFSET.name, *(s.name for s in cluster.TOPIC_SUMS)}
    # Every topic sum replaces per-partition topic families, and sums what it replaces by topic.
    for spec in TOPIC_SUMS:
        assert spec.labels == ("cluster", "topic")
        assert all(r.name in TOPIC_PARTITION_FAMILIES and r.labels == ("cluster", "topic", "partition")
                   for r in spec.replaces)


def test_the_default_renders_every_per_partition_family_and_no_topic_sum() -> None:
    default = rendered()
    assert default.keys() >= GROUP_PARTITION_FAMILIES | TOPIC_PARTITION_FAMILIES
    assert not {s.name for s in TOPIC_SUMS} & default.keys()
    assert rendered(MetricsConfig(group_granularity="partition", topic_granularity="partition")) == default


def test_group_granularity_topic_keeps_only_the_group_topic_sums_which_match_the_partitions() -> None:
    default = rendered()
    coarse = rendered(MetricsConfig(group_granularity="topic"))
    assert not GROUP_PARTITION_FAMILIES & coarse.keys()
    assert coarse.keys() == default.keys() - GROUP_PARTITION_FAMILIES
    for name, values in coarse.items():
        if name != self_metrics.SERIES.name:
            assert values == default[name], name
    # What stays says what the per-partition series said, summed (or maximised) per group and topic.
    assert coarse[lag.LAG_SUM.name] == summed(default[lag.LAG.name], "partition")
    assert coarse[groups.CURRENT_OFFSET_SUM.name] == summed(default[groups.CURRENT_OFFSET.name], "partition")
    maxima: dict[tuple[tuple[str, str], ...], float] = {}
    for key, value in default[lag.LAG_SECONDS.name].items():
        maxima[without(key, "partition")] = max(maxima.get(without(key, "partition"), 0.0), value)
    assert coarse[lag.MAX_LAG_SECONDS.name] == maxima


def test_topic_granularity_topic_replaces_partition_series_by_their_per_topic_sums() -> None:
    default = rendered()
    coarse = rendered(MetricsConfig(topic_granularity="topic"))
    assert not TOPIC_PARTITION_FAMILIES & coarse.keys()
    assert coarse.keys() == (default.keys() - TOPIC_PARTITION_FAMILIES) | {s.name for s in TOPIC_SUMS}
    for spec in TOPIC_SUMS:
        (replaced,) = spec.replaces
        assert coarse[spec.name] == summed(default[replaced.name], "partition"), spec.name
    # The fixture's problems are still visible per topic: orders-2 offline and under min ISR, payments-1
    # under-replicated and under min ISR, audit without a topic config (no min-ISR count, as no per-partition flag).
    under_min_isr = {dict(k)["topic"]: v for k, v in coarse[cluster.TOPIC_UNDER_MIN_ISR.name].items()}
    assert under_min_isr == {"orders": 1, "payments": 1}
    assert {dict(k)["topic"]: v for k, v in coarse[cluster.TOPIC_OFFLINE.name].items()} == {
        "audit": 0, "orders": 1, "payments": 0}


def test_both_switches_leave_no_series_with_a_partition_label() -> None:
    coarse = rendered(MetricsConfig(group_granularity="topic", topic_granularity="topic"))
    assert all("partition" not in dict(key) for values in coarse.values() for key in values)
    # The series self-metric counts what is rendered, not what was built.
    rendered_series = sum(len(v) for name, v in coarse.items() if not name.startswith("kafka_detective_")
                          or name in ("kafka_detective_anomaly_score", "kafka_detective_diagnosis"))
    assert coarse[self_metrics.SERIES.name] == {(("cluster", CLUSTER),): rendered_series}


def test_exclude_and_include_drop_families_by_whole_name() -> None:
    default = rendered()
    excluded = rendered(MetricsConfig(families=NameFilter(exclude=(re.compile("kafka_consumergroup_.*"),))))
    assert not any(name.startswith("kafka_consumergroup_") for name in excluded)
    assert excluded.keys() == {n for n in default if not n.startswith("kafka_consumergroup_")}
    # Whole-name match: `kafka_consumergroup_lag` does not drop kafka_consumergroup_lag_sum.
    lag_only = rendered(MetricsConfig(families=NameFilter(exclude=(re.compile("kafka_consumergroup_lag"),))))
    assert default.keys() - lag_only.keys() == {lag.LAG.name}
    included = rendered(MetricsConfig(families=NameFilter(include=(re.compile("kafka_topic_partition_.*"),))))
    assert {n for n in included if not n.startswith("kafka_detective_")} == {
        n for n in default if n.startswith("kafka_topic_partition_")}


def test_the_exporters_health_is_never_dropped() -> None:
    nothing = MetricsConfig(group_granularity="topic", topic_granularity="topic",
                            families=NameFilter(include=(re.compile("none"),), exclude=(re.compile(".*"),)))
    kept = rendered(nothing)
    health = {s.name for s in self_metrics.SPECS} - {s.name for s in self_metrics.SCRAPE_TIME_SPECS}
    assert kept.keys() == health
    assert kept[self_metrics.CLUSTER_UP.name] == {(("cluster", CLUSTER),): 1}
    assert kept[self_metrics.SERIES.name] == {(("cluster", CLUSTER),): 0}
    assert all(keeps(spec, nothing) for spec in self_metrics.SPECS)


@pytest.mark.parametrize("granularity", ["partition", "topic"])
def test_topic_sums_are_declared_on_the_page_only_where_rendered(granularity: str) -> None:
    exposition = Exposition()
    exposition.publish(CLUSTER, cluster_families(view(), MetricsConfig(topic_granularity=granularity)))
    declared = set(re.findall(r"^# TYPE (\S+) ", exposition.static_body().decode(), flags=re.M))
    sums = {s.name for s in TOPIC_SUMS}
    assert (sums <= declared) if granularity == "topic" else not (sums & declared)
    # Per-partition families keep their header (with no samples), as empty families always have.
    assert declared >= TOPIC_PARTITION_FAMILIES
