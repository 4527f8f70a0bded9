"""A new exporter (a restart, or a group seen for the first time) learns a group's commit sawtooth without calling it
a lag problem, and still diagnoses a backlog that starts while it learns."""

from __future__ import annotations

from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.signals.samples import GroupTopicSample

T0 = 1_790_000_000.0
STEP = 60.0
RATE = 2500.0           # msg/s


def _sample(i: int, committed: float) -> GroupTopicSample:
    log_end = RATE * STEP * (i + 1000)
    lag = log_end - committed
    return GroupTopicSample(
        cluster="c", group="billing", topic="orders", timestamp=T0 + i * STEP, lag=int(lag),
        log_end_offset=int(log_end), committed_offset=int(committed), lag_seconds=lag / RATE, members=3,
        state="Stable", rebalances_total=0, lost_messages_total=0, retention_seconds=7 * 86400.0,
        leader_changes_total=0, under_replicated_partitions=0, offline_partitions=0)


def _diagnosed_cycles(committed_at) -> list[int]:
    engine = OnlineAnalytics()
    opened = []
    for i in range(90):
        engine.observe([_sample(i, committed_at(i))])
        result = engine.result("c", "billing", "orders")
        if result is not None and result.diagnosis is not None:
            opened.append(i)
    return opened


def test_a_commit_every_four_minutes_is_no_problem_for_a_new_exporter() -> None:
    # Commits every 4 cycles: the lag climbs to ~4 minutes of production (600,000 messages), then falls back.
    # Before the low point counted, it was diagnosed from about the 13th cycle for most of an hour.
    assert _diagnosed_cycles(lambda i: RATE * STEP * (1000 + i - i % 4)) == []


def test_a_backlog_that_starts_while_the_exporter_learns_is_diagnosed_within_ten_cycles() -> None:
    # The consumers keep up for 12 cycles, then read half of what arrives. The low point costs at most
    # COLD_LOW_POINT_CYCLES - 1 cycles of delay here (17 -> 21); a backlog that starts later is not affected.
    start = 12
    opened = _diagnosed_cycles(lambda i: RATE * STEP * (1000 + (i if i < start else start + (i - start) / 2)))
    assert opened and start < opened[0] <= start + 10, opened
