"""Runbooks: one per alert, every section, and every PromQL snippet parses (promtool on a throwaway rule file)."""

from __future__ import annotations

import re
import subprocess
import textwrap

import yaml

from kafka_detective_tools.patterns.render import RUNBOOK_SECTIONS

FENCE = re.compile(r"^( *)```promql\n(.*?)^\1```", re.S | re.M)


def _runbooks(root):
    return sorted((root / "runbooks").glob("*.md"))


def test_one_runbook_per_alert_and_no_other(root, alerts):
    names = {p.stem for p in _runbooks(root)}
    assert names == set(alerts), (f"runbooks without alert: {sorted(names - set(alerts))}; "
                                  f"alerts without runbook: {sorted(set(alerts) - names)}")


def test_runbooks_have_every_section_in_order(root):
    for path in _runbooks(root):
        text = path.read_text()
        assert text.splitlines()[1] == f"# {path.stem}", path.name
        positions = []
        for section in RUNBOOK_SECTIONS:
            match = re.search(rf"^## {section}\n\n(\S)", text, re.M)
            assert match, f"{path.name}: section {section} missing or empty"
            positions.append(match.start())
        assert positions == sorted(positions), f"{path.name}: sections out of order"
        diagnosis = text.split("## Diagnosis")[1].split("## Mitigation")[0]
        mitigation = text.split("## Mitigation")[1].split("## Validation")[0]
        assert "```" in diagnosis and "Expected:" in diagnosis, f"{path.name}: diagnosis without commands"
        assert "```bash" in mitigation and "Expected:" in mitigation, f"{path.name}: mitigation without commands"


def test_every_promql_snippet_parses(root, promtool, tmp_path):
    snippets = []
    for path in _runbooks(root):
        for match in FENCE.finditer(path.read_text()):
            snippets.append((path.name, textwrap.dedent(match.group(2)).strip()))
    assert len(snippets) > 100
    assert not [s for s in snippets if "[[" in s[1]], "unsubstituted placeholders in runbooks"
    rules = [{"record": f"runbook:snippet_{i}:check", "expr": expr} for i, (_, expr) in enumerate(snippets)]
    path = tmp_path / "snippets.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "runbook-snippets", "rules": rules}]}, sort_keys=False))
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        bad = []
        for name, expr in snippets:  # find the culprits for a readable failure
            one = tmp_path / "one.yaml"
            one.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [{"record": "x:y:z", "expr": expr}]}]}))
            if subprocess.run([promtool, "check", "rules", str(one)], capture_output=True, check=False).returncode:
                bad.append(f"{name}: {expr}")
        raise AssertionError("PromQL snippets that do not parse:\n" + "\n".join(bad))
