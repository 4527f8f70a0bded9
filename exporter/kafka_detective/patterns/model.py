"""Data shapes of the pattern library (what `patterns/*.yaml` holds after loading and validation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")
# What each severity means for a human (used by runbooks and the Alertmanager example).
SEVERITY_MEANING: dict[str, str] = {
    "critical": "pages the on-call engineer",
    "warning": "opens a ticket for working hours",
    "info": "no notification; visible in Alertmanager and dashboards, used for inhibition and context",
}
# The `scope` label: what the alert is about. Inhibition rules target scopes.
SCOPES: tuple[str, ...] = ("consumergroup", "topic", "broker", "cluster", "exporter")

ROOT_CAUSE_MEANING: dict[str, str] = {
    "producer_spike": "produce rate well above its own baseline; consumers are healthy but outpaced",
    "consumer_down": "group Empty (no members) while messages keep arriving",
    "consumer_stalled": "members present, committed offset frozen while lag > 0",
    "rebalance_storm": "repeated rebalances; consumption interrupted",
    "consumer_cpu_saturation": "consume rate dropped and the consumers' CPU is saturated",
    "consumer_slowdown": "consume rate dropped below baseline with no rebalance and no infrastructure cause",
    "leader_election": "partition leadership changed on the group's topic around the onset",
    "broker_failure": "a broker left: offline or under-replicated partitions, elections across many topics",
    "broker_skew": "one broker leads far more partitions than its share",
    "disk_pressure": "log dirs nearly full or predicted full",
    "retention_loss": "committed offset fell below log-start offset: messages deleted before consumption",
    "unknown": "no rule explained the evidence",
}


@dataclass(frozen=True)
class Step:
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
    diagnosis: tuple[Step, ...]
    mitigation: tuple[Step, ...]
    validation: tuple[Step, ...]
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
