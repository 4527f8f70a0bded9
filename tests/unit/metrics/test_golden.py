"""Golden exposition files: the exact /metrics text each concern renders for a hand-built cycle.

One file per builder module under golden/<concern>.prom, holding that module's families in catalogue order as
the exposition renders them (HELP and TYPE lines included). A change to a label, a value, an order or a help
text shows up as a diff of the file. After an intended change, rewrite the files with
`python -m pytest tests/unit/metrics --update-golden` (or UPDATE_GOLDEN=1) and read the diff.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kafka_detective.metrics import render, self_metrics
from kafka_detective.metrics.catalogue import CATALOGUE
from kafka_detective.metrics.exposition import Exposition

from .golden_fixture import CLUSTER, view

GOLDEN = Path(__file__).parent / "golden"
CONCERNS = {module.__name__.rsplit(".", 1)[1]: module for module in (*render.CONCERNS, self_metrics)}


def page() -> str:
    exposition = Exposition()
    exposition.publish(CLUSTER, render.cluster_families(view()))
    return exposition.static_body().decode("utf-8")


def concern_text(concern: str) -> str:
    """The blocks (HELP, TYPE and samples) of the concern's families, cut out of the whole page."""
    blocks = {m.group(1): m.group(0)
              for m in re.finditer(r"^# HELP (\S+) .*?(?=^# HELP |\Z)", page(), flags=re.M | re.S)}
    return "".join(blocks[spec.name] for spec in CONCERNS[concern].SPECS if spec.name in blocks)


@pytest.mark.parametrize("concern", sorted(CONCERNS))
def test_exposition_matches_the_golden_file(concern: str, update_golden: bool) -> None:
    path = GOLDEN / f"{concern}.prom"
    text = concern_text(concern)
    if update_golden:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs: rerun with --update-golden, read the diff"


def test_the_golden_files_cover_every_rendered_family_with_samples() -> None:
    """Every line of the page is in exactly one golden file, and every family rendered per cycle has samples."""
    golden = "".join(concern_text(c) for c in CONCERNS)
    assert sorted(golden.splitlines()) == sorted(page().splitlines())
    assert {p.stem for p in GOLDEN.glob("*.prom")} == set(CONCERNS)
    with_samples = set(re.findall(r"^(\w+)\{", golden, flags=re.M))
    scrape_time = {spec.name for spec in self_metrics.SCRAPE_TIME_SPECS}
    # The per-topic sums of topic granularity are not part of the default page (test_selection.py renders them).
    topic_sums = {spec.name for spec in CATALOGUE if spec.replaces}
    assert with_samples == {spec.name for spec in CATALOGUE} - scrape_time - topic_sums


@pytest.mark.parametrize("concern", sorted(CONCERNS))
def test_golden_file_passes_promtool(concern: str) -> None:
    promtool = shutil.which("promtool") or str(Path.home() / ".cache/kafka-detective/bin/promtool")
    assert Path(promtool).exists(), "promtool is missing: run scripts/setup.sh (Debian package prometheus)"
    text = (GOLDEN / f"{concern}.prom").read_text(encoding="utf-8")
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    # Exit 3 is lint findings only; the one allowed is kafka_exporter's `_sum` names, kept for its dashboards.
    assert result.returncode in (0, 3), result.stderr + result.stdout
    compatible_sums = {s.name for s in CATALOGUE if s.kafka_exporter_compatible and s.name.endswith("_sum")}
    for line in filter(str.strip, (result.stdout + result.stderr).splitlines()):
        assert line.split()[0] in compatible_sums and '"_sum" suffix' in line, line
