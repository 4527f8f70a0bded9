"""Helpers of the e2e tests (imported via sys.path, like tests/helm/helm_chart_support.py).

End to end: a real Kafka, the exporter, a real Prometheus and Alertmanager, and a webhook receiver.

Each test module builds one `E2E` environment (module scope) and plays its scenarios concurrently, on their own
topics and groups, so the whole folder runs in a few minutes. Prometheus loads the alert rules regenerated with
short windows and `for:` durations (`kafka-detective generate --config-override`, `stack.COMPRESSED_TIME`), the
Alertmanager runs the example `alertmanager/alertmanager.yml` with its receivers pointed at the webhook.

Nothing here skips: without Java, Maven, Prometheus or Alertmanager the fixtures fail saying what to install.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kafka_detective_tools.repo import find_root
from kafka_detective_tools.sandbox.local_kafka import LocalKafka
from kafka_detective_tools.sandbox.stack import Stack, sandbox_exporter
from kafka_detective_tools.sandbox.traffic import TrafficDriver, TrafficScenario

ROOT = find_root()
CLUSTER = "e2e"
SEVERITY_RECEIVER = {"critical": "pager", "warning": "ticket"}


@dataclass
class E2E:
    kafka: LocalKafka
    exporter: Any
    stack: Stack
    drivers: dict[str, TrafficDriver] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def prometheus(self):
        assert self.stack.prometheus is not None
        return self.stack.prometheus

    @property
    def alertmanager(self):
        assert self.stack.alertmanager is not None
        return self.stack.alertmanager

    @property
    def webhook(self):
        return self.stack.webhook

    def play(self, key: str, scenario: TrafficScenario, **kw: Any) -> TrafficDriver:
        driver = TrafficDriver(self.kafka.bootstrap_servers, scenario, kafka=self.kafka, **kw).start()
        self.drivers[key] = driver
        return driver


@contextlib.contextmanager
def e2e_environment(brokers: int, overrides: dict[str, Any] | None = None) -> Iterator[E2E]:
    """Kafka, the exporter and the stack; ``overrides`` replaces the compressed-time `_config` keys."""
    with LocalKafka(brokers=brokers) as kafka:
        exporter = sandbox_exporter(kafka.bootstrap_servers, cluster=CLUSTER)
        with exporter, Stack([f"127.0.0.1:{exporter.port}"], overrides=overrides) as stack:
            env = E2E(kafka, exporter, stack)
            try:
                wait_until(lambda: env.prometheus.value(f'kafka_detective_cluster_up{{cluster="{CLUSTER}"}}') == 1,
                           60, "Prometheus scrapes the exporter and the exporter reaches Kafka")
                yield env
            finally:
                for driver in env.drivers.values():
                    driver.stop()


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            result = predicate()
            if result:
                return result
        except Exception as error:   # a query during start-up may fail; report the last failure on timeout
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}"
                                 + (f" (last error: {last_error})" if last_error else ""))
        time.sleep(interval)


def runbook_url_base() -> str:
    config = yaml.safe_load((ROOT / "patterns" / "config.yaml").read_text())
    return str(config["_config"]["runbook_url_base"]).rstrip("/")


def check_delivered(env: E2E, alertname: str, timeout: float, diagnosis: str | None = None,
                    **labels: str) -> dict[str, Any]:
    """Wait for the alert at the webhook (with the diagnosis label when given) and check its runbook link and
    that it went to the receiver its severity routes to."""
    def match(alert: dict[str, Any]) -> bool:
        got = alert["labels"]
        return (got.get("alertname") == alertname and all(got.get(k) == v for k, v in labels.items())
                and (diagnosis is None or got.get("diagnosis") == diagnosis))

    what = f"{alertname}{labels}" + (f" with diagnosis={diagnosis}" if diagnosis else "")
    alert = env.webhook.wait_for(match, timeout=timeout, what=what)
    url = alert["annotations"].get("runbook_url", "")
    assert url == f"{runbook_url_base()}/{alertname}.md", url
    runbook = ROOT / "runbooks" / url.rsplit("/", 1)[-1]
    assert runbook.is_file(), f"runbook_url {url} points at {runbook}, which does not exist"
    assert f"# {alertname}" in runbook.read_text()
    severity = alert["labels"].get("severity")
    if severity in SEVERITY_RECEIVER:
        assert alert["receiver"] == SEVERITY_RECEIVER[severity], (severity, alert["receiver"])
    return alert


_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def substitute_grafana(expr: str, values: dict[str, str] | None = None) -> str:
    """Grafana's variables replaced the way Grafana would for 'All' (regex `.*`) or the given values."""
    fixed = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", "__range_s": "3600",
             "__interval_ms": "15000", "__range_ms": "3600000"}

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name in fixed:
            return fixed[name]
        return (values or {}).get(name, ".*")

    return _VAR.sub(repl, expr)


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, expr) of every panel target of every dashboards/*.json."""
    import json

    out = []
    for path in sorted((ROOT / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())

        def walk(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for panel in panels:
                yield panel
                yield from walk(panel.get("panels") or [])

        for panel in walk(dashboard.get("panels") or []):
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    out.append((path.name, str(panel.get("title")), target["expr"]))
    return out


def runbook_promql() -> list[tuple[str, str]]:
    """(runbook file, expr) of every ```promql block in runbooks/*.md."""
    out = []
    for path in sorted((ROOT / "runbooks").glob("*.md")):
        for block in re.findall(r"```promql\n(.*?)```", path.read_text(), flags=re.S):
            out.append((path.name, block.strip()))
    return out


def recording_rules() -> list[tuple[str, str]]:
    rules = yaml.safe_load((ROOT / "alert-rules" / "prometheus-rules.yaml").read_text())
    return [(r["record"], r["expr"]) for g in rules["groups"] for r in g["rules"] if "record" in r]


def path_of(name: str) -> Path:
    return ROOT / name
