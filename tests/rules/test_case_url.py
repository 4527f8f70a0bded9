"""`case_url`: consumer-group alerts link to the exporter's case file when `case_base_url` is configured."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kafka_detective_tools.patterns import render
from kafka_detective_tools.patterns.generator import build_outputs
from kafka_detective_tools.patterns.loader import load_library

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://kafka-detective.monitoring.svc:9308"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    override = tmp_path_factory.mktemp("override") / "override.yaml"
    override.write_text(f"_config:\n  case_base_url: {BASE}/\n")
    return load_library(ROOT, override=override)


def by_alert(library, name):
    return next(p for p in library.patterns if p.alert == name)


def test_no_base_url_no_annotation():
    library = load_library(ROOT)
    assert all("case_url" not in render.alert_rule(library, p)["annotations"] for p in library.patterns)


def test_group_topic_alerts_link_to_their_case_file(library):
    url = render.alert_rule(library, by_alert(library, "KafkaConsumerStalled"))["annotations"]["case_url"]
    assert url == (f"{BASE}/detective/case?cluster={{{{ $labels.cluster | urlquery }}}}"
                   "&group={{ $labels.consumergroup | urlquery }}&topic={{ $labels.topic | urlquery }}")
    # a group-level alert has no topic: the page opens the group's worst topic
    storm = render.alert_rule(library, by_alert(library, "KafkaConsumerRebalanceStorm"))["annotations"]["case_url"]
    assert storm.endswith("group={{ $labels.consumergroup | urlquery }}") and "topic=" not in storm
    assert "case_url" not in render.alert_rule(library, by_alert(library, "KafkaBrokerMissing"))["annotations"]


def test_promtool_expands_case_url_as_the_generator_expects(library, promtool_test_rules, tmp_path):
    """promtool compares annotations exactly: the generator's expansion of urlquery must be Prometheus' own,
    also for a group name that needs escaping."""
    stalled = by_alert(library, "KafkaConsumerStalled")
    firing = next(c for c in stalled.tests if c.kind == "firing")
    odd = "a b/c&d?é"
    series = tuple({**s, "series": s["series"].replace('consumergroup="emailer"', f'consumergroup="{odd}"')}
                   for s in firing.input_series)
    exp_annotations = {k: v.replace("emailer", odd) for k, v in firing.exp_annotations.items()}
    odd_case = replace(firing, name="odd group name", input_series=series,
                       exp_labels={**firing.exp_labels, "consumergroup": odd}, exp_annotations=exp_annotations)
    patterns = [replace(stalled, tests=(*stalled.tests, odd_case)), by_alert(library, "KafkaConsumerRebalanceStorm")]
    small = replace(library, patterns=patterns)
    outputs = build_outputs(small)
    for name in (render.RULES_FILE, f"{render.TEST_DIR}/{stalled.name}.test.yaml",
                 f"{render.TEST_DIR}/rebalance-storm.test.yaml"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs.files[name])
    test_file = (tmp_path / render.TEST_DIR / f"{stalled.name}.test.yaml").read_text()
    assert "a+b%2Fc%26d%3F%C3%A9" in test_file
    for name in (f"{stalled.name}.test.yaml", "rebalance-storm.test.yaml"):
        promtool_test_rules(tmp_path / render.TEST_DIR / name)
