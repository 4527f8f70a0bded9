"""The cause -> alerts mapping is derived from the patterns' `root_causes` (Library.alerts_by_cause), the only
place it is written; the tables of alerts that scenarios, the sandbox and the case file *expect* name library
alerts only."""

from __future__ import annotations

import pytest

from kafka_detective import yamlio
from kafka_detective.analysis.model import ROOT_CAUSES
from kafka_detective_tools.patterns.loader import load_library
from kafka_detective_tools.repo import find_root

ROOT = find_root()


@pytest.fixture(scope="module")
def library():
    return load_library(ROOT, check_promql=False)


def test_alerts_by_cause_is_the_patterns_root_causes_read_the_other_way(library) -> None:
    by_cause = library.alerts_by_cause()
    listed = {cause for p in library.patterns for cause in p.root_causes}
    assert set(by_cause) == listed
    assert listed <= set(ROOT_CAUSES)
    for p in library.patterns:
        for cause in p.root_causes:
            assert p.alert in by_cause[cause]
    for cause, alerts in by_cause.items():
        assert list(alerts) == sorted(alerts)
        assert all(cause in library.root_causes_by_alert()[alert] for alert in alerts)


def test_every_alert_of_the_mapping_is_in_the_generated_rules(library) -> None:
    rules = yamlio.load_file(ROOT / "alert-rules" / "prometheus-rules.yaml")
    generated = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    named = {alert for alerts in library.alerts_by_cause().values() for alert in alerts}
    assert named
    assert named <= generated, sorted(named - generated)


def test_expectation_tables_name_library_alerts_only(library) -> None:
    from kafka_detective.serving.detective_page import CAUSE_ALERTS
    from kafka_detective_tools.sandbox.traffic import SCENARIOS
    from kafka_detective_tools.scenarios.families import NEW_CAUSE_ALERTS
    from kafka_detective_tools.scenarios.simulator import EXPECTED_ALERTS

    alerts = set(library.by_alert())
    tables = {"simulator.EXPECTED_ALERTS": EXPECTED_ALERTS, "families.NEW_CAUSE_ALERTS": NEW_CAUSE_ALERTS,
              "detective_page.CAUSE_ALERTS": CAUSE_ALERTS,
              "traffic.SCENARIOS": {s.name: s.expected_alerts for s in SCENARIOS.values()}}
    for table, mapping in tables.items():
        for key, named in mapping.items():
            assert set(named) <= alerts, f"{table}[{key!r}] names {sorted(set(named) - alerts)}"
