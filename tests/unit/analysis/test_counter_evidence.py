"""Findings against causes (`Diagnosis.counter_evidence`): measures that contradict a cause and the absence of
what it would show, kept apart from the evidence, which they leave unchanged."""

from __future__ import annotations

import pytest

from kafka_detective.analysis.model import Diagnosis
from kafka_detective.analysis.rootcause import CONSUME_RATE, CPU, MEMBERS, PRODUCE_RATE, REBALANCES, diagnose
from synthetic import scenario

SCENARIOS = ("producer_spike", "consumer_down", "consumer_stalled", "rebalance_storm", "consumer_cpu_saturation",
             "consumer_slowdown", "leader_election", "broker_failure", "broker_skew", "disk_pressure",
             "retention_loss")


def notes(findings) -> list[str]:
    return [e.note for e in findings]


@pytest.fixture(scope="module")
def diagnoses() -> dict[str, Diagnosis]:
    return {cause: diagnose(scenario(cause).samples()) for cause in SCENARIOS}


def test_a_rebalance_storm_has_its_rebalances_for_it_and_the_steady_produce_rate_against_a_spike(diagnoses):
    d = diagnoses["rebalance_storm"]
    assert d.cause == "rebalance_storm"
    assert any(e.metric == REBALANCES and e.value >= 10 for e in d.evidence_for("rebalance_storm"))
    assert "produce rate at baseline (x0.99)" in notes(d.evidence_against("producer_spike"))
    assert "no CPU signal" in notes(d.evidence_against("consumer_cpu_saturation"))   # no CPU series in it
    assert not d.evidence_against("rebalance_storm")


def test_an_empty_group_is_for_consumer_down_and_against_the_slow_consumer_causes(diagnoses):
    d = diagnoses["consumer_down"]
    assert d.cause == "consumer_down"
    assert [(e.metric, e.value) for e in d.evidence_for("consumer_down")] == [(MEMBERS, 0.0)]
    against = notes(d.evidence_against("consumer_slowdown"))
    assert against == ["group had no members in 100% of the window: no consumer to be slow or stalled"], against
    assert "committed offset moved in every step with members present" not in notes(d.counter_evidence)
    assert not d.evidence_against("consumer_down")


def test_a_slowdown_is_not_a_storm_an_election_a_broker_failure_nor_cpu(diagnoses):
    d = diagnoses["consumer_slowdown"]
    assert d.cause == "consumer_slowdown"
    assert notes(d.evidence_against("rebalance_storm")) == ["no rebalance around the onset"]
    assert notes(d.evidence_against("leader_election")) == ["no partition leader change around the onset"]
    assert notes(d.evidence_against("broker_failure")) == ["no offline or under-replicated partition around the onset"]
    assert notes(d.evidence_against("retention_loss")) == ["no message lost to retention"]
    # a measured CPU below saturation says how much, which weighs more than a missing CPU signal
    cpu = d.evidence_against("consumer_cpu_saturation")
    assert [(e.metric, e.note) for e in cpu] == [(CPU, "consumer CPU 30%: not saturated")]


def test_a_producer_spike_has_healthy_consumers_against_the_consumer_side(diagnoses):
    d = diagnoses["producer_spike"]
    assert d.cause == "producer_spike"
    assert notes(d.evidence_against("consumer_down")) == ["members present throughout the window (at least 3)"]
    assert notes(d.evidence_against("consumer_stalled")) == ["committed offset moved in every step with members "
                                                             "present"]
    assert any(n.startswith("consume rate above baseline") for n in notes(d.evidence_against("consumer_slowdown")))
    assert not d.evidence_against("producer_spike")


@pytest.mark.parametrize("cause", SCENARIOS)
def test_findings_against_causes_stay_apart_from_the_evidence(diagnoses, cause):
    d = diagnoses[cause]
    assert d.counter_evidence
    assert all(e.contradicts and not e.supports for e in d.counter_evidence)
    assert not any(e.contradicts for e in d.evidence)     # the evidence (metrics, runbooks) is what it was
    assert not d.evidence_against(d.cause), (d.cause, notes(d.evidence_against(d.cause)))


def test_a_produce_rate_a_little_above_baseline_is_no_support_for_a_spike(diagnoses):
    # the election's produce rate is x1.05 of its baseline, robust z +0.9: not a significant rise, so it is
    # "at baseline" against a spike and must not also be listed for it
    d = diagnoses["leader_election"]
    produce = next(e for e in d.evidence if e.metric == PRODUCE_RATE)
    assert 1.0 < produce.value / produce.baseline < 1.1, produce.note
    assert not d.evidence_for("producer_spike"), notes(d.evidence_for("producer_spike"))
    assert any(n.startswith("produce rate at baseline") for n in notes(d.evidence_against("producer_spike")))


@pytest.mark.parametrize("cause", SCENARIOS)
def test_a_rate_is_never_both_for_and_against_a_cause(diagnoses, cause):
    d = diagnoses[cause]
    for metric in (PRODUCE_RATE, CONSUME_RATE):
        supported = {c for e in d.evidence if e.metric == metric for c in e.supports}
        contradicted = {c for e in d.counter_evidence if e.metric == metric for c in e.contradicts}
        assert not supported & contradicted, (metric, supported & contradicted)
