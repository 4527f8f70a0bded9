"""Evaluation on a small scenario set, through the online code path and the CLI."""

from __future__ import annotations

import json

from kafka_detective.cli import main
from kafka_detective.scenarios import simulator
from kafka_detective.scenarios.evaluate import evaluate, format_report
from kafka_detective.scenarios.trace import write_trace, write_truth


def write_small_set(directory) -> None:
    for name in ("consumer-down", "quiet-steady"):
        sc = simulator.build(name)
        if sc.incidents:
            onset = sc.incidents[0][0]
            sc.events = [e for e in sc.events if e.onset >= onset - 3600]
            sc.duration = onset + 2 * simulator.HOUR
        else:
            sc.duration = 4 * simulator.HOUR
        series, truth = simulator.simulate(sc)
        write_trace(directory / f"{name}.om", series)
        write_truth(directory / f"{name}.truth.yaml", truth)


def test_evaluate_small_set(tmp_path):
    write_small_set(tmp_path)
    summary = evaluate(tmp_path, progress=False)
    summary.pop("_replays")
    rc = summary["root_cause"]
    assert rc["cases"] == 1 and rc["top1"] == 1.0
    assert summary["detection_delay_seconds"]["detected"] == 1
    assert summary["detection_delay_seconds"]["median"] <= 300
    assert summary["quiet"][0]["scenario"] == "quiet-steady"
    assert summary["false_alerts_per_day"] == 0
    fc = summary["forecast_30m"]
    assert fc["rate_model"]["n"] > 0 and fc["least_squares"]["n"] == fc["rate_model"]["n"]
    assert "Root cause" in format_report(summary)


def test_evaluate_and_simulate_commands(tmp_path, capsys):
    assert main(["simulate", "--out", str(tmp_path / "sc"), "--scenario", "no-such"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    write_small_set(tmp_path)
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--scenarios", str(tmp_path), "--json", str(out), "--quiet"]) == 0
    assert "False alerts per day" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["root_cause"]["cases"] == 1
    assert main(["evaluate", "--scenarios", str(tmp_path / "missing")]) == 2
