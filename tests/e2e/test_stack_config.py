"""The pieces the e2e tests and the demo are built from, checked without Kafka: the wired Alertmanager config,
the compressed-time rules, the webhook receiver and the scenario library."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import pytest
import yaml

from kafka_detective_tools.repo import find_root
from kafka_detective_tools.sandbox.stack import (
    ALERTMANAGER_TIMINGS,
    COMPRESSED_TIME,
    generate_rules,
    wire_alertmanager_config,
)
from kafka_detective_tools.sandbox.traffic import SCENARIOS
from kafka_detective_tools.sandbox.webhook import WebhookReceiver

pytestmark = pytest.mark.e2e

ROOT = find_root()


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"`{name}` is missing: apt-get install prometheus prometheus-alertmanager (make setup)"
    return path


def test_wired_alertmanager_config_keeps_routes_and_inhibitions_and_only_changes_urls(tmp_path):
    example = yaml.safe_load((ROOT / "alertmanager" / "alertmanager.yml").read_text())
    with WebhookReceiver() as hook:
        wired = wire_alertmanager_config(example, hook, ALERTMANAGER_TIMINGS)
        assert wired["inhibit_rules"] == example["inhibit_rules"]
        assert [r.get("matchers") for r in wired["route"]["routes"]] == \
            [r.get("matchers") for r in example["route"]["routes"]]
        for receiver in wired["receivers"]:
            for hook_config in receiver.get("webhook_configs") or []:
                assert hook_config["url"] == hook.url_for(receiver["name"])
        assert wired["route"]["group_wait"] == "1s"
        path = tmp_path / "alertmanager.yml"
        path.write_text(yaml.safe_dump(wired))
        proc = subprocess.run([tool("amtool"), "check-config", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compressed_time_rules_are_regenerated_with_short_durations(tmp_path):
    rules = generate_rules(COMPRESSED_TIME, tmp_path / "generated")
    proc = subprocess.run([tool("promtool"), "check", "rules", str(rules)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    loaded = yaml.safe_load(rules.read_text())
    by_name = {r["alert"]: r for g in loaded["groups"] for r in g["rules"] if "alert" in r}
    assert by_name["KafkaConsumerGroupEmpty"]["for"] == "5s"
    assert "offset 30s" in by_name["KafkaConsumerGroupEmpty"]["expr"]
    assert by_name["KafkaBrokerMissing"]["for"] == "5s"
    # the repository's own rules are untouched
    committed = yaml.safe_load((ROOT / "alert-rules" / "prometheus-rules.yaml").read_text())
    assert {r["alert"] for g in committed["groups"] for r in g["rules"] if "alert" in r} == set(by_name)


def test_webhook_receiver_collects_notifications_by_receiver():
    with WebhookReceiver() as hook:
        payload = {"status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "X", "a": "1"},
                                                    "annotations": {}}]}
        request = urllib.request.Request(hook.url_for("pager"), data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()
        alert = hook.wait_for(lambda a: a["labels"]["alertname"] == "X", timeout=5)
        assert alert["receiver"] == "pager"
        assert hook.alerts("X", a="1") and not hook.alerts("X", a="2")
        with pytest.raises(TimeoutError, match="delivered"):
            hook.wait_for(lambda a: False, timeout=0.5)


def test_scenarios_cover_the_case_studies_and_scale():
    for name in ("the-3am-mystery", "the-vanishing-messages", "the-slowdown", "the-storm", "the-ghost",
                 "consumers-down", "rebalance-storm", "broker-down"):
        assert name in SCENARIOS
    for scenario in SCENARIOS.values():
        assert scenario.phases and scenario.expected_alerts
        for alert in scenario.expected_alerts:
            assert (ROOT / "runbooks" / f"{alert}.md").is_file(), alert
        scaled = scenario.scaled(60)
        assert abs(scaled.seconds - 60) <= 5 * len(scenario.phases)
        needs_cluster = any("kill_broker" in p.actions for p in scenario.phases)
        assert needs_cluster == (scenario.brokers == 3)
