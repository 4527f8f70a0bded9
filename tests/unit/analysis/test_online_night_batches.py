"""A group that commits every N messages waits N / rate for its oldest message: minutes in the night's trough for
seconds by day. Its usual backlog and age are learnt in messages too, so the trough opens no lag problem, while a
stall at night still does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kafka_detective.analysis.online import OnlineAnalytics, UsualBacklog
from kafka_detective.signals.samples import FROZEN_SECONDS, GroupTopicSample

T0 = 1_760_000_000.0
DAY, NIGHT = 0.5, 0.12     # msg/s: a batch of 60 fills in 2 minutes by day, in 8.3 at night


def _dusk(h: float) -> float:
    """DAY for 8 hours, down to NIGHT within the next hour, then flat."""
    return DAY if h < 8 else max(NIGHT, DAY - (DAY - NIGHT) * (h - 8))


def _group(hours: float, rate: Callable[[float], float], commits: Callable[[int, int], bool],
           stall_from: float | None = None, partitions: bool = False) -> list[GroupTopicSample]:
    """Second-by-second production at rate(hour) and a group committing whenever commits(second, lag) says,
    sampled every minute with the exact age of its oldest unconsumed message (and, with `partitions`, the partition
    holding it counted frozen from FROZEN_SECONDS, as on a topic whose other partitions had nothing to consume)."""
    made, due, committed, produced_at, out = 0, 0.0, 0, [], []
    for sec in range(int(hours * 3600)):
        due += rate(sec / 3600.0)
        while due >= 1.0:
            due -= 1.0
            made += 1
            produced_at.append(sec)
        if commits(sec, made - committed) and (stall_from is None or sec < stall_from * 3600):
            committed = made
        if sec % 60 == 59:
            lag = made - committed
            age = float(sec - produced_at[committed]) if lag else 0.0
            frozen = int(age >= FROZEN_SECONDS) if partitions else None
            out.append(GroupTopicSample(
                cluster="prod", group="billing", topic="invoices", timestamp=T0 + sec, lag=lag,
                log_end_offset=made, committed_offset=committed,
                lag_seconds=age, members=2, state="Stable", rebalances_total=0, lost_messages_total=0,
                retention_seconds=7 * 86400.0, leader_changes_total=0, under_replicated_partitions=0,
                offline_partitions=0, partitions=6 if partitions else None, frozen_partitions=frozen,
                frozen_partition_ids=(0,) if frozen else ()))
    return out


def _every_60_messages(sec: int, lag: int) -> bool:
    return lag >= 60


def _diagnosed_hours(samples: list[GroupTopicSample]) -> list[float]:
    engine, out = OnlineAnalytics(), []
    for s in samples:
        engine.observe([s])
        r = engine.result(s.cluster, s.group, s.topic)
        if r is not None and r.diagnosis:
            out.append((s.timestamp - T0) / 3600.0)
    return out


def test_the_usual_backlog_and_age_in_messages_hold_a_batch_into_the_night() -> None:
    usual = UsualBacklog()
    # by day: a batch of 60 messages at 0.5 msg/s, the lag climbing 0 -> 60 messages (0 -> 120 s of production)
    # and the oldest message's age 0 -> 120 s
    for k in range(2000):
        usual.update(float(k % 121), float(k % 121), 0.5)
    assert 70.0 <= usual.age <= 125.0
    # at a constant rate the quantiles in messages are those in seconds at that rate
    assert usual.backlog_messages == pytest.approx(0.5 * usual.backlog)
    assert usual.age_at(0.5) == pytest.approx(usual.age) and usual.backlog_at(0.5) == pytest.approx(0.5 * usual.backlog)
    # at 0.19 msg/s the same batch waits 0.5 / 0.19 = 2.6 times as long; the backlog stays the batch
    assert usual.age_at(0.19) == pytest.approx(usual.age * 0.5 / 0.19)
    assert usual.backlog_at(0.19) == pytest.approx(usual.backlog_messages)
    # a rate above the day's: the age learnt in seconds is the floor
    assert usual.age_at(5.0) == pytest.approx(usual.age)


@pytest.mark.parametrize("partitions", [False, True])
def test_a_batch_committer_in_the_night_trough_opens_no_lag_problem(partitions: bool) -> None:
    # the oldest message waits 2 minutes by day and 8.3 at night: learnt by day in seconds only, that read as a
    # stall within an hour of dusk; and its partition, unconsumed for over 5 minutes, as a frozen one
    assert _diagnosed_hours(_group(14, _dusk, _every_60_messages, partitions=partitions)) == []


@pytest.mark.parametrize("partitions", [False, True])
def test_a_batch_committer_that_stops_at_night_is_diagnosed_within_ten_minutes(partitions: bool) -> None:
    hours = _diagnosed_hours(_group(14, _dusk, _every_60_messages, stall_from=13.0, partitions=partitions))
    assert hours and 13.0 < hours[0] <= 13.0 + 10 / 60


@pytest.mark.parametrize("every", [60, 120])
def test_a_group_committing_on_a_timer_that_stops_at_night_is_diagnosed_within_six_minutes(every: int) -> None:
    # 25 msg/s by day, 9.5 at night; its usual age is the timer's, whatever the rate
    samples = _group(14, lambda h: 50.0 * _dusk(h), lambda sec, lag: sec % every == every - 7, stall_from=13.0)
    assert _diagnosed_hours(samples[:13 * 60]) == []
    hours = _diagnosed_hours(samples)
    assert hours and 13.0 < hours[0] <= 13.1
