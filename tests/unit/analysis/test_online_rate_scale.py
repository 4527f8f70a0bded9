"""The produce and consume anomaly scores read a topic of a few msg/s like a busy one: their scale floor is the
counting noise of one step, not a fixed rate."""

from __future__ import annotations

import math
import random

import pytest

from kafka_detective.analysis.anomaly import RATE_FLOOR_MIN, counting_noise
from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.signals.samples import GroupTopicSample

T0 = 1_790_000_000.0
STEP = 60.0
HOURS = 36


def _day_with(rate: float, extra: float, seed: int = 1) -> list[GroupTopicSample]:
    """36 h of one topic at `rate` msg/s: a 13 % daily cycle, 5 % AR(1) noise and Poisson-sized counts; from 34.65 h
    the producers run `extra` x busier for an hour and a quarter (15-minute ramp). The consumers keep up."""
    rng = random.Random(seed)
    ar, log_end = 0.0, 0.0
    samples = []
    for i in range(int(HOURS * 3600 / STEP)):
        t = T0 + i * STEP
        ar = 0.9 * ar + rng.gauss(0.0, 0.05 * math.sqrt(1 - 0.81))
        hour = i * STEP / 3600
        busy = 1 + (extra - 1) * min(1.0, (hour - 34.65) * 4) if 34.65 <= hour <= 35.9 else 1.0
        mean = rate * busy * (1 + ar) * (1 + 0.13 * math.sin(2 * math.pi * hour / 24)) * STEP
        log_end += max(0.0, round(rng.gauss(mean, math.sqrt(mean))))
        committed = log_end - round(rate)
        samples.append(GroupTopicSample(
            cluster="c", group="g", topic="t", timestamp=t, lag=int(log_end - committed),
            log_end_offset=int(log_end), committed_offset=int(committed), lag_seconds=1.0, members=3,
            state="Stable", rebalances_total=0, lost_messages_total=0, retention_seconds=7 * 86400.0,
            leader_changes_total=0, under_replicated_partitions=0, offline_partitions=0))
    return samples


def _busiest_produce_score(samples: list[GroupTopicSample], from_hour: float) -> float:
    engine = OnlineAnalytics()
    peak = 0.0
    for s in samples:
        engine.observe([s])
        if s.timestamp - T0 >= from_hour * 3600:
            peak = max(peak, engine.result("c", "g", "t").anomaly_scores.get("produce_rate", 0.0))
    return peak


@pytest.mark.parametrize("rate", [2.0, 3.5, 200.0])
def test_a_busy_hour_the_consumers_absorb_is_no_anomaly_whatever_the_rate(rate: float) -> None:
    # With a fixed 0.5 msg/s floor, 2 msg/s topics scored 1.0 here (3.5 msg/s: 0.65) while 200 msg/s scored 0.1.
    assert _busiest_produce_score(_day_with(rate, 1.5), 34.0) < 0.5


@pytest.mark.parametrize("extra", [1.5, 4.0])
def test_a_slow_topic_scores_a_surge_like_a_busy_one(extra: float) -> None:
    # The same surge, relative to the topic's own rate, on 2 and 200 msg/s (fixed floor: 1.0 against 0.1-0.25);
    # the slow topic's score still rises with the surge.
    slow, busy = (_busiest_produce_score(_day_with(rate, extra), 34.0) for rate in (2.0, 200.0))
    assert abs(slow - busy) < 0.3, (slow, busy)
    if extra > 2:
        assert slow > _busiest_produce_score(_day_with(2.0, 1.5), 34.0) + 0.1


def test_counting_noise() -> None:
    assert counting_noise(2.0, 60.0) == pytest.approx(math.sqrt(120) / 60)
    assert counting_noise(200.0, 60.0) == pytest.approx(10 * counting_noise(2.0, 60.0))
    assert counting_noise(0.0, 60.0) == counting_noise(-1.0, 60.0) == RATE_FLOOR_MIN
