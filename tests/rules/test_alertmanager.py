"""The example Alertmanager config: amtool accepts it, routes by severity, and inhibits per-group symptoms."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import yaml

RECEIVER = {"critical": "pager", "warning": "ticket", "info": "null"}


@pytest.fixture(scope="module")
def config_path(root):
    return root / "alertmanager" / "alertmanager.yml"


def test_amtool_check_config(amtool, config_path):
    proc = subprocess.run([amtool, "check-config", str(config_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


@pytest.mark.parametrize("severity", sorted(RECEIVER))
def test_routes_by_severity(amtool, config_path, alerts, severity):
    names = sorted(a for a, rule in alerts.items() if rule["labels"]["severity"] == severity)
    assert names, f"no {severity} alert"
    for name in (names[0], names[-1]):
        proc = subprocess.run(
            [amtool, "config", "routes", "test", f"--config.file={config_path}",
             f"--verify.receivers={RECEIVER[severity]}", f"alertname={name}", f"severity={severity}", "cluster=prod",
             "consumergroup=orders"], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{name}: {proc.stdout}{proc.stderr}"
        assert proc.stdout.strip() == RECEIVER[severity]


def test_grouping_and_inhibition_structure(config_path, alerts):
    config = yaml.safe_load(config_path.read_text())
    assert config["route"]["group_by"] == ["cluster", "alertname", "consumergroup"]
    sources = set()
    for rule in config["inhibit_rules"]:
        assert rule["equal"] == ["cluster"]
        (source,) = rule["source_matchers"]
        sources.add(source.split('"')[1])
    assert {"KafkaClusterUnreachable", "KafkaClusterLagStorm", "KafkaOfflinePartitions",
            "KafkaBrokerMissing"} <= sources
    assert sources <= set(alerts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, data=None):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"},
                                     method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def test_inhibition_with_a_real_alertmanager(alertmanager_bin, config_path, alerts, tmp_path):
    """Source alerts silence the same cluster's per-group symptoms — not data loss, not other clusters."""
    port = _free_port()
    proc = subprocess.Popen(
        [alertmanager_bin, f"--config.file={config_path}", f"--storage.path={tmp_path}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/api/v2"
    try:
        for _ in range(100):
            try:
                _call(f"{base}/status")
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read().decode()) from None
                time.sleep(0.1)
        now = datetime.now(UTC)
        window = {"startsAt": (now - timedelta(minutes=1)).isoformat(),
                  "endsAt": (now + timedelta(minutes=30)).isoformat()}

        def alert(name, **labels):
            rule = alerts[name]
            return {"labels": {"alertname": name, "severity": rule["labels"]["severity"],
                               "scope": rule["labels"]["scope"], **labels}, **window}

        sent = [
            alert("KafkaClusterUnreachable", cluster="prod"),
            alert("KafkaClusterLagStorm", cluster="dr"),
            alert("KafkaConsumerLagSecondsHigh", cluster="prod", consumergroup="billing", topic="payments"),
            alert("KafkaConsumerStalled", cluster="dr", consumergroup="billing", topic="payments"),
            alert("KafkaConsumerMessagesLost", cluster="prod", consumergroup="billing", topic="payments"),
            alert("KafkaConsumerLagSecondsHigh", cluster="staging", consumergroup="billing", topic="payments"),
            alert("KafkaUnderReplicatedPartitions", cluster="prod", topic="payments"),
        ]
        _call(f"{base}/alerts", sent)
        expected = {  # (alertname, cluster) -> inhibited?
            ("KafkaClusterUnreachable", "prod"): False,
            ("KafkaClusterLagStorm", "dr"): False,
            ("KafkaConsumerLagSecondsHigh", "prod"): True,
            ("KafkaConsumerStalled", "dr"): True,
            ("KafkaConsumerMessagesLost", "prod"): False,   # data loss is never inhibited
            ("KafkaConsumerLagSecondsHigh", "staging"): False,
            ("KafkaUnderReplicatedPartitions", "prod"): True,
        }
        got = {}
        for _ in range(50):
            got = {(a["labels"]["alertname"], a["labels"]["cluster"]): bool(a["status"]["inhibitedBy"])
                   for a in _call(f"{base}/alerts")}
            if got == expected:
                break
            time.sleep(0.2)
        assert got == expected
    finally:
        proc.terminate()
        proc.wait(timeout=10)
