"""Which causes an alert is about comes from the patterns' `root_causes` (Library.root_causes_by_alert, what rule
evaluation reads), the only place it is written; the tables of alerts that scenarios, the sandbox and the case file
*expect* name library alerts only."""

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


def _yaml_patterns() -> list[dict]:
    """The alert pattern files as YAML reads them, without the loader (config and recording rules are no alerts)."""
    return [yamlio.load_file(path) for path in sorted((ROOT / "patterns").rglob("*.yaml"))
            if path.name not in ("config.yaml", "recording-rules.yaml")]


def test_root_causes_by_alert_is_what_the_pattern_files_say(library) -> None:
    by_alert = library.root_causes_by_alert()
    files = {doc["alert"]: frozenset(doc.get("root_causes") or ()) for doc in _yaml_patterns()}
    assert by_alert == files
    assert set().union(*by_alert.values()) <= set(ROOT_CAUSES)


def test_every_alert_with_root_causes_is_in_the_generated_rules(library) -> None:
    rules = yamlio.load_file(ROOT / "alert-rules" / "prometheus-rules.yaml")
    generated = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    named = {alert for alert, causes in library.root_causes_by_alert().items() if causes}
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
