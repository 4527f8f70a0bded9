"""The chart's `case_url` annotation: consumer-group alerts link to the exporter's case file, at the Service's
address by default, at prometheusRule.caseBaseUrl when set, and the result is a rule file Prometheus accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kafka_detective_tools.patterns.promql import find_tool

CLUSTERS = [{"name": "c", "bootstrap_servers": ["kafka:9092"]}]
QUERY = ("/detective/case?cluster={{ $labels.cluster | urlquery }}&group={{ $labels.consumergroup | urlquery }}"
         "&topic={{ $labels.topic | urlquery }}")


def alerts(helm_runner, **rule: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    values: dict[str, Any] = {"clusters": CLUSTERS, "prometheusRule": {"enabled": True, **rule.pop("rule", {})}}
    values.update(rule)
    spec = helm_runner.template([], values).one("PrometheusRule")["spec"]
    return [r for g in spec["groups"] for r in g["rules"] if "alert" in r], spec


def test_consumer_group_alerts_link_to_the_services_case_file(helm_runner):
    rules, _ = alerts(helm_runner)
    group_alerts = [r for r in rules if r["labels"]["scope"] == "consumergroup"]
    assert len(group_alerts) >= 8
    for r in group_alerts:
        assert r["annotations"]["case_url"] == "http://kd-kafka-detective.monitoring.svc:9308" + QUERY, r["alert"]
    assert all("case_url" not in r["annotations"] for r in rules if r["labels"]["scope"] != "consumergroup")


def test_the_base_follows_the_configured_url_and_https(helm_runner):
    rules, _ = alerts(helm_runner, rule={"caseBaseUrl": "https://kd.example.com/kafka/"})
    assert {r["annotations"].get("case_url") for r in rules if r["labels"]["scope"] == "consumergroup"} == {
        "https://kd.example.com/kafka" + QUERY}
    rules, _ = alerts(helm_runner, webConfig={"tls": {"enabled": True, "existingSecret": "kd-tls"}})
    urls = {r["annotations"].get("case_url") for r in rules if r["labels"]["scope"] == "consumergroup"}
    assert urls == {"https://kd-kafka-detective.monitoring.svc:9308" + QUERY}


def test_none_turns_case_url_off(helm_runner):
    rules, _ = alerts(helm_runner, rule={"caseBaseUrl": "none"})
    assert all("case_url" not in r["annotations"] for r in rules)


def test_a_base_that_is_not_a_url_is_refused(helm_runner):
    proc = helm_runner.template_text([], {"clusters": CLUSTERS,
                                          "prometheusRule": {"enabled": True, "caseBaseUrl": "kd:9308"}}, check=False)
    assert proc.returncode != 0 and "caseBaseUrl" in proc.stderr


def test_promtool_accepts_the_rendered_rules(helm_runner, tmp_path: Path):
    try:
        promtool = find_tool("promtool")
    except Exception as missing:  # the generator's own lookup names what to install
        pytest.fail(str(missing))
    _, spec = alerts(helm_runner)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": spec["groups"]}))
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
