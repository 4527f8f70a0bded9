"""The pattern library's typed API is the one reader of patterns/*.yaml: readers built on it see every problem,
and the cause -> alerts mapping comes from the patterns' `root_causes` only."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from kafka_detective.analysis.signatures import load_signatures
from kafka_detective.errors import UserError
from kafka_detective_tools.investigation.learn import LabelledIncident, learn
from kafka_detective_tools.repo import find_root
from synthetic import scenario

ROOT = find_root()


def test_learn_stops_on_a_broken_library_file_naming_it(tmp_path: Path) -> None:
    lib = tmp_path / "root" / "patterns"
    lib.mkdir(parents=True)
    for name in ("config.yaml", "recording-rules.yaml"):
        shutil.copy(ROOT / "patterns" / name, lib)
    (lib / "broken.yaml").write_text("alert: [unclosed\n")
    history = scenario("producer_spike", n=600, onset=400, noise=0.1).samples()
    start = history[400].timestamp
    incident = LabelledIncident(name="spike", start=start, end=start + 1800, cluster="prod", consumergroup="checkout",
                        topic="orders", cause="producer_spike")
    with pytest.raises(UserError, match=r"patterns/broken\.yaml: field '\(file"):
        learn(history, incident, lib, confirm_with_promtool=False)
    assert not (lib / "learned").exists()


def test_a_broken_learned_signature_is_skipped_with_a_warning_naming_it(tmp_path: Path, caplog) -> None:
    learned = tmp_path / "learned"
    learned.mkdir()
    (learned / "broken.signature.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="kafka_detective.analysis.signatures"):
        assert load_signatures(tmp_path) == []
    assert any("broken.signature.json" in r.getMessage() for r in caplog.records)
