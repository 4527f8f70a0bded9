"""Shared helpers of the Helm chart tests (imported by conftest.py and the test modules).

helm must be on PATH or at ~/.cache/kafka-detective/bin/helm (scripts/setup.sh installs it there); go builds
tests/helm/crdcheck once per session. A missing tool fails the test with its name; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "kafka-detective"
CRDCHECK_SRC = Path(__file__).resolve().parent / "crdcheck"
KUBERNETES_VERSION = "1.34.0"  # the version rendered manifests are validated against (kubernetes-validate)
HELM_CACHE = Path.home() / ".cache" / "kafka-detective" / "bin"

# Stand-ins for the generated chart files (files/prometheus-rules.yaml, files/dashboards/*.json), used only in
# the tests' temporary chart copy while `kafka-detective generate` has not produced them yet.
PLACEHOLDER_RULES = """\
groups:
  - name: kafka-detective.placeholder
    rules:
      - record: kafka_detective:placeholder_lag:sum
        expr: sum by (cluster, group) (kafka_consumergroup_lag)
      - alert: KafkaConsumerLagHigh
        expr: |
          sum by (cluster, group) (kafka_consumergroup_lag) > 1000
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "Consumer group {{ $labels.group }} on {{ $labels.cluster }} lags"
          description: "Lag is {{ $value | humanize }} messages."
          runbook_url: https://example.invalid/kafka-detective/runbooks/KafkaConsumerLagHigh.md
          dashboard_url: http://grafana.example.com/d/kafka-detective-overview?var-cluster={{ $labels.cluster }}
      - alert: KafkaConsumerGroupDown
        expr: max by (cluster, group) (kafka_detective_diagnosis{root_cause="consumer_down"}) == 1
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "Consumer group {{ $labels.group }} has no members"
          runbook_url: https://example.invalid/kafka-detective/runbooks/KafkaConsumerGroupDown.md
"""
PLACEHOLDER_DASHBOARD = (
    '{\n  "title": "Kafka Detective placeholder",\n'
    '  "panels": [{"targets": [{"expr": "sum by (group) (kafka_consumergroup_lag{cluster=\\"$cluster\\"})",\n'
    '    "legendFormat": "{{group}} <&> {{ $labels }}"}]}],\n  "templating": {"list": []}\n}\n'
)


def generated_files_present(chart: Path = CHART) -> bool:
    files = chart / "files"
    return (files / "prometheus-rules.yaml").is_file() and any((files / "dashboards").glob("*.json"))


def find_tool(name: str, extra_dirs: Iterable[Path] = ()) -> str:
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    where = " or ".join(["PATH", *(str(d) for d in extra_dirs)])
    pytest.fail(f"{name} not found on {where}: run `make setup` (scripts/setup.sh installs it)", pytrace=False)


def ci_values_files() -> list[Path]:
    return sorted((CHART / "ci").glob("*-values.yaml"))


class Rendered(list):
    """The documents of a `helm template` run."""

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self if doc.get("kind") == kind]

    def one(self, kind: str) -> dict[str, Any]:
        docs = self.of_kind(kind)
        assert len(docs) == 1, f"expected one {kind}, got {len(docs)}"
        return docs[0]


class HelmRunner:
    def __init__(self, helm: str, chart: Path, tmp: Path) -> None:
        self.helm, self.chart, self.tmp = helm, chart, tmp
        self._count = 0

    def _values_args(self, values: Iterable[Path | str] = (), overrides: dict[str, Any] | None = None) -> list[str]:
        args: list[str] = []
        for path in values:
            args += ["-f", str(path)]
        if overrides is not None:
            self._count += 1
            extra = self.tmp / f"overrides-{self._count}.yaml"
            extra.write_text(yaml.safe_dump(overrides))
            args += ["-f", str(extra)]
        return args

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([self.helm, *args], capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            pytest.fail(f"helm {' '.join(args)} failed:\n{result.stderr}", pytrace=False)
        return result

    def template_text(self, values: Iterable[Path | str] = (), overrides: dict[str, Any] | None = None,
                      chart: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("template", "kd", str(chart or self.chart), "--namespace", "monitoring",
                        "--kube-version", KUBERNETES_VERSION, *self._values_args(values, overrides), check=check)

    def template(self, values: Iterable[Path | str] = (), overrides: dict[str, Any] | None = None,
                 chart: Path | None = None) -> Rendered:
        text = self.template_text(values, overrides, chart).stdout
        return Rendered(doc for doc in yaml.safe_load_all(text) if doc)

    def lint(self, values: Iterable[Path | str] = ()) -> subprocess.CompletedProcess[str]:
        return self.run("lint", "--strict", str(self.chart), *self._values_args(values), check=False)

    def notes(self, values: Iterable[Path | str] = (), overrides: dict[str, Any] | None = None) -> str:
        """NOTES.txt as the chart renders it with these values. helm has no client-only install here, so a copy of
        the chart wraps the notes into a ConfigMap that `helm template` prints."""
        copy = self.tmp / "notes-chart" / self.chart.name
        if not copy.exists():
            shutil.copytree(self.chart, copy)
            notes = (copy / "templates" / "NOTES.txt").read_text()
            (copy / "templates" / "_notes_for_test.tpl").write_text(
                '{{- define "test.notes" -}}' + notes + "{{- end -}}")
            (copy / "templates" / "notes-for-test.yaml").write_text(
                'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n'
                '  notes: {{ include "test.notes" . | toJson }}\n')
        rendered = self.template(values, overrides, chart=copy)
        return next(d for d in rendered if d["metadata"]["name"] == "notes")["data"]["notes"]


