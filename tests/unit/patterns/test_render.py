"""Renderers: metrics doc from the catalogue, Alertmanager routing shape, runbook contents."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kafka_detective.metrics.catalogue import CATALOGUE
from kafka_detective_tools.patterns import render
from kafka_detective_tools.patterns.loader import load_library

ROOT = Path(__file__).resolve().parents[3]


def test_metrics_doc_lists_every_catalogue_metric_with_type_and_compatibility():
    doc = render.metrics_doc()
    for spec in CATALOGUE:
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{spec.name}` |"))
        assert f"| {spec.type} |" in row
        assert ("| yes |" if spec.kafka_exporter_compatible else "| no |") in row


def test_alertmanager_routes_each_severity_and_inhibits_on_cluster():
    library = load_library(ROOT)
    config = yaml.safe_load(render.alertmanager_config(library))
    routes = {r["matchers"][0]: r["receiver"] for r in config["route"]["routes"]}
    assert routes == {'severity="critical"': "pager", 'severity="warning"': "ticket", 'severity="info"': "null"}
    assert config["inhibit_rules"]
    for rule in config["inhibit_rules"]:
        assert rule["equal"] == ["cluster"]
        assert any("KafkaConsumerMessagesLost" in m for m in rule["target_matchers"])


def test_runbook_has_real_queries_and_config_values():
    library = load_library(ROOT)
    pattern = library.by_alert()["KafkaConsumerLagSecondsHigh"]
    text = render.runbook(library, pattern)
    assert "kafka_consumergroup_max_lag_seconds > 300" in text
    assert "kafka-consumer-groups.sh" in text
    for section in render.RUNBOOK_SECTIONS:
        assert f"## {section}" in text


def test_unit_test_file_adds_links_severity_and_unknown_diagnosis():
    library = load_library(ROOT)
    pattern = library.by_alert()["KafkaConsumerLagHigh"]
    doc = yaml.safe_load(render.unit_test_file(library, pattern))
    firing = next(c for g in doc["tests"] for c in g["alert_rule_test"] if c["exp_alerts"])["exp_alerts"][0]
    assert firing["exp_labels"]["severity"] == "warning"
    assert firing["exp_labels"]["diagnosis"] == "unknown"
    assert firing["exp_annotations"]["runbook_url"].endswith("/KafkaConsumerLagHigh.md")
    assert "var-consumergroup=orders-service" in firing["exp_annotations"]["dashboard_url"]


def test_runbook_spells_out_the_recording_rules_its_expression_reads():
    # each YAML block after the expression is one rule of the recording group, as the rule file holds it, and
    # there is one per recorded series the expression names, or a recording rule it reads names, at any depth (a
    # longer name sharing a prefix does not count); those the expression names come first
    library = load_library(ROOT)
    recorded = {r["record"]: r["expr"] for g in render.rule_groups(library) for r in g["rules"] if "record" in r}
    for alert, pattern in library.by_alert().items():
        text = render.runbook(library, pattern)
        blocks = [yaml.safe_load(b.split("```", 1)[0])[0] for b in text.split("```yaml\n")[1:]]
        direct = set(recorded) & set(_tokens(pattern.expr))
        named, frontier = set(direct), set(direct)
        while frontier:
            frontier = {n for r in frontier for n in set(recorded) & set(_tokens(recorded[r]))} - named
            named |= frontier
        assert {b["record"] for b in blocks} == named, alert
        assert len(blocks) == len(named), alert
        assert {b["record"] for b in blocks[:len(direct)]} == direct, alert
        for b in blocks:
            assert b["expr"].strip() == recorded[b["record"]].strip(), (alert, b["record"])
    stalled = render.runbook(library, library.by_alert()["KafkaConsumerStalled"])
    # read through kafka:consumergroup_commits:expected_per5m only
    assert "- record: kafka:consumergroup_commits:recent_per5m" in stalled
    lag_high = render.runbook(library, library.by_alert()["KafkaConsumerLagHigh"])
    assert "- record: kafka:topic_lag_threshold:messages" in lag_high
    assert "```yaml" not in render.runbook(library, library.by_alert()["KafkaBrokerMissing"])


def _tokens(expr: str) -> list[str]:
    return re.findall(r"[A-Za-z_:][\w:]*", expr)
