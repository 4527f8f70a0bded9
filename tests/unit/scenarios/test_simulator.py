"""Simulator: deterministic, every scenario documented, realistic invariants, readable by the trace API."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from kafka_detective.analysis.model import ROOT_CAUSES
from kafka_detective.metrics.catalogue import BY_NAME
from kafka_detective_tools.scenarios import simulator
from kafka_detective_tools.scenarios.trace import CONSUMER_CPU_METRIC, load_trace, load_truth, samples_from_trace


def short(name: str) -> simulator.Scenario:
    """The scenario shortened to 3 hours around its first incident (keeps the tests fast)."""
    sc = simulator.build(name)
    shift = max(0.0, (sc.incidents[0][0] if sc.incidents else 0.0) - 2 * simulator.HOUR)
    sc.duration = min(sc.duration, shift + 3 * simulator.HOUR)
    return sc


def test_deterministic(tmp_path):
    a = simulator.generate("consumer-stalled", tmp_path / "a")
    b = simulator.generate("consumer-stalled", tmp_path / "b")
    for x, y in zip(a, b, strict=True):
        assert hashlib.sha256(x.read_bytes()).digest() == hashlib.sha256(y.read_bytes()).digest()


def test_every_scenario_is_consistent():
    names = simulator.scenario_names()
    assert {"the-3am-mystery", "the-vanishing-messages", "the-slowdown", "the-storm", "the-ghost",
            "quiet-daily"} <= set(names)
    for name in names:
        sc = simulator.build(name)
        assert sc.description and sc.step in (30.0, 60.0)
        assert sc.quiet == (not sc.incidents), name
        for _, _, cause, _ in sc.incidents:
            assert cause in ROOT_CAUSES, (name, cause)


@pytest.mark.parametrize(("name", "first", "later"), [("the-3am-mystery", "producer_spike", "recurring"),
                                                     ("the-ghost", "consumer_stalled", "intermittent")])
def test_case_studies_label_repeated_episodes_like_the_families(name: str, first: str, later: str) -> None:
    # the first episode is named by what happens; the later ones by the repetition (the families' convention)
    causes = [cause for _, _, cause, _ in simulator.build(name).incidents]
    assert len(causes) >= 3 and causes[0] == first and set(causes[1:]) == {later}, causes


def test_series_use_catalogue_names_and_invariants():
    series, truth = simulator.simulate(short("retention-loss"))
    for s in series:
        assert s.name in BY_NAME or s.name == CONSUMER_CPU_METRIC, s.name
        assert all(b > a for a, b in itertools.pairwise(s.timestamps))
    by = {(s.name, tuple(sorted(s.labels.items()))): s for s in series}
    gt = (("cluster", "prod"), ("consumergroup", truth.consumergroup), ("topic", truth.topic))
    lag = by[("kafka_consumergroup_lag_sum", gt)].values
    lost = by[("kafka_consumergroup_lost_messages_total", gt)].values
    committed = by[("kafka_consumergroup_current_offset_sum", gt)].values
    assert min(lag) >= 0
    assert all(b >= a for a, b in itertools.pairwise(lost)) and lost[-1] > 0   # data was lost
    assert all(b >= a for a, b in itertools.pairwise(committed))
    assert truth.extra["breach_time"] is not None


def test_trace_api_reads_simulated_trace(tmp_path):
    trace_path, truth_path = simulator.generate("the-ghost", tmp_path)
    truth = load_truth(truth_path)
    samples = samples_from_trace(load_trace(trace_path), *truth.subject)
    assert len(samples) == round((truth.end - truth.start) / truth.step_seconds) + 1
    assert samples[0].timestamp == truth.start and samples[-1].timestamp == truth.end
    assert {s.state for s in samples} >= {"Stable"}
    assert all(s.consumer_cpu_ratio is not None and s.disk_used_ratio is not None for s in samples)
    assert all(s.broker_leader_share_ratio and s.broker_leader_share_ratio >= 1.0 for s in samples)


def test_a_failed_broker_leaves_the_leadership_series_like_it_leaves_the_metadata():
    # broker 2 is down for 40 minutes from the onset: kafka_brokers drops by one and its leadership series is not
    # exposed (as the exporter renders only the brokers the metadata lists), while the survivors take its leaders
    series, truth = simulator.simulate(short("broker-failure"))
    onset = truth.incidents[0].onset
    lead = {s.labels["broker_id"]: s for s in series if s.name == "kafka_broker_leader_partitions"}
    brokers = next(s for s in series if s.name == "kafka_brokers")
    down = [t for t, v in zip(brokers.timestamps, brokers.values, strict=True) if v < max(brokers.values)]
    assert down and min(down) >= onset
    assert not set(down) & set(lead["2"].timestamps)
    assert set(down) <= set(lead["1"].timestamps)
