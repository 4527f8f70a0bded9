"""PromQL checks: which metric names an expression uses, does it parse (`promtool check rules`), do rules pass
their unit tests (`promtool test rules`). The one place the tools run promtool on rules."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from kafka_detective.errors import UserError
from kafka_detective.metrics.catalogue import all_sample_names

KEYWORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless",
    "inf", "nan", "atan2", "start", "end",
})
# Metrics from outside the exporter that patterns and runbooks may use.
EXTERNAL_METRICS = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds",
                              "scrape_samples_scraped"})
EXTERNAL_PREFIXES = ("node_", "container_", "kube_", "process_")

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """Metric names (selectors) used in a PromQL expression; a lexical approximation good for our rules."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"#[^\n]*", "", text)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    for match in _IDENT.finditer(text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        # Durations after `offset` (1d, 5m) are numbers followed by a unit; they start with a digit and never
        # match. Exponent notation like 1e3 is excluded by the lookbehind.
        names.add(word)
    return names


def is_known_metric(name: str, recorded: set[str]) -> bool:
    return (name in all_sample_names() or name in recorded or name in EXTERNAL_METRICS
            or name.startswith(EXTERNAL_PREFIXES))


def find_tool(name: str) -> str:
    """Path of promtool/amtool: PATH first, then the project's tool cache. Missing → UserError naming it."""
    found = shutil.which(name)
    if found:
        return found
    cached = Path(os.path.expanduser("~/.cache/kafka-detective/bin")) / name
    if cached.exists():
        return str(cached)
    raise UserError(f"{name} not found on PATH or in ~/.cache/kafka-detective/bin "
                    f"(install the Debian package prometheus / prometheus-alertmanager, or run `make setup`)")


def check_rule_groups(groups: list[dict]) -> str | None:
    """Run `promtool check rules` on the groups; return promtool's error text or None when valid."""
    return _check_rule_text(yaml.safe_dump({"groups": groups}, sort_keys=False))


def _promtool(files: dict[str, str], *args: str) -> str | None:
    """Write `files` (name -> text) to a scratch directory and run `promtool <args>` there; None when promtool
    exits 0, otherwise its output on one line (scratch paths shown as the bare file names)."""
    promtool = find_tool("promtool")
    with tempfile.TemporaryDirectory(prefix="kd-promql-") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        proc = subprocess.run([promtool, *args], cwd=tmp, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return None
        text = (proc.stderr + proc.stdout).replace(f"{tmp}/", "")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("Checking")]
        return " ".join(lines) or f"promtool exited {proc.returncode}"


@functools.lru_cache(maxsize=256)
def _check_rule_text(text: str) -> str | None:
    return _promtool({"rules.yaml": text}, "check", "rules", "rules.yaml")


def run_rule_tests(groups: list[dict], tests: list[dict], evaluation_interval: str = "1m") -> str | None:
    """Run `promtool test rules` on `tests` (promtool unit-test cases) against the rule `groups`; return
    promtool's error text or None when every case passes."""
    rules = yaml.safe_dump({"groups": groups}, sort_keys=False)
    cases = yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": evaluation_interval,
                            "tests": tests}, sort_keys=False)
    return _promtool({"rules.yaml": rules, "tests.yaml": cases}, "test", "rules", "tests.yaml")


def check_expressions(exprs: list[str]) -> str | None:
    """Check that every expression parses: each becomes a recording rule of a throwaway group."""
    rules = [{"record": f"kd_check:expr_{i}", "expr": expr} for i, expr in enumerate(exprs)]
    return check_rule_groups([{"name": "check", "rules": rules}]) if rules else None
