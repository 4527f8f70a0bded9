"""The `metrics` block (docs/configuration.md, Series): granularity, family allow/deny lists, profiles."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kafka_detective.config import METRICS_PROFILES, ConfigError, MetricsConfig, parse_config


def clusters_metrics(top: Any = None, *own: Any) -> list[MetricsConfig]:
    """The metrics of each cluster: one per entry of `own` (None: no block of its own), under a top-level block."""
    entries = [{"name": f"c{i}", "bootstrap_servers": ["k:9092"], **({} if o is None else {"metrics": o})}
               for i, o in enumerate(own or (None,))]
    data: dict[str, Any] = {"clusters": entries}
    if top is not None:
        data["metrics"] = top
    return [c.metrics for c in parse_config(data).clusters]


def patterns(filter_patterns: tuple[re.Pattern[str], ...]) -> list[str]:
    return [p.pattern for p in filter_patterns]


@pytest.mark.parametrize(
    ("top", "own", "field", "message"),
    [
        ({"exclude": ["kafka_(lag"]}, None, "metrics.exclude[0]", "invalid regular expression"),
        ({"include": [42]}, None, "metrics.include[0]", "must be a string"),
        ({"include": "kafka_.*"}, None, "metrics.include", "must be a list"),
        ({"groups": {"granularity": "group"}}, None, "metrics.groups.granularity",
         "must be one of partition, topic, got 'group'"),
        ({"topics": {"granularity": "broker"}}, None, "metrics.topics.granularity", "must be one of partition, topic"),
        ({"topics": {"granularity": "topic", "include": [".*"]}}, None, "metrics.topics.include", "unknown field"),
        ({"profile": "tiny"}, None, "metrics.profile", "must be one of default, lean, got 'tiny'"),
        ({"granularity": "topic"}, None, "metrics.granularity", "unknown field"),
        (None, {"exclude": ["("]}, "clusters[0].metrics.exclude[0]", "invalid regular expression"),
        (None, {"groups": {"granularity": "Topic"}}, "clusters[0].metrics.groups.granularity", "must be one of"),
    ],
)
def test_a_bad_metrics_block_names_the_field(top: Any, own: Any, field: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        clusters_metrics(top, own)
    assert caught.value.path == field
    assert message in str(caught.value)


def test_without_a_metrics_block_every_series_is_rendered_per_partition() -> None:
    (metrics,) = clusters_metrics()
    assert metrics == MetricsConfig()
    assert (metrics.profile, metrics.group_granularity, metrics.topic_granularity) == ("default", "partition",
                                                                                     "partition")
    assert patterns(metrics.families.include) == [".*"] and metrics.families.exclude == ()


def test_the_lean_profile_sets_topic_granularity_and_its_exclude_list() -> None:
    (lean,) = clusters_metrics({"profile": "lean"})
    assert (lean.profile, lean.group_granularity, lean.topic_granularity) == ("lean", "topic", "topic")
    assert patterns(lean.families.exclude) == METRICS_PROFILES["lean"]["exclude"]
    assert lean.families.allows("kafka_consumergroup_lag_sum")
    assert not lean.families.allows("kafka_consumergroup_predicted_lag_upper")


def test_keys_set_beside_a_profile_win_over_it() -> None:
    (mixed,) = clusters_metrics({"profile": "lean", "groups": {"granularity": "partition"}, "exclude": []})
    assert (mixed.group_granularity, mixed.topic_granularity, mixed.families.exclude) == ("partition", "topic", ())


def test_a_clusters_block_inherits_the_top_level_one_key_by_key() -> None:
    top = {"topics": {"granularity": "topic"}, "exclude": ["kafka_topic_info"]}
    inherited, narrowed, own_profile = clusters_metrics(
        top, None, {"groups": {"granularity": "topic"}}, {"profile": "default"})
    assert (inherited.group_granularity, inherited.topic_granularity) == ("partition", "topic")
    assert patterns(inherited.families.exclude) == ["kafka_topic_info"]
    assert (narrowed.group_granularity, narrowed.topic_granularity) == ("topic", "topic")
    assert patterns(narrowed.families.exclude) == ["kafka_topic_info"]
    # Naming a profile starts from the profile, not from the top-level block.
    assert own_profile == MetricsConfig()


def test_internal_topics_are_excluded_by_default_and_can_be_included() -> None:
    config = parse_config({"clusters": [{"name": "a", "bootstrap_servers": ["k:9092"]},
                                        {"name": "b", "bootstrap_servers": ["k:9092"], "topics": {"exclude": []}}]})
    default, opened = config.clusters
    for internal in ("__consumer_offsets", "__transaction_state", "__cluster_metadata", "__share_group_state"):
        assert not default.topics.allows(internal)
        assert opened.topics.allows(internal)
    for topic in ("orders", "_private", "a__b"):
        assert default.topics.allows(topic)
