"""Fixtures of the Helm chart tests: the helm and go tools, a chart copy, rendering, and the CRD checker.

helm must be on PATH or at ~/.cache/kafka-detective/bin/helm (scripts/setup.sh installs it there); go builds
tests/helm/crdcheck once per session. A missing tool fails the test with its name; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helm_chart_support import (
    CHART,
    CRDCHECK_SRC,
    HELM_CACHE,
    PLACEHOLDER_DASHBOARD,
    PLACEHOLDER_RULES,
    HelmRunner,
    find_tool,
    generated_files_present,
)


@pytest.fixture(scope="session")
def helm() -> str:
    return find_tool("helm", [HELM_CACHE])


@pytest.fixture(scope="session")
def promtool() -> str:
    return find_tool("promtool")


@pytest.fixture(scope="session")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart; with placeholder generated files when the real ones are not there yet."""
    copy = tmp_path_factory.mktemp("chart") / "kafka-detective"
    shutil.copytree(CHART, copy)
    if not generated_files_present(copy):
        shutil.rmtree(copy / "files", ignore_errors=True)
        (copy / "files" / "dashboards").mkdir(parents=True)
        (copy / "files" / "prometheus-rules.yaml").write_text(PLACEHOLDER_RULES)
        (copy / "files" / "dashboards" / "kafka-detective-placeholder.json").write_text(PLACEHOLDER_DASHBOARD)
    return copy


@pytest.fixture(scope="session")
def helm_runner(helm: str, chart: Path, tmp_path_factory: pytest.TempPathFactory) -> HelmRunner:
    return HelmRunner(helm, chart, tmp_path_factory.mktemp("values"))


@pytest.fixture(scope="session")
def defaults_values() -> Path:
    return CHART / "ci" / "defaults-values.yaml"


@pytest.fixture(scope="session")
def crdcheck(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], subprocess.CompletedProcess[str]]:
    """Builds tests/helm/crdcheck once per session; returns a function that checks rendered YAML text."""
    go = find_tool("go", [Path("/usr/local/go/bin"), Path.home() / "go" / "bin"])
    binary = tmp_path_factory.mktemp("crdcheck") / "crdcheck"
    env = {**os.environ, "GOFLAGS": "-mod=readonly", "CGO_ENABLED": "0"}
    build = subprocess.run([go, "build", "-o", str(binary), "."], cwd=CRDCHECK_SRC, capture_output=True, text=True,
                           env=env, timeout=600)
    if build.returncode != 0:
        pytest.fail("building tests/helm/crdcheck failed (its Go modules come from the module proxy; "
                    f"scripts/setup.sh pre-downloads them with `go mod download`):\n{build.stderr}", pytrace=False)

    def check(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(binary)], input=text, capture_output=True, text=True, timeout=60)

    return check
