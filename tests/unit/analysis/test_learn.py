"""Learning a pattern from a labelled incident: signature, replay precision, valid pattern file, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from kafka_detective.analysis.signatures import signature, similar_incidents, similarity
from kafka_detective.errors import UserError
from kafka_detective_tools.investigation.learn import LabelledIncident, alert_name, learn, load_incident
from synthetic import scenario

REPO = Path(__file__).resolve().parents[3]


def _library(tmp_path: Path) -> Path:
    lib = tmp_path / "root" / "patterns"
    lib.mkdir(parents=True)
    shutil.copy(REPO / "patterns" / "config.yaml", lib)
    shutil.copy(REPO / "patterns" / "recording-rules.yaml", lib)
    return lib


def _incident(history, cause: str, onset: int = 400, minutes: int = 30) -> LabelledIncident:
    start = history[onset].timestamp
    return LabelledIncident(name=f"learned-{cause.replace('_', '-')}", start=start, end=start + minutes * 60,
                    cluster="prod", consumergroup="checkout", topic="orders", cause=cause, notes="test incident")


@pytest.mark.parametrize("cause", ["producer_spike", "consumer_down", "rebalance_storm"])
def test_learn_writes_a_valid_pattern_that_replays(tmp_path, cause) -> None:
    assert shutil.which("promtool"), "promtool is required for this test"
    history = scenario(cause, n=600, onset=400, noise=0.1).samples()
    lib = _library(tmp_path)
    result = learn(history, _incident(history, cause), lib)
    # fires on the incident, silent elsewhere
    assert result.score.fired_on_incident
    assert result.score.precision >= 0.85
    assert result.promtool == "passed"
    assert result.library_check == "passed"
    # the file is in the pattern library format: the library's own loader accepts it
    from kafka_detective_tools.patterns.loader import load_library

    library = load_library(lib.parent)
    learned = [p for p in library.patterns if p.learned]
    assert [p.alert for p in learned] == [alert_name(result.incident.name)]
    assert learned[0].root_causes == (cause,)
    assert {c.kind for c in learned[0].tests} == {"firing", "near_miss"}
    doc = yaml.safe_load(result.pattern_path.read_text())
    assert "kafka_consumergroup_lag_sum" in doc["expr"]
    sig = json.loads(result.signature_path.read_text())
    assert sig["cause"] == cause and sig["order"]


def test_signature_captures_direction_and_order() -> None:
    history = scenario("consumer_down", n=500, onset=300).samples()
    start = history[300].timestamp
    sig = signature(history, start, start + 1200)
    by = {s.signal: s for s in sig.signals}
    assert by["members"].deviated and by["members"].direction == "down"
    assert by["consume_rate"].direction == "down"
    assert by["lag"].direction == "up"
    assert not by["produce_rate"].deviated
    assert "members" in sig.order


def test_similar_incidents_ranks_same_cause_first(tmp_path) -> None:
    lib = _library(tmp_path)
    for cause in ("producer_spike", "consumer_down"):
        h = scenario(cause, n=600, onset=400, seed=3).samples()
        learn(h, _incident(h, cause), lib, confirm_with_promtool=False)
    current_h = scenario("producer_spike", n=500, onset=350, seed=11).samples()
    current = signature(current_h, current_h[350].timestamp, current_h[-1].timestamp)
    found = similar_incidents(current, lib)
    assert found and found[0]["cause"] == "producer_spike" and found[0]["similarity"] > 0.8
    down = signature(*(lambda h: (h, h[350].timestamp, h[-1].timestamp))(
        scenario("consumer_down", n=500, onset=350).samples()))
    assert similarity(current, down) < found[0]["similarity"]


def test_incident_missing_field_is_named(tmp_path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text(yaml.safe_dump({"window": {"start": "2026-11-20T03:00:00Z", "end": "2026-11-20T03:40:00Z"},
                                    "subject": {"cluster": "prod", "topic": "orders"}, "cause": "producer_spike"}))
    with pytest.raises(UserError, match=r"missing field 'subject\.consumergroup'"):
        load_incident(path)
    path.write_text(yaml.safe_dump({"subject": {"cluster": "c", "consumergroup": "g", "topic": "t"},
                                    "cause": "producer_spike"}))
    with pytest.raises(UserError, match="missing field 'window'"):
        load_incident(path)
    path.write_text(yaml.safe_dump({"window": {"start": 1, "end": 2}, "subject": {"cluster": "c",
                                    "consumergroup": "g", "topic": "t"}, "cause": "aliens"}))
    with pytest.raises(UserError, match="field 'cause'"):
        load_incident(path)


def test_incident_loads_with_defaults(tmp_path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text("window: {start: '2026-11-20T03:00:00Z', end: 1795146000}\n"
                    "subject: {cluster: prod, consumergroup: checkout, topic: orders}\ncause: consumer_down\n")
    inc = load_incident(path)
    assert inc.name == "checkout-consumer-down-20261120-0300"
    assert inc.end - inc.start == 2400


def test_existing_pattern_is_not_overwritten(tmp_path) -> None:
    lib = _library(tmp_path)
    h = scenario("producer_spike", n=600, onset=400).samples()
    learn(h, _incident(h, "producer_spike"), lib, confirm_with_promtool=False)
    with pytest.raises(UserError, match="exists"):
        learn(h, _incident(h, "producer_spike"), lib, confirm_with_promtool=False)


def test_generated_artefacts_of_a_learned_pattern_pass_promtool(tmp_path) -> None:
    """The library's generator turns the learned file into an alert, a runbook and a promtool test that passes."""
    import subprocess

    from kafka_detective.cli import main

    promtool = shutil.which("promtool")
    assert promtool, "promtool is required for this test"
    root = tmp_path / "root"
    (root / "patterns").mkdir(parents=True)
    for path in (REPO / "patterns").glob("*.yaml"):
        shutil.copy(path, root / "patterns")
    history = scenario("rebalance_storm", n=600, onset=400, noise=0.1).samples()
    result = learn(history, _incident(history, "rebalance_storm"), root / "patterns")
    assert result.library_check == "passed"
    out = tmp_path / "out"
    assert main(["generate", "--root", str(root), "--output-dir", str(out)]) == 0
    alert = alert_name(result.incident.name)
    assert (out / "runbooks" / f"{alert}.md").exists()
    assert alert in (out / "alert-rules" / "prometheus-rules.yaml").read_text()
    test_file = out / "tests" / "rules" / "generated" / "learned-learned-rebalance-storm.test.yaml"
    proc = subprocess.run([promtool, "test", "rules", test_file.name], cwd=test_file.parent, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_recurrences_count_as_correct_firing(tmp_path) -> None:
    from kafka_detective_tools.investigation.learn import score_replay

    path = tmp_path / "incident.yaml"
    path.write_text("window: {start: 1000, end: 2000}\nsubject: {cluster: c, consumergroup: g, topic: t}\n"
                    "cause: producer_spike\nrecurrences: [{start: 90000, end: 91000}]\n")
    inc = load_incident(path)
    assert inc.recurrences == [(90000.0, 91000.0)]
    firing = [(float(t), 1200 <= t <= 1500 or 90100 <= t <= 90400 or 50000 <= t <= 50100)
              for t in range(0, 100000, 60)]
    plain = score_replay(firing, inc.start, inc.end)
    known = score_replay(firing, inc.start, inc.end, recurrences=inc.recurrences)
    assert known.precision > plain.precision
    assert known.recurrence_minutes == 5 and known.false_episodes == [(50040.0, 50100.0)]
    assert len(plain.false_episodes) == 2
