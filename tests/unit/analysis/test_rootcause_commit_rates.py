"""The consume rate root cause reads from committed offsets, for groups that commit whole batches or every few
steps: a change of pace must show, whatever the commits' granularity."""

from __future__ import annotations

import math
import random

from kafka_detective.analysis import rootcause
from kafka_detective.analysis.rootcause import derive_signals, median
from kafka_detective.signals.samples import GroupTopicSample

T0 = 1_790_000_000.0
STEP = 60.0


def _sample(i: int, produced: float, committed: float) -> GroupTopicSample:
    return GroupTopicSample(
        cluster="c", group="g", topic="t", timestamp=T0 + i * STEP, lag=int(produced - committed),
        log_end_offset=int(produced), committed_offset=int(committed), lag_seconds=None, members=3,
        state="Stable", rebalances_total=0, lost_messages_total=0, retention_seconds=None,
        leader_changes_total=0, under_replicated_partitions=0, offline_partitions=0)


def _history(per_step: list[float], batch: float, rate: float) -> list[GroupTopicSample]:
    """A group consuming `per_step[i]` messages in step i and committing only whole batches of `batch`."""
    out = []
    consumed = produced = 0.0
    for i, n in enumerate(per_step):
        consumed += n
        produced += rate * STEP
        out.append(_sample(i, produced, math.floor(consumed / batch) * batch))
    return out


def _consume_medians(history: list[GroupTopicSample], onset: int) -> tuple[float, float]:
    sig = derive_signals(history)
    base = list(range(1, onset))
    post = list(range(onset + 10, len(history)))
    rates = rootcause.consume_rates(sig, base)
    return median([rates[i] for i in base]), median([rates[i] for i in post])


def test_a_30_percent_slowdown_shows_through_commits_of_whole_batches() -> None:
    # ~1.15 batches consumed per step before, ~0.8 after: per-step commits are 1 batch at the median both times
    rng = random.Random(3)
    per_step = [1150 * (1 + rng.gauss(0, 0.03)) for _ in range(120)] + \
               [800 * (1 + rng.gauss(0, 0.03)) for _ in range(60)]
    history = _history(per_step, batch=1000, rate=1150 / STEP)
    raw = derive_signals(history).consume_rate
    assert median(raw[1:120]) == median(raw[130:])           # what a per-step median saw
    before, after = _consume_medians(history, onset=120)
    assert 0.6 < after / before < 0.8


def test_commits_every_few_steps_read_as_the_pace_between_them() -> None:
    # a batch every ~3 steps: most steps commit nothing, the pace must still read ~1000 / 3 per step, then half
    per_step = [1000 / 3] * 120 + [500 / 3] * 60
    before, after = _consume_medians(_history(per_step, batch=1000, rate=1000 / 3 / STEP), onset=120)
    assert abs(before * STEP - 1000 / 3) < 0.15 * 1000 / 3
    assert 0.4 < after / before < 0.65


def test_a_group_that_stops_committing_reads_slower_after_its_usual_gap() -> None:
    per_step = [1000 / 3] * 120 + [0.0] * 20
    sig = derive_signals(_history(per_step, batch=1000, rate=1000 / 3 / STEP))
    span = rootcause._commit_span(sig, list(range(1, 120)))
    rates = rootcause._commit_rates(sig, span)
    assert rates[-1] < 0.5 * rates[110]


def test_smooth_commits_keep_the_per_step_rate() -> None:
    rng = random.Random(5)
    history = _history([1000 * (1 + rng.gauss(0, 0.05)) for _ in range(120)], batch=1, rate=1000 / STEP)
    assert rootcause._batch_steps(derive_signals(history), list(range(1, 120))) == 1


def _batched_group(produce_per_step: list[float], consume_per_step: list[float], batch: float
                   ) -> list[GroupTopicSample]:
    """A group committing whole batches of `batch`, consuming what `consume_per_step` says (at most what is there)."""
    out = []
    consumed = produced = 0.0
    for i, (p, c) in enumerate(zip(produce_per_step, consume_per_step, strict=True)):
        produced += p
        consumed = min(produced, consumed + c)
        out.append(_sample(i, produced, math.floor(consumed / batch) * batch))
    return out


def _noisy(level: float, n: int, rng: random.Random, sd: float = 0.03) -> list[float]:
    return [level * (1 + rng.gauss(0, sd)) for _ in range(n)]


def _wandering(level: float, n: int, rng: random.Random, sd: float = 0.05) -> list[float]:
    """A producer whose level wanders (AR(1), 0.9 memory: about 11 % around `level`)."""
    x, out = 0.0, []
    for _ in range(n):
        x = 0.9 * x + rng.gauss(0.0, sd)
        out.append(level * max(0.2, 1.0 + x))
    return out


def test_consumers_that_slow_down_are_named_while_their_commits_still_span_the_onset() -> None:
    # 15 msg/s from a wandering producer, commits of ~1.7 steps' production; the consumers drop to 55 % of the
    # produce rate at the onset and 10 one-minute samples follow. The rate over a few commits still holds the
    # commits from before the onset (it read ~0.8x the baseline, ordinary for this producer: `unknown` on 3 of
    # these 10 draws, a stall on 1); read between the commits after the onset, the drop is plain.
    named = 0
    for seed in range(1, 11):
        rng = random.Random(seed)
        produce = _wandering(900.0, 120, rng)
        consume = [1400.0] * 110 + [0.55 * p for p in produce[110:]]
        named += rootcause.diagnose(_batched_group(produce, consume, batch=1500.0)).cause == "consumer_slowdown"
    assert named >= 8, named


def test_a_spike_onto_batched_consumers_with_headroom_stays_a_spike() -> None:
    # the produce rate doubles at the onset; the consumers read 30 % faster than before, as fast as they can
    rng = random.Random(5)
    produce = _noisy(900.0, 110, rng) + _noisy(1800.0, 10, rng)
    consume = _noisy(1170.0, 120, rng)
    d = rootcause.diagnose(_batched_group(produce, consume, batch=1500.0))
    assert d.cause == "producer_spike", d.alternatives
