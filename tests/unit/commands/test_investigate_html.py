"""`kafka-detective investigate --html`: the case file as one self-contained page beside the markdown report."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_detective.cli import main
from synthetic import scenario, write_samples_trace

from ..html_support import parse


@pytest.fixture(scope="module")
def trace(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("traces") / "stall.om.txt"
    write_samples_trace(path, scenario("consumer_stalled", n=400, onset=300, noise=0.1).samples())
    return path


def test_html_case_file_is_self_contained(tmp_path, trace, capsys):
    out = tmp_path / "report"
    assert main(["investigate", "--trace", str(trace), "--group", "checkout", "--out", str(out), "--html",
                 "--library-dir", str(tmp_path / "none")]) == 0
    assert capsys.readouterr().out.strip() == str(out / "report.md")   # the markdown report stays
    page = (out / "report.html").read_text()
    parsed = parse(page)
    text = " ".join(parsed.text)
    assert "Consumers stalled (committed offset frozen)" in text
    assert parsed.tags.count("svg") == 4 and "Runbook:" in text and 'id="evidence"' in page
    assert "\u2717 produce rate at baseline (x1.02)" in text      # against a ranked alternative (producer_spike)
    # nothing to fetch and nothing to run: no scripts, no external sources, no links back to an exporter
    assert "script" not in parsed.tags
    assert not any(name in ("src", "href") for name, _ in parsed.attrs)


def test_without_html_there_is_no_page(tmp_path, trace, capsys):
    out = tmp_path / "report"
    assert main(["investigate", "--trace", str(trace), "--group", "checkout", "--out", str(out),
                 "--library-dir", str(tmp_path / "none")]) == 0
    assert not (out / "report.html").exists()
