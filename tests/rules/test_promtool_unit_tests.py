"""`promtool test rules` on every generated test file, and every alert has a firing and a near-miss case."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = sorted((ROOT / "tests" / "rules" / "generated").glob("*.test.yaml"))


def test_there_are_generated_test_files():
    assert len(TEST_FILES) >= 25


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name.removesuffix(".test.yaml") for p in TEST_FILES])
def test_promtool_test_rules(promtool_test_rules, path):
    promtool_test_rules(path)


def test_every_alert_has_a_firing_and_a_near_miss_case(alerts):
    firing: dict[str, int] = {}
    near_miss: dict[str, int] = {}
    for path in TEST_FILES:
        doc = yaml.safe_load(path.read_text())
        assert doc["rule_files"] == ["../../../alert-rules/prometheus-rules.yaml"], path.name
        for group in doc["tests"]:
            for case in group["alert_rule_test"]:
                bucket = firing if case["exp_alerts"] else near_miss
                bucket[case["alertname"]] = bucket.get(case["alertname"], 0) + 1
                for alert in case["exp_alerts"]:
                    assert alert["exp_annotations"]["runbook_url"].endswith(f"/{case['alertname']}.md")
                    assert alert["exp_labels"]["severity"] == alerts[case["alertname"]]["labels"]["severity"]
    assert not set(alerts) - set(firing), f"alerts without a firing case: {sorted(set(alerts) - set(firing))}"
    assert not set(alerts) - set(near_miss), f"alerts without a near-miss case: {sorted(set(alerts) - set(near_miss))}"
    assert not (set(firing) | set(near_miss)) - set(alerts), "test cases for alerts that do not exist"
