"""Fixtures for the promtool/amtool tests of the generated alerting artefacts."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kafka_detective.errors import UserError
from kafka_detective_tools.patterns.promql import find_tool

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    """The generator's own lookup (PATH, then the tool cache), as a test failure naming the tool."""
    try:
        return find_tool(name)
    except UserError as missing:
        pytest.fail(f"{missing} (Debian: apt-get install prometheus prometheus-alertmanager, or make setup)")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def promtool() -> str:
    return _tool("promtool")


@pytest.fixture(scope="session")
def promtool_test_rules(promtool: str) -> Callable[[Path], None]:
    """`promtool test rules` on one test file, run in its directory (its rule_files are relative to it)."""
    def run(path: Path) -> None:
        proc = subprocess.run([promtool, "test", "rules", path.name], cwd=path.parent, capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return run


@pytest.fixture(scope="session")
def amtool() -> str:
    return _tool("amtool")


@pytest.fixture(scope="session")
def alertmanager_bin() -> str:
    for name in ("alertmanager", "prometheus-alertmanager"):
        if shutil.which(name):
            return shutil.which(name)
    return _tool("prometheus-alertmanager")


@pytest.fixture(scope="session")
def rule_groups() -> list[dict]:
    return yaml.safe_load((ROOT / "alert-rules" / "prometheus-rules.yaml").read_text())["groups"]


@pytest.fixture(scope="session")
def alerts(rule_groups) -> dict[str, dict]:
    return {r["alert"]: r for g in rule_groups for r in g["rules"] if "alert" in r}


@pytest.fixture(scope="session")
def recorded(rule_groups) -> set[str]:
    return {r["record"] for g in rule_groups for r in g["rules"] if "record" in r}
