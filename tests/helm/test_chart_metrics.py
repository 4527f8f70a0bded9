"""The chart's series selection (`config.metrics`, `clusters[].metrics`): the lean profile reaches the exporter's
config as the exporter reads it, its series budget is what docs/metrics.md states, and bad values are refused
by the schema with the value's path."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helm_chart_support import CHART, Rendered

from kafka_detective.config import MetricsConfig, parse_config
from kafka_detective.metrics import budget

LEAN_CI = CHART / "ci" / "lean-values.yaml"
CLUSTERS = [{"name": "c", "bootstrap_servers": ["kafka:9092"]}]


def config_file(rendered: Rendered) -> dict[str, Any]:
    (configmap,) = [cm for cm in rendered.of_kind("ConfigMap") if "config.yaml" in cm.get("data", {})]
    data: dict[str, Any] = yaml.safe_load(configmap["data"]["config.yaml"])
    return data


def test_the_default_chart_renders_the_default_selection(helm_runner) -> None:
    config = config_file(helm_runner.template([], {"clusters": CLUSTERS}))
    assert config["metrics"] == {"profile": "default"}
    assert parse_config(config).clusters[0].metrics == MetricsConfig()


def test_the_lean_profile_reaches_the_exporter_and_a_cluster_can_narrow_it(helm_runner) -> None:
    config = config_file(helm_runner.template([LEAN_CI]))
    big, small = parse_config(config).clusters
    assert big.metrics == budget.profile("lean")
    assert (small.metrics.profile, small.metrics.group_granularity, small.metrics.topic_granularity) == (
        "lean", "partition", "topic")
    # Key by key: the cluster's exclude list replaces lean's, its granularity of topics is lean's.
    assert not small.metrics.families.allows("kafka_detective_anomaly_score")
    assert small.metrics.families.allows("kafka_topic_info")
    # What `--set config.metrics.profile=lean` costs at the benchmark estate: below kafka_exporter's 117,220.
    lean = budget.series(budget.REFERENCE_ESTATE, big.metrics, occasional=True)
    assert lean < 117_220 / 1.5
    assert f"{budget.series(budget.REFERENCE_ESTATE, big.metrics):,}" in (
        Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("values", "message"), [
    ({"config": {"metrics": {"profile": "tiny"}}}, "/config/metrics/profile"),
    ({"config": {"metrics": {"groups": {"granularity": "group"}}}}, "/config/metrics/groups/granularity"),
    ({"config": {"metrics": {"granularity": "topic"}}}, "'granularity' not allowed"),
    ({"config": {"metrics": {"exclude": "kafka_topic_info"}}}, "/config/metrics/exclude"),
    ({"clusters": [{**CLUSTERS[0], "metrics": {"topics": {"granularity": "partitions"}}}]},
     "/clusters/0/metrics/topics/granularity"),
])
def test_bad_metrics_values_are_refused_naming_the_value(helm_runner, values: dict[str, Any], message: str) -> None:
    result = helm_runner.template_text([], {"clusters": CLUSTERS, **values}, check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
