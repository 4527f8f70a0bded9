import pytest

from kafka_detective.signals.lag_seconds import MAX_EXTRAPOLATION, OffsetTimeTable


def table(points, size=60):
    t = OffsetTimeTable(size)
    for offset, when in points:
        t.add(offset, when)
    return t


def test_interpolates_between_bracketing_points_at_constant_rate():
    # 10 messages/s from t=0: offset o was appended at o/10 seconds.
    t = table([(0, 0.0), (100, 10.0), (200, 20.0)])
    estimate = t.lag_seconds(150, now=20.0)
    assert estimate.seconds == pytest.approx(5.0)
    assert not estimate.extrapolated


def test_caught_up_group_has_zero_lag_seconds():
    t = table([(0, 0.0), (100, 10.0)])
    assert t.lag_seconds(100, now=30.0).seconds == 0.0
    assert t.lag_seconds(120, now=30.0).seconds == 0.0


def test_flat_run_keeps_its_end_so_messages_after_idle_are_dated_correctly():
    # Idle from t=10 to t=100 at offset 100, then 10 msg/s again.
    t = table([(0, 0.0), (100, 10.0), (100, 50.0), (100, 100.0), (200, 110.0)])
    assert len(t) == 4  # the flat run collapsed to its first and last point
    estimate = t.lag_seconds(150, now=110.0)
    # Offset 150 was appended at t=105, not somewhere inside the idle period.
    assert estimate.seconds == pytest.approx(5.0)


def test_extrapolation_beyond_the_table_is_flagged_and_bounded():
    t = table([(1000, 100.0), (2000, 200.0)])
    near = t.lag_seconds(900, now=200.0)
    assert near.extrapolated
    assert near.seconds == pytest.approx(110.0)  # 900 appended at t=90 at the table's rate
    # At 1 msg/s, offset 0 would date from t=-900; the estimate stops at MAX_EXTRAPOLATION spans back.
    slow = table([(1000, 100.0), (1100, 200.0)])
    far = slow.lag_seconds(0, now=200.0)
    span = 100.0
    assert far.extrapolated
    assert far.seconds == pytest.approx(200.0 - (100.0 - MAX_EXTRAPOLATION * span))


def test_single_point_gives_a_flagged_lower_bound():
    t = table([(500, 10.0)])
    estimate = t.lag_seconds(400, now=70.0)
    assert estimate.extrapolated
    assert estimate.seconds == pytest.approx(60.0)


def test_offsets_going_backwards_reset_the_history():
    t = table([(0, 0.0), (100, 10.0), (5, 20.0)])
    assert t.points == [(5, 20.0)]


def test_out_of_order_or_duplicate_timestamps_are_ignored():
    t = table([(0, 0.0), (100, 10.0), (150, 10.0), (160, 5.0)])
    assert t.points == [(0, 0.0), (100, 10.0)]


def test_thinning_bounds_memory_and_keeps_the_oldest_point_and_recent_resolution():
    t = OffsetTimeTable(size=8)
    for i in range(1000):
        t.add(i * 10, float(i))
    assert len(t) <= 8
    points = t.points
    assert points[0] == (0, 0.0)
    assert points[-1] == (9990, 999.0)
    # still exact at a constant rate, old or recent
    assert t.lag_seconds(5000, now=999.0).seconds == pytest.approx(499.0)
    assert t.lag_seconds(9985, now=999.0).seconds == pytest.approx(0.5)


def test_produce_rate_over_window():
    t = table([(0, 0.0), (100, 10.0), (300, 20.0), (600, 30.0)])
    assert t.produce_rate(10.0) == pytest.approx(30.0)
    assert t.produce_rate(1000.0) == pytest.approx(20.0)
    assert table([(0, 0.0)]).produce_rate(10.0) is None


def test_lag_seconds_without_history_is_unknown():
    assert OffsetTimeTable().lag_seconds(10, now=1.0) is None
