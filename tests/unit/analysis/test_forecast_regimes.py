"""Forecasting across regimes: weekly seasonality of the produce rate, a stall's drain and what follows it, a
quiet group with daily and weekly cycles."""

from __future__ import annotations

import math
import random

from kafka_detective.analysis.forecast import DAY, WEEK, LagForecaster, RateModel

MONDAY = 1_790_208_000.0          # 2026-09-21 00:00 UTC, a Monday
HOUR = 3600.0
STEP = 60.0


def _weekday(t: float) -> int:
    return int((t - MONDAY) // DAY) % 7


def _office_rate(t: float) -> float:
    """Business traffic: 1 000 msg/s on weekdays with a morning ramp to 3 000 from 08:00 to 09:00 (held until
    18:00), a flat 300 msg/s at weekends."""
    if _weekday(t) >= 5:
        return 300.0
    hour = (t % DAY) / HOUR
    if hour < 8.0 or hour >= 18.0:
        return 1000.0
    return 1000.0 + 2000.0 * min(1.0, hour - 8.0)


def _feed_rate(model: RateModel, until: float, rng: random.Random, t: float = MONDAY) -> float:
    count = 0.0
    while t <= until:
        count += _office_rate(t) * (1.0 + rng.gauss(0.0, 0.02)) * STEP
        model.update(t, count)
        t += STEP
    return t - STEP


def _models_at(now: float, seed: int) -> tuple[RateModel, RateModel]:
    """The produce rate model with the weekly correction and without, fed the same traffic up to `now`."""
    weekly, daily = RateModel(alpha=0.1, beta=0.02, weekly=True), RateModel(alpha=0.1, beta=0.02)
    _feed_rate(weekly, now, random.Random(seed))
    _feed_rate(daily, now, random.Random(seed))
    return weekly, daily


def test_weekly_correction_forecasts_a_monday_morning_ramp_after_a_quiet_weekend():
    # the third Monday at 07:45: the ramp starts at 08:00, 1 500 msg/s by 08:15
    now = MONDAY + 2 * WEEK + 7.75 * HOUR
    weekly, daily = _models_at(now, 7)
    assert weekly.week is not None and weekly.week.ready(now)
    truth = _office_rate(now + 1800.0)
    with_week, without = weekly.forecast(now, 1800.0), daily.forecast(now, 1800.0)
    # the daily profile learnt Sunday (flat) and knows nothing of the ramp; last Monday taught the weekly one.
    # Only part of it: both profiles are deviations from a 3-hour baseline, which absorbs part of a long ramp
    assert abs(with_week - truth) <= abs(without - truth) - 0.15 * truth, (with_week, without, truth)
    # and Monday's midnight step up from the weekend's 300 msg/s, forecast on Sunday at 23:30
    now = MONDAY + 2 * WEEK - 0.5 * HOUR
    weekly, daily = _models_at(now, 8)
    truth = _office_rate(now + 1800.0)
    with_week, without = weekly.forecast(now, 1800.0), daily.forecast(now, 1800.0)
    assert abs(with_week - truth) <= abs(without - truth) - 0.1 * truth, (with_week, without, truth)


def test_weekly_correction_waits_for_a_week_of_the_daily_profile():
    model = RateModel(weekly=True)
    _feed_rate(model, MONDAY + 7.5 * DAY, random.Random(1))
    assert model.season is not None and model.season.ready(MONDAY + 7.5 * DAY)
    assert model.week is not None and not model.week.ready(MONDAY + 7.5 * DAY)   # learning since day 2
    assert model.seasonal_at(MONDAY + 7.5 * DAY, MONDAY + 7.5 * DAY) == model.season.value(MONDAY + 7.5 * DAY)


def _backlog_on_monday(fc: LagForecaster) -> tuple[float, float, float]:
    """Consumers slowed to 900 msg/s from 06:00 on the third Monday (a backlog); (lag, its 30-minute forecast) at
    08:00 as the producers ramp up, and the lag at 08:30."""
    rng = random.Random(3)
    log_end = committed = 1_000_000.0
    t = MONDAY
    monday_0800 = MONDAY + 2 * WEEK + 8.0 * HOUR
    lags: dict[float, float] = {}
    pred = 0.0
    while t <= monday_0800 + 1800.0:
        log_end += _office_rate(t) * (1.0 + rng.gauss(0.0, 0.02)) * STEP
        if t < monday_0800 - 2 * HOUR:
            committed = log_end - 500.0 * (1.0 + rng.random())
        else:
            committed = min(log_end, committed + 900.0 * STEP)
        lags[t] = log_end - committed
        fc.update(t, lags[t], log_end, committed, None)
        if t == monday_0800:
            pred = fc.predict((1800,))[0][1800]
        t += STEP
    return lags[monday_0800], pred, lags[monday_0800 + 1800.0]


def test_a_backlog_at_capacity_takes_the_monday_ramp_into_its_forecast():
    # consumers at capacity absorb none of the producers' ramp: the lag grows by all of it (from 08:00 the
    # producers ramp to 2 000 msg/s by 08:30, ~1 M messages more than the backlog's 100 msg/s growth)
    now, pred, actual = _backlog_on_monday(LagForecaster())
    assert actual - now > 1_000_000.0
    plain = LagForecaster()
    plain.produce.week = None                   # the same forecaster without the weekly correction
    _, plain_pred, _ = _backlog_on_monday(plain)
    # the daily profile learnt Sunday says the producers slow down; last Monday says they ramp up
    assert plain_pred < pred < actual
    assert actual - pred <= 0.8 * (actual - plain_pred), (pred, plain_pred, actual)


def _stall_then_drain(fc: LagForecaster) -> list[tuple[float, int, float, float]]:
    """Keeping up at 500 msg/s for 3 h, the consumers stop for 40 minutes, then drain at 2 000 msg/s; per
    minute (lag, mode, 30-minute forecast, slope of the 10-minute line)."""
    rates = [(500.0, 600.0)] * 180 + [(500.0, 0.0)] * 40 + [(500.0, 2000.0)] * 60
    log_end = committed = 1_000_000.0
    t = MONDAY
    rng = random.Random(5)
    out = []
    for k, (produce, consume) in enumerate(rates):
        log_end += produce * STEP
        if k < 180:
            committed = log_end - 300.0 * (1.0 + rng.random())
        else:
            committed = min(log_end - 300.0 * rng.random(), committed + consume * STEP)
        lag = log_end - committed
        fc.update(t, lag, log_end, committed, None)
        out.append((lag, fc.mode, fc.predict((1800,))[0][1800], fc.short.slope))
        t += STEP
    return out


def test_a_drain_is_called_while_the_regressions_still_slope_up():
    rows = _stall_then_drain(LagForecaster(seasonal=False))
    peak = rows[219][0]
    assert peak > 1_000_000.0
    # two minutes into the drain the consumers outrun the producers: a drain, though the 10-minute line still
    # rises; a minute later the forecast is the in-flight lag (the backlog is gone within 14 minutes)
    lag, mode, pred, slope = rows[221]
    assert mode == -1 and slope > 0, rows[218:224]
    assert pred < lag
    lag, mode, pred, slope = rows[222]
    assert mode == -1 and slope > 0 and pred <= 0.1 * peak, rows[218:224]


def test_after_a_drain_the_level_forecast_forgets_the_backlog():
    rows = _stall_then_drain(LagForecaster(seasonal=False))
    peak = rows[219][0]
    # the backlog is gone after ~14 minutes of draining; from then on the forecast is the in-flight lag, not the
    # mean of a half hour that was mostly backlog
    back = next(i for i in range(220, len(rows)) if rows[i][0] < 2000.0)
    for i in range(back, len(rows)):
        lag, mode, pred, _ = rows[i]
        assert pred <= 0.01 * peak, (i - back, lag, mode, pred)


def test_a_quiet_group_with_daily_and_weekly_cycles_is_no_worse_than_persistence():
    # keeping up with business traffic for three weeks: the in-flight lag follows the produce rate
    rng = random.Random(9)
    fc = LagForecaster()
    log_end = 0.0
    t = MONDAY
    lags, preds = [], []
    while t < MONDAY + 3 * WEEK:
        produce = _office_rate(t) * (1.0 + 0.1 * math.sin(2 * math.pi * (t % DAY) / DAY)) \
            * (1.0 + rng.gauss(0.0, 0.03))
        log_end += produce * STEP
        lag = produce * rng.uniform(0.5, 2.0)              # one or two seconds of messages in flight
        fc.update(t, lag, log_end, log_end - lag, None)
        lags.append(lag)
        preds.append(fc.predict((1800,))[0][1800])
        t += STEP
    start = int(DAY / STEP)
    ours = sum(abs(preds[i] - lags[i + 30]) for i in range(start, len(lags) - 30))
    persistence = sum(abs(lags[i] - lags[i + 30]) for i in range(start, len(lags) - 30))
    assert ours <= persistence, (ours, persistence)
    assert fc.growth_rate() == 0.0
