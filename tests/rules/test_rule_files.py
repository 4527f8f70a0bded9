"""The generated rule files pass promtool, use only catalogued metrics and carry the links and labels we promise."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from kafka_detective_tools.patterns.promql import is_known_metric, metric_names

# Lag-related alerts: they carry the `diagnosis` label and the `probable_cause` annotation.
LAG_ALERTS = {
    "KafkaConsumerLagHigh", "KafkaConsumerLagSecondsHigh", "KafkaConsumerLagSecondsCritical",
    "KafkaConsumerLagGrowing", "KafkaConsumerDeathSpiral", "KafkaConsumerStalled", "KafkaConsumerGroupEmpty",
    "KafkaConsumerSlowdown", "KafkaConsumerRebalanceStorm", "KafkaConsumerLagBreachPredicted",
    "KafkaConsumerMessagesLost", "KafkaConsumerRetentionBreachPredicted",
}


def _check(promtool: str, path: Path) -> None:
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_plain_rule_file_passes_promtool(root, promtool):
    _check(promtool, root / "alert-rules" / "prometheus-rules.yaml")


def test_prometheusrule_groups_pass_promtool_and_match_the_plain_file(root, promtool, rule_groups, tmp_path):
    crd = yaml.safe_load((root / "alert-rules" / "prometheusrule.yaml").read_text())
    assert crd["apiVersion"] == "monitoring.coreos.com/v1"
    assert crd["kind"] == "PrometheusRule"
    assert crd["metadata"]["name"]
    assert crd["spec"]["groups"] == rule_groups
    extracted = tmp_path / "groups.yaml"
    extracted.write_text(yaml.safe_dump({"groups": crd["spec"]["groups"]}))
    _check(promtool, extracted)


def test_chart_copy_is_the_plain_rule_file(root):
    chart = root / "helm" / "kafka-detective" / "files" / "prometheus-rules.yaml"
    assert chart.read_text() == (root / "alert-rules" / "prometheus-rules.yaml").read_text()


def test_every_metric_used_exists(rule_groups, recorded):
    unknown = {}
    for group in rule_groups:
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                if not is_known_metric(name, recorded):
                    unknown.setdefault(rule.get("alert") or rule.get("record"), []).append(name)
    assert not unknown, f"metrics not in the catalogue nor recorded here: {unknown}"


def test_recording_rules_follow_the_naming(recorded):
    assert recorded, "expected kafka:* recording rules"
    # level:metric:operations; `consumergroup:` only for series aggregated to a group from outside the exporter
    assert all(name.startswith(("kafka:", "consumergroup:")) and name.count(":") >= 2 for name in recorded), recorded


def test_alerts_have_names_severity_links_and_texts(root, alerts):
    assert len(alerts) >= 25
    for name, rule in alerts.items():
        assert name.startswith("Kafka") and name[5].isupper(), name
        labels, annotations = rule["labels"], rule["annotations"]
        assert labels["severity"] in {"critical", "warning", "info"}, name
        assert labels["scope"], name
        assert annotations["runbook_url"].endswith(f"/{name}.md"), name
        assert (root / "runbooks" / f"{name}.md").is_file(), name
        assert annotations["dashboard_url"].startswith("http"), name
        assert annotations["summary"] and annotations["description"], name
        assert "[[" not in rule["expr"] + str(rule), f"{name}: unsubstituted placeholder"


def test_lag_alerts_carry_the_diagnosis_label(alerts):
    missing = LAG_ALERTS - set(alerts)
    assert not missing, missing
    for name in LAG_ALERTS:
        rule = alerts[name]
        assert "kafka_detective_diagnosis" in rule["labels"]["diagnosis"], name
        assert "unknown" in rule["labels"]["diagnosis"], name
        assert "probable_cause" in rule["annotations"], name


def test_required_patterns_exist(alerts):
    required = {
        "KafkaConsumerLagHigh", "KafkaConsumerLagSecondsHigh", "KafkaConsumerLagGrowing", "KafkaConsumerDeathSpiral",
        "KafkaConsumerStalled", "KafkaConsumerGroupEmpty", "KafkaConsumerRebalanceStorm", "KafkaConsumerSlowdown",
        "KafkaProducerTrafficSpike", "KafkaConsumerMessagesLost", "KafkaConsumerRetentionBreachPredicted",
        "KafkaConsumerLagBreachPredicted", "KafkaConsumerOffsetRewind", "KafkaLeaderElections",
        "KafkaUnderReplicatedPartitions", "KafkaOfflinePartitions", "KafkaUnderMinIsrPartitions",
        "KafkaBrokerLeaderSkew", "KafkaPreferredLeaderImbalance", "KafkaBrokerDiskPressure",
        "KafkaBrokerDiskFullPredicted", "KafkaClusterLagStorm", "KafkaDetectiveExporterDown",
        "KafkaClusterUnreachable", "KafkaDetectiveCollectionStale",
    }
    assert not required - set(alerts), sorted(required - set(alerts))


def test_flapping_prone_alerts_keep_firing(alerts):
    for name in ("KafkaConsumerLagHigh", "KafkaConsumerLagSecondsHigh", "KafkaConsumerRebalanceStorm",
                 "KafkaConsumerMessagesLost"):
        assert alerts[name].get("keep_firing_for"), name
