"""A real Prometheus and Alertmanager on loopback, wired to the exporter and a webhook receiver.

Used by the end-to-end tests and ``kafka-detective demo``:

* the alert rules are the generated ones, regenerated in a temporary directory with
  ``kafka-detective generate --config-override <yaml> --output-dir <dir>`` from the same ``_config`` object users
  override, with SHORT windows and ``for:`` durations (``COMPRESSED_TIME`` below) so alerts fire within seconds;
* Prometheus scrapes the exporter every second, evaluates the rules every second and sends alerts to the
  Alertmanager;
* the Alertmanager runs the example configuration ``alertmanager/alertmanager.yml`` (routes and inhibition rules
  unchanged) with every webhook receiver pointed at a ``WebhookReceiver`` (``<webhook>/<receiver name>``) and
  short ``group_wait``/``group_interval``.

Every process gets a free 127.0.0.1 port and a temporary data directory, runs in its own process group, is
registered with the sandbox's reaper (so it dies with the Python process, even on SIGKILL) and is stopped by
``stop()`` / the context manager. A system Prometheus/Alertmanager service is never touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
import yaml

from kafka_detective import yamlio
from kafka_detective.errors import UserError
from kafka_detective_tools.repo import find_root
from kafka_detective_tools.sandbox.reaper import Reaper
from kafka_detective_tools.sandbox.webhook import WebhookReceiver

log = logging.getLogger(__name__)

INSTALL_HINT = ("install the Debian packages: `apt-get install prometheus prometheus-alertmanager` "
                "(or run `make setup`)")

# Pattern-library keys (patterns/config.yaml) for a compressed-time run: windows of tens of seconds instead of
# minutes and hours, `for:` of a few seconds, small thresholds. Same keys users override in production.
COMPRESSED_TIME: dict[str, Any] = {
    "lag_messages_warning": 3000,
    "lag_messages_window": "20s",
    "lag_messages_produce_seconds": 10,
    "lag_messages_for": "5s",
    "lag_messages_short_window": "10s",
    "lag_seconds_warning": 30,
    "lag_seconds_critical": 120,
    "lag_seconds_for": "5s",
    "lag_keep_firing_for": "30s",
    "lag_growing_window": "1m",
    "lag_growing_min_increase": 100,
    "lag_growing_for": "10s",
    "lag_growing_short_window": "20s",
    "death_spiral_window": "30s",
    "death_spiral_for": "15s",
    "stalled_window": "20s",
    "stalled_for": "5s",
    "empty_group_window": "30s",
    "empty_group_for": "5s",
    "rebalance_window": "1m",
    "rebalance_threshold": 3,
    "rebalance_for": "5s",
    "rebalance_keep_firing_for": "1m",
    "slowdown_for": "10s",
    "producer_spike_for": "10s",
    "lost_messages_window": "2m",
    "lost_messages_for": "0s",
    "lost_messages_keep_firing_for": "2m",
    "retention_breach_seconds_warning": 600,
    "retention_breach_for": "5s",
    "predicted_lag_growth_window": "20s",
    "predicted_lag_for": "5s",
    "offset_rewind_window": "1m",
    "leader_election_window": "2m",
    "leader_election_threshold": 1,
    "broker_missing_window": "10m",
    "broker_missing_for": "5s",
    "under_replicated_for": "5s",
    "offline_for": "5s",
    "under_min_isr_for": "5s",
    "cluster_storm_for": "10s",
    "kafka_unreachable_for": "10s",
    "exporter_down_for": "30s",
    "exporter_job_selector": 'job="kafka-detective"',
}

ALERTMANAGER_TIMINGS = {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_binary(*names: str) -> str:
    """Path of the first of ``names`` on PATH; UserError saying how to install it otherwise."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise UserError(f"`{names[0]}` is not installed: {INSTALL_HINT}")


