"""diagnose() on synthetic histories, one per root cause, plus ambiguous and quiet cases."""

from __future__ import annotations

import pytest

from kafka_detective.analysis.model import ROOT_CAUSES, Diagnosis
from kafka_detective.analysis.rootcause import diagnose, find_onset_index, median, robust_z
from synthetic import scenario

# The synthetic generator has one history per cause; the causes named from per-partition evidence and from the
# episode history are tested in test_rootcause_new_causes.py.
NEWER_CAUSES = {"partial_stall", "retry_death_spiral", "recurring", "intermittent"}
CAUSES = [c for c in ROOT_CAUSES if c != "unknown" and c not in NEWER_CAUSES]


@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_cause_is_diagnosed(cause: str, seed: int) -> None:
    synth = scenario(cause, seed=seed, noise=0.1)
    history = synth.samples()
    d = diagnose(history)
    assert isinstance(d, Diagnosis)
    assert d.cause == cause, d
    assert 0.5 <= d.confidence <= 1.0
    assert d.alternatives[0][0] == cause and len(d.alternatives) == 3
    assert d.remediation
    assert d.evidence, "evidence expected"
    # found onset within a few steps of the truth
    truth = history[synth.onset].timestamp
    assert d.onset is not None and abs(d.onset - truth) <= 8 * synth.step
    assert d.severity in ("critical", "warning", "info")


def test_evidence_supporting_the_cause_comes_first() -> None:
    d = diagnose(scenario("producer_spike").samples())
    assert d.evidence[0].metric == "kafka_topic_produce_rate_messages_per_second"
    ev = d.evidence[0]
    assert ev.value > 2.5 * ev.baseline and ev.threshold == pytest.approx(2 * ev.baseline)


def test_given_onset_is_used() -> None:
    history = scenario("consumer_down").samples()
    d = diagnose(history, onset=history[170].timestamp)
    assert d.onset == history[170].timestamp
    assert d.cause == "consumer_down"


def test_ambiguous_case_has_low_confidence_and_both_causes_ranked() -> None:
    # produce doubles AND the consumers halve at the same time: both explanations fit.
    s = scenario("producer_spike", noise=0.05)
    s.produce_at = lambda i: 100 * (2.2 if i >= s.onset else 1.0)
    s.capacity_at = lambda i: 130 * (0.55 if i >= s.onset else 1.0)
    d = diagnose(s.samples())
    top = [c for c, _ in d.alternatives[:2]]
    assert set(top) == {"producer_spike", "consumer_slowdown"}, d.alternatives
    assert d.confidence < 0.6


def test_quiet_history_is_not_a_problem() -> None:
    d = diagnose(scenario("none", seed=3).samples())
    assert d.cause == "unknown" and d.severity == "info" and d.onset is None


def test_too_short_history() -> None:
    history = scenario("none").samples()[:1]
    assert diagnose(history).cause == "unknown"


def test_onset_robust_to_an_outlier() -> None:
    lag = [100.0] * 50 + [100.0 + 50 * k for k in range(30)]
    lag[20] = 5000.0           # a single glitch before the rise
    assert find_onset_index(lag) in range(49, 53)


def test_onset_of_a_ramp_at_unix_timestamps_is_where_it_rises() -> None:
    # A clean ramp sampled every 5 s (the last sample 3 s after the one before), flat until 45 s. At unix
    # timestamps the change-point fit once cancelled its squared times to noise and put the onset at the newest
    # sample; the same lag against times from zero was right.
    seconds = [5.0 * i for i in range(32)] + [158.0]
    lag = [0.0] * 10 + [9, 58, 117, 168, 220, 281, 337, 386, 492, 759, 1011, 1269, 1519, 1768, 2006, 2236, 2492,
                        2736, 2971, 3209, 3475, 3735, 3883]
    from_zero = find_onset_index(lag, seconds, 798.0, lo=23)
    assert from_zero is not None and from_zero < len(lag) - 4
    assert find_onset_index(lag, [1_760_000_000.0 + s for s in seconds], 798.0, lo=23) == from_zero


def test_robust_z_floors_flat_baseline() -> None:
    post, base, z = robust_z([10.0] * 5, [5.0] * 10)
    assert (post, base) == (10.0, 5.0) and z == pytest.approx(5 / 0.25)
    assert median([3, 1, 2]) == 2


def test_early_onset_hint_is_refined_to_the_lag_rise() -> None:
    # The online engine's excursion detector may latch early; a diluted post window must not hide a stall.
    synth = scenario("consumer_stalled", noise=0.1)
    synth.produce_at = lambda i: 100 * (1.3 if i >= 130 else 1.0)     # a mild produce rise before the stall
    history = synth.samples()
    d = diagnose(history[: synth.onset + 4], onset=history[130].timestamp)
    assert d.cause == "consumer_stalled"
    assert abs(d.onset - history[synth.onset].timestamp) <= 3 * synth.step


def test_unknown_membership_is_not_an_empty_group() -> None:
    # Without members/state series (state "Unknown", members 0) a stall must not read as consumer_down.
    from dataclasses import replace

    history = [replace(s, members=0, state="Unknown") for s in scenario("consumer_stalled").samples()]
    assert diagnose(history).cause == "consumer_stalled"


def test_repeated_timestamps_do_not_make_absurd_rates() -> None:
    from dataclasses import replace

    from kafka_detective.analysis.rootcause import derive_signals

    history = scenario("producer_spike").samples()
    history[50] = replace(history[50], timestamp=history[49].timestamp)
    sig = derive_signals(history)
    assert max(sig.produce_rate) < 1000
    assert diagnose(history).cause == "producer_spike"
