"""`promtool test rules` on the hand-written tests of recording rules (tests/rules/recording/), and the series the
analysis reads from Prometheus are recorded by the library."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_detective_tools.investigation.sources import CPU_RECORDING_RULE

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = sorted((ROOT / "tests" / "rules" / "recording").glob("*.test.yaml"))


def test_there_are_recording_rule_tests():
    assert TEST_FILES


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name.removesuffix(".test.yaml") for p in TEST_FILES])
def test_promtool_test_rules(promtool_test_rules, path):
    promtool_test_rules(path)


def test_the_consumer_cpu_the_analysis_queries_is_recorded(recorded):
    # `investigate --prometheus` and the playbook default to this series: the library must ship it.
    assert CPU_RECORDING_RULE in recorded
