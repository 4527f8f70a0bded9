"""Fixtures of the dashboard tests: the pattern library and the dashboards compiled from it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]

# Used only while patterns/ holds no pattern file yet: the shape build_dashboards accepts from any library.
SYNTHETIC_ALERTS = (
    {"alert": "KafkaConsumerLagHigh", "severity": "warning", "summary": "Group | lags",
     "runbook_url": "https://example.com/runbooks/KafkaConsumerLagHigh.md",
     "dashboard": "kafka-detective-consumer-groups",
     "dashboard_vars": ("cluster", "consumergroup")},
    {"alert": "KafkaBrokerSkew", "severity": "info", "summary": "One broker leads too much.",
     "runbook_url": "https://example.com/runbooks/KafkaBrokerSkew.md", "dashboard": "kafka-detective-cluster",
     "dashboard_vars": ("cluster",)},
)


def load_real_library():
    """The repository's pattern library, or None while patterns/ has no pattern file."""
    from kafka_detective_tools.patterns.loader import load_library, pattern_files

    if not pattern_files(ROOT / "patterns"):
        return None
    return load_library(ROOT)


@pytest.fixture(scope="session")
def library():
    real = load_real_library()
    if real is not None:
        return real
    return SimpleNamespace(root=ROOT, config={"runbook_url_base": "https://example.com/runbooks"},
                           patterns=tuple(SimpleNamespace(**a) for a in SYNTHETIC_ALERTS), recording_rules=())


@pytest.fixture(scope="session")
def built(library) -> dict[str, str]:
    from kafka_detective_tools.patterns.dashboards import build_dashboards

    return build_dashboards(library, library.config)


@pytest.fixture(scope="session")
def dashboards(built) -> dict[str, dict]:
    return {name: json.loads(text) for name, text in built.items()}


@pytest.fixture(scope="session")
def recorded(library) -> set[str]:
    """`kafka:` recording rules of the library: the generated rule file when present, else the patterns."""
    rules_file = ROOT / "alert-rules" / "prometheus-rules.yaml"
    if rules_file.is_file():
        doc = yaml.safe_load(rules_file.read_text(encoding="utf-8")) or {}
        return {rule["record"] for group in doc.get("groups") or [] for rule in group.get("rules") or []
                if "record" in rule}
    return {rule.record for rule in getattr(library, "recording_rules", ())}