def generate_rules(overrides: Mapping[str, Any], out_dir: Path, root: Path | None = None) -> Path:
    """Run ``kafka-detective generate --config-override <yaml> --output-dir <out_dir>``; returns the rules file."""
    root = root or find_root()
    out_dir.mkdir(parents=True, exist_ok=True)
    override = out_dir / "config-override.yaml"
    override.write_text(yaml.safe_dump({"_config": dict(overrides)}, sort_keys=True))
    cmd = [sys.executable, "-m", "kafka_detective", "generate", "--root", str(root),
           "--config-override", str(override), "--output-dir", str(out_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=root)
    rules = out_dir / "alert-rules" / "prometheus-rules.yaml"
    if proc.returncode != 0 or not rules.is_file():
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return rules


# --------------------------------------------------------------------------------------------------------------


class _Process:
    """A server binary in its own process group with a temporary directory, registered with the reaper."""

    name = "process"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def _spawn(self, cmd: Sequence[str]) -> None:
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=self.workdir, start_new_session=True)
        Reaper.send(f"+g {self.proc.pid}")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
        Reaper.send(f"-g {proc.pid}")


class Alertmanager(_Process):
    name = "alertmanager"

    def __init__(self, workdir: Path, webhook: WebhookReceiver, example: Path | None = None,
                 timings: Mapping[str, str] | None = None) -> None:
        super().__init__(workdir)
        self.binary = find_binary("prometheus-alertmanager", "alertmanager")
        self.example = example or find_root() / "alertmanager" / "alertmanager.yml"
        self.config_path = workdir / "alertmanager.yml"
        self.config = wire_alertmanager_config(yamlio.load_file(self.example, "alertmanager example"), webhook,
                                               timings or ALERTMANAGER_TIMINGS)

    def start(self) -> Alertmanager:
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        (self.workdir / "data").mkdir(exist_ok=True)
        self._spawn([self.binary, f"--config.file={self.config_path}", f"--storage.path={self.workdir / 'data'}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
                     "--log.level=warn"])
        self.wait_ready()
        return self

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """/api/v2/alerts: every alert the Alertmanager holds, with status.state active|suppressed and
        status.inhibitedBy."""
        response = requests.get(f"{self.url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        return [a for a in response.json() if all(a["labels"].get(k) == v for k, v in filters.items())]


def wire_alertmanager_config(config: dict[str, Any], webhook: WebhookReceiver,
                             timings: Mapping[str, str]) -> dict[str, Any]:
    """The example config with every webhook URL replaced by ``<webhook>/<receiver>`` and short timings.

    Routes, matchers and inhibition rules are kept as they are: they are what the tests check."""
    config = yaml.safe_load(yaml.safe_dump(config))  # deep copy
    config.setdefault("global", {})["resolve_timeout"] = "1m"
    config["route"].update(timings)
    for route in config["route"].get("routes") or []:
        if "repeat_interval" in route:
            route["repeat_interval"] = timings.get("repeat_interval", "1h")
    for receiver in config.get("receivers") or []:
        hooks = receiver.get("webhook_configs") or []
        for hook in hooks:
            hook["url"] = webhook.url_for(receiver["name"])
            hook["send_resolved"] = True
    return config


class PrometheusServer(_Process):
    name = "prometheus"

    def __init__(self, workdir: Path, targets: Sequence[str], rule_files: Sequence[Path],
                 alertmanager_url: str | None, interval: str = "1s", job: str = "kafka-detective") -> None:
        super().__init__(workdir)
        self.binary = find_binary("prometheus")
        self.config_path = workdir / "prometheus.yml"
        self.config: dict[str, Any] = {
            "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(targets)}]}],
        }
        if alertmanager_url:
            host = alertmanager_url.split("://", 1)[-1].rstrip("/")
            self.config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [host]}]}]}

    def start(self) -> PrometheusServer:
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        (self.workdir / "data").mkdir(exist_ok=True)
        self._spawn([self.binary, f"--config.file={self.config_path}", f"--storage.tsdb.path={self.workdir / 'data'}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn",
                     "--storage.tsdb.retention.time=1d", "--web.enable-lifecycle"])
        self.wait_ready()
        return self

    # -- HTTP API -----------------------------------------------------------------------------------------------

    def api(self, path: str, **params: Any) -> Any:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            raise PromQLError(f"{body.get('errorType')}: {body.get('error')} ({params.get('query', path)})")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [{"value": data["result"]}]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def rule_alerts(self, alertname: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """/api/v1/alerts: alerts pending or firing in Prometheus (before any Alertmanager routing)."""
        alerts = self.api("alerts")["alerts"]
        return [a for a in alerts if (alertname is None or a["labels"].get("alertname") == alertname)
                and (state is None or a["state"] == state)]

    def rule_health(self) -> list[str]:
        """Rules whose last evaluation failed: ``group/name: error``."""
        bad = []
        for group in self.api("rules")["groups"]:
            for rule in group["rules"]:
                if rule.get("health") == "err":
                    bad.append(f"{group['name']}/{rule.get('name')}: {rule.get('lastError')}")
        return bad

    def targets_up(self) -> bool:
        active = self.api("targets")["activeTargets"]
        return bool(active) and all(t["health"] == "up" for t in active)


class PromQLError(RuntimeError):
    pass


class Stack:
    """Webhook receiver + Alertmanager + Prometheus scraping ``targets`` with the regenerated short rules.

        with Stack(["127.0.0.1:9308"]) as stack:
            stack.prometheus.query("kafka_brokers")
            stack.webhook.wait_for(lambda a: ..., timeout=60)
    """

    def __init__(self, targets: Sequence[str], overrides: Mapping[str, Any] | None = None,
                 workdir: Path | None = None, keep_workdir: bool = False) -> None:
        self.targets = list(targets)
        self.overrides = dict(COMPRESSED_TIME if overrides is None else overrides)
        self._temp = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kafka-detective-stack-"))
        self.keep_workdir = keep_workdir
        self.webhook = WebhookReceiver()
        self.alertmanager: Alertmanager | None = None
        self.prometheus: PrometheusServer | None = None
        self.rules_file: Path | None = None
        self.generated_dir = self.workdir / "generated"

    def start(self) -> Stack:
        # Fail fast, before anything is started, when a binary is missing.
        find_binary("prometheus")
        find_binary("prometheus-alertmanager", "alertmanager")
        if self._temp:
            Reaper.send(f"+d {self.workdir}")
        try:
            self.rules_file = generate_rules(self.overrides, self.generated_dir)
            self.webhook.start()
            (self.workdir / "alertmanager").mkdir(parents=True, exist_ok=True)
            (self.workdir / "prometheus").mkdir(parents=True, exist_ok=True)
            self.alertmanager = Alertmanager(self.workdir / "alertmanager", self.webhook).start()
            self.prometheus = PrometheusServer(self.workdir / "prometheus", self.targets, [self.rules_file],
                                         self.alertmanager.url).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in (self.prometheus, self.alertmanager):
            if proc is not None:
                proc.stop()
        with contextlib.suppress(Exception):
            self.webhook.stop()
        if self._temp and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            Reaper.send(f"-d {self.workdir}")

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------------------------
# The exporter in compressed time
# --------------------------------------------------------------------------------------------------------------

# OnlineAnalytics time constants for a run where minutes stand for hours, about 12 times shorter than the
# production defaults: history records every 5 s instead of every minute, a diagnosis every 5 s instead of every
# minute, a problem held 60 s after its last evidence instead of 10 minutes, a backlog of 10 s of production is
# material (120 s), short episodes 2 minutes apart are intermittent (30 minutes). The anomaly detectors' warm-up
# (20 values 30 s apart) is not among them: the stories are diagnosed without their scores.
COMPRESSED_ANALYTICS: dict[str, Any] = {
    "history_seconds": 600,
    "history_points": 120,
    "diagnose_every_seconds": 5.0,
    "problem_hold_seconds": 60.0,
    "min_backlog_seconds": 10.0,
    "intermittent_min_gap_seconds": 120.0,
}


def sandbox_exporter_config(bootstrap: str, cluster: str = "sandbox", interval_seconds: float = 1.0,
                            port: int = 0) -> Any:
    """Exporter configuration for a local cluster: 127.0.0.1, collection every second, configs every 10 s."""
    from kafka_detective.config import parse_config

    return parse_config({
        "listen_address": "127.0.0.1", "listen_port": port, "interval_seconds": interval_seconds,
        "config_refresh_seconds": 10,
        "analysis": dict(COMPRESSED_ANALYTICS),
        "clusters": [{"name": cluster, "bootstrap_servers": bootstrap.split(","), "request_timeout_seconds": 5}],
    })


def sandbox_exporter(bootstrap: str, cluster: str = "sandbox", port: int = 0) -> Any:
    """An (unstarted) ``Exporter`` for a local cluster in compressed time."""
    from kafka_detective.exporter import Exporter

    return Exporter(sandbox_exporter_config(bootstrap, cluster, port=port))
