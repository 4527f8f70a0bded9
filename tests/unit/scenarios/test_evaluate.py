"""Evaluation on a small scenario set, through the online code path and the CLI."""

from __future__ import annotations

import json

from kafka_detective.cli import main
from kafka_detective_tools.scenarios.evaluate import evaluate, format_report


def write_small_set(directory, write_short_scenario) -> None:
    for name in ("consumer-down", "quiet-steady"):
        write_short_scenario(directory, name, hours_before=1.0, quiet_hours=4.0)


def test_evaluate_small_set(tmp_path, write_short_scenario):
    write_small_set(tmp_path, write_short_scenario)
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


def test_evaluate_and_simulate_commands(tmp_path, capsys, write_short_scenario):
    assert main(["simulate", "--out", str(tmp_path / "sc"), "--scenario", "no-such"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    write_small_set(tmp_path, write_short_scenario)
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--scenarios", str(tmp_path), "--json", str(out), "--quiet"]) == 0
    assert "False alerts per day" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["root_cause"]["cases"] == 1
    assert main(["evaluate", "--scenarios", str(tmp_path / "missing")]) == 2


def test_replay_looks_no_further_than_the_sample_it_judges(tmp_path, write_short_scenario):
    """The evaluation is only worth its figures if what the engine says at time t depends on the trace up to t:
    the replay of a trace cut at t must agree, step for step, with the replay of the whole trace up to t — lag,
    every forecast, anomaly score and diagnosis, and the baselines' predictions."""
    from kafka_detective_tools.scenarios.evaluate import replay
    from kafka_detective_tools.scenarios.trace import load_trace, write_trace

    write_short_scenario(tmp_path, "producer-spike", hours_before=1.0)
    full_trace, truth = tmp_path / "producer-spike.om", tmp_path / "producer-spike.truth.yaml"
    series = load_trace(full_trace).series
    times = sorted({t for s in series for t in s.timestamps})
    cut = times[int(len(times) * 0.7)]              # inside the incident: the future differs from the past
    for s in series:
        kept = [i for i, t in enumerate(s.timestamps) if t <= cut]
        s.timestamps, s.values = [s.timestamps[i] for i in kept], [s.values[i] for i in kept]
    cut_trace = tmp_path / "cut.om"
    write_trace(cut_trace, series)

    whole, partial = replay(full_trace, truth), replay(cut_trace, truth)
    subject = whole.truth.subject
    before_cut = [r for r in whole.records[subject] if r.t <= cut]
    assert len(before_cut) == len(partial.records[subject]) > 60
    assert before_cut == partial.records[subject]
    assert [r for r in whole.records[subject] if r.t > cut], "the whole trace goes on past the cut"
