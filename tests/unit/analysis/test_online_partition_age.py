"""OnlineAnalytics: an old message with few messages behind (one partition lagging) opens a lag problem only when
the partition has stopped or its oldest message is alarmingly old, not while a hot partition lags by a few minutes."""

from __future__ import annotations

import random

from kafka_detective.analysis.online import AGE_ONLY_FACTOR, IMMATERIAL_SCORE_CAP, OnlineAnalytics
from kafka_detective.signals.samples import GroupTopicSample

T0 = 1_790_000_000.0
STEP = 15.0
RATE = 100.0         # msg/s over the whole topic
WARM = 480           # 2 h of a healthy group before the partition lags


def _sample(t: float, log_end: float, lag: int, age: float) -> GroupTopicSample:
    return GroupTopicSample(cluster="c", group="g", topic="t", timestamp=t, lag=lag, log_end_offset=int(log_end),
                            committed_offset=int(log_end) - lag, lag_seconds=age, members=3, state="Stable",
                            rebalances_total=0, lost_messages_total=0, retention_seconds=86400.0,
                            leader_changes_total=0, under_replicated_partitions=0, offline_partitions=0)


def _diagnosed_cycles(age_pace: float, lagging_cycles: int, scores: list[float] | None = None) -> list[int]:
    """Cycles (counted from the start of the lag) with a diagnosis, for one partition of 50 whose oldest message
    ages at `age_pace` seconds per second: its few messages behind stay far below 2 minutes of production.
    `scores` collects the published lag-seconds anomaly score of each lagging cycle."""
    rng = random.Random(7)
    engine = OnlineAnalytics(diagnose_every_seconds=STEP)
    log_end = 0.0
    diagnosed = []
    for k in range(WARM + lagging_cycles):
        log_end += RATE * STEP * (1 + rng.gauss(0.0, 0.03))
        lag, age = 40 + rng.randint(0, 20), 2.0 + rng.random()
        if k >= WARM:
            behind = (k - WARM + 1) * STEP
            age += age_pace * behind
            lag += int(RATE / 50 * age_pace * behind)        # that partition's share of the production
        engine.observe([_sample(T0 + k * STEP, log_end, lag, age)])
        result = engine.result("c", "g", "t")
        if k >= WARM and result is not None and result.diagnosis is not None:
            diagnosed.append(k - WARM)
        if k >= WARM and result is not None and scores is not None:
            scores.append(result.anomaly_scores.get("lag_seconds", 0.0))
    return diagnosed


def test_a_hot_partition_a_few_minutes_behind_is_no_problem() -> None:
    # 12 % slower than its producers for 25 minutes: the oldest message is 3 minutes old, far beyond usual
    assert 0.12 * 100 * STEP > 120
    scores: list[float] = []
    assert _diagnosed_cycles(age_pace=0.12, lagging_cycles=100, scores=scores) == []
    # unusual, not alarming: the published score stays at the cap of an immaterial backlog
    assert scores and max(scores) <= IMMATERIAL_SCORE_CAP


def test_a_hot_partition_whose_oldest_message_keeps_aging_opens_a_problem() -> None:
    cycles = _diagnosed_cycles(age_pace=0.12, lagging_cycles=240)
    assert cycles, "an oldest message an hour old must open a lag problem"
    assert cycles[0] * STEP * 0.12 >= AGE_ONLY_FACTOR * OnlineAnalytics().min_backlog_seconds


def test_a_stopped_partition_opens_a_problem_within_minutes() -> None:
    # no frozen-partition evidence here: the oldest message aging with the clock is the sign
    cycles = _diagnosed_cycles(age_pace=1.0, lagging_cycles=40)
    assert cycles and cycles[0] * STEP <= 180
