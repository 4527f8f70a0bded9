"""Data shapes of the pattern library (what `patterns/*.yaml` holds after loading and validation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kafka_detective.analysis.model import CAUSE_MEANING

SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")
# What each severity means for a human (used by runbooks and the Alertmanager example).
SEVERITY_MEANING: dict[str, str] = {
    "critical": "pages the on-call engineer",
    "warning": "opens a ticket for working hours",
    "info": "no notification; visible in Alertmanager and dashboards, used for inhibition and context",
}
# The `scope` label: what the alert is about. Inhibition rules target scopes.
SCOPES: tuple[str, ...] = ("consumergroup", "topic", "broker", "cluster", "exporter")

# The root-cause vocabulary's meanings live with the vocabulary itself (analysis/model.py).
ROOT_CAUSE_MEANING: dict[str, str] = CAUSE_MEANING


@dataclass(frozen=True)
class RunbookStep:
    """One runbook step: a title, one PromQL query and/or one shell command, and the expected result."""

    title: str
    promql: str | None = None
    command: str | None = None
    expected: str | None = None


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    source: str  # pattern file (relative path) that defines it


@dataclass(frozen=True)
class TestCase:
    name: str
    kind: str                       # firing | near_miss
    interval: str
    input_series: tuple[dict, ...]
    eval_time: str
    exp_labels: dict[str, str] = field(default_factory=dict)
    exp_annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pattern:
    name: str                       # file stem, also the test file name
    source: str                     # path relative to the repository root
    alert: str
    group: str
    severity: str
    scope: str
    summary: str
    description: str
    expr: str
    for_: str
    keep_firing_for: str | None
    root_causes: tuple[str, ...]
    diagnosis_label: bool
    diagnosis_match: tuple[str, ...]
    dashboard: str
    dashboard_vars: tuple[str, ...]
    inhibits_scopes: tuple[str, ...]
    inhibit_exempt: bool
    meaning: str
    impact: str
    diagnosis: tuple[RunbookStep, ...]
    mitigation: tuple[RunbookStep, ...]
    validation: tuple[RunbookStep, ...]
    escalation: str
    tests: tuple[TestCase, ...]
    learned: bool = False


@dataclass(frozen=True)
class Library:
    root: Path
    config: dict
    patterns: tuple[Pattern, ...]
    recording_rules: tuple[RecordingRule, ...]

    @property
    def alerts(self) -> tuple[Pattern, ...]:
        return self.patterns

    def by_alert(self) -> dict[str, Pattern]:
        return {p.alert: p for p in self.patterns}

    def root_causes_by_alert(self) -> dict[str, frozenset[str]]:
        """alert -> the root causes its pattern lists (`root_causes`)."""
        return {p.alert: frozenset(p.root_causes) for p in self.patterns}
