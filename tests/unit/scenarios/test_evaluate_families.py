"""Train and test side by side: each split is scored from its own directory, through the CLI too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kafka_detective.cli import main
from kafka_detective_tools.scenarios import families, simulator
from kafka_detective_tools.scenarios.evaluate import (
    evaluate_splits,
    format_split_report,
    prometheus_subset,
    split_figures,
)
from kafka_detective_tools.scenarios.trace import write_trace, write_truth


def _write(directory: Path, sc: simulator.Scenario) -> None:
    series, truth = simulator.simulate(sc)
    families.expected_alerts(series, truth)
    directory.mkdir(parents=True, exist_ok=True)
    write_trace(directory / f"{sc.name}.om.gz", series)
    write_truth(directory / f"{sc.name}.truth.yaml", truth)


def write_tiny_families(root: Path) -> None:
    """train: an outage and a quiet day; test: a stall. Small clusters of a few hours."""
    _write(root / "train", families.shortened(families.sample("train", "consumer_down", 0)))
    _write(root / "train", families.shortened(families.sample("train", "quiet", 0), after=3 * simulator.HOUR))
    _write(root / "test", families.shortened(families.sample("test", "consumer_stalled", 0)))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_tiny_families(root)
    return root


def test_each_split_is_scored_from_its_own_directory_and_rules_run_on_prometheus(tiny):
    assert shutil.which("promtool") and shutil.which("prometheus"), "promtool and prometheus are required"
    rules = Path(__file__).resolve().parents[3] / "alert-rules" / "prometheus-rules.yaml"
    result = evaluate_splits(tiny, progress=False, prometheus=True, rules=rules, prometheus_sample=2)
    train, test = result["splits"]["train"], result["splits"]["test"]
    assert (train["figures"]["scenarios"], train["figures"]["quiet_scenarios"], train["figures"]["incidents"]) == (
        2, 1, 1)
    assert (test["figures"]["scenarios"], test["figures"]["quiet_scenarios"], test["figures"]["incidents"]) == (
        1, 0, 1)
    assert all(c["scenario"].startswith("train-") for c in train["summary"]["cases"])
    assert all(c["scenario"].startswith("test-") for c in test["summary"]["cases"])
    assert set(train["figures"]["per_cause"]) == {"consumer_down"}
    assert set(test["figures"]["per_cause"]) == {"consumer_stalled"}
    assert train["figures"]["false_alerts_per_quiet_day"] is not None
    assert test["figures"]["false_alerts_per_quiet_day"] is None
    # the shipped rules on a real Prometheus, over a subset of each split (here: all of it)
    for split, expected, n in (("train", "KafkaConsumerGroupEmpty", 2), ("test", "KafkaConsumerStalled", 1)):
        r = result["splits"][split]["figures"]["rules"]
        assert "error" not in r, r
        assert r["scenarios"] == n and not r["query_errors"]
        assert r["pairs"] > 0 and expected in r["per_alert"]
    assert train["figures"]["rules"]["false_alerts_per_quiet_day"] is not None
    assert test["figures"]["rules"]["false_alerts_per_quiet_day"] is None
    report = format_split_report(result)
    header = next(line for line in report.splitlines() if "train" in line and "test" in line and not
                  line.startswith("Scenario"))
    assert header.index("train") < header.index("test")
    assert "consumer_down" in report and "said:" in report and "median alert delay" in report


def test_cli_simulates_families_and_evaluates_side_by_side(tmp_path, tiny, capsys):
    out = tmp_path / "fam"
    assert main(["simulate", "--families", "--split", "test", "--count", "1", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "test").iterdir()) == ["test-producer-spike-000.om.gz",
                                                                 "test-producer-spike-000.truth.yaml"]
    manifest = json.loads((out / "families.json").read_text())
    assert manifest["split_fixed_on"] == families.SPLIT_FIXED_ON
    assert manifest["splits"]["test"]["brokers"] == [[1, 2], [10, 30]]
    assert manifest["scenarios"]["test"][0]["name"] == "test-producer-spike-000"
    assert main(["simulate", "--families", "--scenario", "x", "--out", str(out)]) == 2
    assert "--families" in capsys.readouterr().err
    assert main(["simulate", "--families", "--count", "0", "--out", str(out)]) == 2

    report = tmp_path / "eval.json"
    assert main(["evaluate", "--scenarios", str(tiny), "--quiet", "--json", str(report), "--jobs", "2"]) == 0
    text = capsys.readouterr().out
    assert "root cause top-1" in text and "train" in text and "test" in text
    data = json.loads(report.read_text())
    assert set(data["splits"]) == {"train", "test"}


def test_prometheus_subset_takes_every_family_in_turn_quiet_first():
    names = [f"test-{f.replace('_', '-')}-{i:03d}.om.gz" for i in range(3) for f in families.FAMILIES]
    pairs = [(Path(n), Path(n)) for n in names]
    subset = prometheus_subset(pairs, len(families.FAMILIES) + 1)
    assert subset[0] == "test-quiet-000.om.gz"
    assert {n.rsplit("-", 1)[0] for n in subset[:len(families.FAMILIES)]} == {
        f"test-{f.replace('_', '-')}" for f in families.FAMILIES}
    assert subset[-1] == "test-quiet-001.om.gz"


def test_split_figures_from_a_summary():
    def case(truth: str, got: str | None, top3: list[str], delay: float | None, primary: bool = True) -> dict:
        return {"scenario": "test-x-000", "primary": primary, "truth": truth, "diagnosis": got,
                "top1_ok": got == truth, "top3_ok": truth in top3, "detection_delay_seconds": delay}

    summary = {
        "cases": [case("consumer_down", "consumer_down", ["consumer_down"], 60.0),
                  case("partial_stall", "unknown", ["unknown", "consumer_slowdown"], 120.0),
                  case("partial_stall", None, [], None),
                  case("partial_stall", "consumer_down", ["consumer_down"], 30.0, primary=False)],
        "scenarios": [{"scenario": "a", "quiet": False, "days": 1.5, "diagnoses_outside_incidents": 2},
                      {"scenario": "b", "quiet": False, "days": 0.5, "diagnoses_outside_incidents": 1},
                      {"scenario": "q", "quiet": True, "days": 2.0, "diagnoses_outside_incidents": 9}],
        "quiet": [{"days": 2.0}], "false_alerts_per_day": 4.5,
    }
    f = split_figures(summary)
    assert (f["incidents"], f["top1"], f["top3"]) == (3, round(1 / 3, 4), round(1 / 3, 4))
    assert (f["diagnosed"], f["median_detection_delay_seconds"]) == (2, 90.0)
    assert f["diagnoses_outside_incidents"] == 3 and f["diagnoses_outside_incidents_per_day"] == 1.5
    assert f["per_cause"]["partial_stall"] == {"cases": 2, "top1": 0, "top3": 0, "diagnosed": 1,
                                               "got": {"(none)": 1, "unknown": 1}}
    assert f["false_alerts_per_quiet_day"] == 4.5 and "rules" not in f
