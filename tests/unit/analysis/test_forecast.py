"""Forecasting: rate models, damped trend, daily profile, lag projection, catch-up and retention ETA."""

from __future__ import annotations

import math
import random

from kafka_detective.analysis.forecast import DAY, DampedHolt, LagForecaster, RateModel, SeasonalProfile
from kafka_detective_tools.scenarios.baselines import LeastSquaresLine, RegressionWithR2

T0 = 1_790_000_000.0


def feed(fc: LagForecaster, n: int, step: float, produce: float, consume: float, lag0: float = 0.0,
         t0: float = T0, lag_seconds=None) -> float:
    log_end = 1_000_000.0 + lag0
    committed = 1_000_000.0
    t = t0
    for _ in range(n):
        fc.update(t, log_end - committed, log_end, committed, lag_seconds(t) if lag_seconds else None)
        t += step
        log_end += produce * step
        committed += consume * step
    return t - step


def test_constant_rates_project_the_integrated_difference():
    fc = LagForecaster(seasonal=False)
    # producers 120 msg/s, consumers saturated at 100 msg/s with a backlog: lag grows 20 msg/s
    feed(fc, 200, 30.0, 120.0, 100.0, lag0=50_000.0)
    pred, upper = fc.predict((300, 900, 1800))
    lag_now = fc.last_lag
    # a growth that has lasted `age` seconds is projected for about as long again: age * ln(1 + h / age) seconds
    assert fc.last_t is not None and fc.mode == 1
    age = fc.last_t - fc.mode_since + fc.step
    for h in (300, 900, 1800):
        expected = lag_now + 20.0 * age * math.log1p(h / age)
        assert math.isclose(pred[h], expected, rel_tol=0.02), (h, pred[h], expected)
        assert upper[h] >= pred[h]
    assert math.isclose(fc.growth_rate(), 20.0, rel_tol=0.02)      # the time-to-breach rate is not damped
    assert upper[1800] - pred[1800] >= upper[300] - pred[300]      # interval grows with the horizon


def test_catch_up_time_and_floor_at_zero():
    fc = LagForecaster(seasonal=False)
    feed(fc, 200, 30.0, 100.0, 150.0, lag0=500_000.0)       # draining 50 msg/s
    lag_now = fc.last_lag
    eta = fc.catch_up_seconds()
    assert eta is not None and math.isclose(eta, lag_now / 50.0, rel_tol=0.05)
    pred, _ = fc.predict((1800,))
    expected = max(0.0, lag_now - 50.0 * 1800)
    assert abs(pred[1800] - expected) <= 0.05 * lag_now
    # a group that keeps up never gets a negative forecast
    fc2 = LagForecaster(seasonal=False)
    feed(fc2, 200, 30.0, 100.0, 100.0)
    assert all(v >= 0 for v in fc2.predict((300, 900, 1800))[0].values())
    assert fc2.catch_up_seconds() == 0.0


def test_damped_trend_flattens():
    holt = DampedHolt(alpha=0.5, beta=0.2, phi=0.98)
    t = T0
    for i in range(200):
        holt.update(t, 10.0 + 0.01 * i * 30.0)      # a steady ramp of 0.01 per second
        t += 30.0
    assert holt.trend > 0
    linear = holt.level + holt.trend * 36_000
    damped = holt.forecast(36_000)
    assert holt.level < damped < linear                   # trends but less than a straight line
    # the integral is consistent with the forecast
    h = 1800.0
    numeric = sum(holt.forecast((k + 0.5) * h / 100) for k in range(100)) * h / 100
    assert math.isclose(holt.integral(h), numeric, rel_tol=1e-3)


def test_seasonal_profile_learns_a_daily_bump():
    rng = random.Random(3)
    model = RateModel(seasonal=True)
    count = 0.0
    t = T0 - (T0 % DAY)                                   # midnight
    step = 60.0
    bump = lambda ts: 400.0 if 3 * 3600 <= ts % DAY < 3.5 * 3600 else 0.0  # noqa: E731
    for _ in range(int(3 * DAY / step)):
        rate = 100.0 + bump(t) + rng.gauss(0, 3)
        count += rate * step
        model.update(t, count)
        t += step
    # at 02:45 the forecast for 03:15 includes the 03:00 batch; for 05:00 it does not
    now = t - (t % DAY) + 2.75 * 3600
    assert model.season is not None and model.season.ready(now)
    assert model.seasonal_at(now + 1800, now) > 200.0
    assert abs(model.seasonal_at(now + 2.25 * 3600, now)) < 60.0
    profile = SeasonalProfile()
    assert profile.value(T0) == 0.0 and not profile.ready(T0)


def test_no_look_ahead_in_forecasts():
    a, b = LagForecaster(), LagForecaster()
    rng = random.Random(5)
    log_end, committed, t = 0.0, 0.0, T0
    rows = []
    for _ in range(300):
        log_end += rng.uniform(80, 120) * 30
        committed = min(log_end, committed + rng.uniform(80, 120) * 30)
        rows.append((t, log_end - committed, log_end, committed))
        t += 30
    for row in rows[:200]:
        a.update(*row, None)
        b.update(*row, None)
    before = a.predict((1800,))
    for row in rows[200:]:
        b.update(row[0], row[1] * 10, row[2] * 2, row[3], None)    # a different future for b
    assert before == LagForecaster.predict(a, (1800,))


def test_retention_breach_eta():
    fc = LagForecaster(seasonal=False)
    # consumers stopped: the oldest unconsumed message ages one second per second
    feed(fc, 200, 30.0, 100.0, 0.0, lag0=1000.0, lag_seconds=lambda t: 100.0 + (t - T0))
    age = 100.0 + 199 * 30.0
    eta = fc.retention_breach_seconds(7200.0, age)
    assert eta is not None and math.isclose(eta, 7200.0 - age, rel_tol=0.1)
    assert fc.retention_breach_seconds(None, age) is None
    assert fc.retention_breach_seconds(1000.0, age) == 0.0
    healthy = LagForecaster(seasonal=False)
    feed(healthy, 200, 30.0, 100.0, 100.0, lag_seconds=lambda t: 2.0)
    assert healthy.retention_breach_seconds(7200.0, 2.0) is None


def test_baselines_fit_a_line():
    ls = LeastSquaresLine(3600)
    r2 = RegressionWithR2(3600, 0.5)
    for i in range(100):
        ls.update(T0 + 30 * i, 1000 + 5.0 * 30 * i)
        r2.update(T0 + 30 * i, 1000 + 5.0 * 30 * i)
    last = 1000 + 5.0 * 30 * 99
    assert math.isclose(ls.predict(1800), last + 5.0 * 1800, rel_tol=1e-6)
    assert math.isclose(r2.predict(1800), last + 5.0 * 1800, rel_tol=1e-6)
    assert r2.r2() > 0.99
    noisy = RegressionWithR2(3600, 0.5)
    rng = random.Random(1)
    for i in range(100):
        noisy.update(T0 + 30 * i, 1000 + rng.gauss(0, 100))
    assert noisy.predict(1800) == noisy.points[-1][1]      # low R²: falls back to the last value


def _run(fc: LagForecaster, rates: list[tuple[float, float]], step: float = 60.0, t0: float = T0,
         lag_noise: random.Random | None = None) -> list[tuple[float, float]]:
    """Feed (produce, consume) rates per step (consumption never beyond what exists); returns (t, lag)."""
    log_end = committed = 1_000_000.0
    t = t0
    out = []
    for produce, consume in rates:
        log_end += produce * step
        committed = min(log_end, committed + consume * step)
        lag = log_end - committed
        if lag_noise is not None:
            lag = max(0.0, lag + lag_noise.gauss(0.0, 200.0))
        fc.update(t, lag, log_end, committed, None)
        out.append((t, lag))
        t += step
    return out


def test_quiet_stationary_group_is_no_worse_than_persistence():
    rng = random.Random(11)
    fc = LagForecaster(seasonal=False)
    log_end = committed = 1_000_000.0
    t, lags, preds = T0, [], {}
    for i in range(1500):
        produce = 200.0 * (1.0 + rng.gauss(0.0, 0.05))
        log_end += produce * 60.0
        inflight = max(0.0, 600.0 + rng.gauss(0.0, 250.0))      # keeping up: only in-flight messages
        committed = log_end - inflight
        fc.update(t, inflight, log_end, committed, None)
        lags.append(inflight)
        if i >= 120:
            preds[i] = fc.predict((1800,))[0][1800]
        t += 60.0
    ours = [abs(preds[i] - lags[i + 30]) for i in preds if i + 30 < len(lags)]
    persistence = [abs(lags[i] - lags[i + 30]) for i in preds if i + 30 < len(lags)]
    assert sum(ours) <= sum(persistence)
    assert fc.mode == 0 and fc.growth_rate() == 0.0


def test_linear_ramp_gives_time_to_breach_20_minutes_ahead():
    fc = LagForecaster(seasonal=False)
    threshold = 10_000.0
    # 2 h keeping up, then the consumers saturate at 100 msg/s while producers write 105: +5 msg/s
    rates = [(100.0, 150.0)] * 120 + [(105.0, 100.0)] * 60
    log_end = committed = 1_000_000.0
    t = T0
    rng = random.Random(2)
    warned_at = None
    for k, (produce, consume) in enumerate(rates):
        log_end += produce * 60.0
        committed = min(log_end, committed + consume * 60.0) if k >= 120 else log_end - 300.0
        lag = log_end - committed + rng.gauss(0.0, 50.0)
        fc.update(t, lag, log_end, committed, None)
        g = fc.growth_rate()
        if warned_at is None and g > 0 and lag < threshold:
            eta = (threshold - lag) / g
            true_eta = (threshold - lag) / 5.0
            if eta < 2700.0:
                warned_at = t
                assert abs(eta - true_eta) <= 0.25 * true_eta, (eta, true_eta)
        t += 60.0
    ramp_start = T0 + 120 * 60.0
    breach = ramp_start + (threshold - 300.0) / 5.0
    assert warned_at is not None and breach - warned_at >= 20 * 60, (warned_at, breach)


def test_after_a_burst_the_forecast_follows_the_drain():
    fc = LagForecaster(seasonal=False)
    # keeping up, a 20-minute burst of 400 msg/s against a capacity of 250, then producers back at 100
    rates = [(100.0, 250.0)] * 120 + [(400.0, 250.0)] * 20 + [(100.0, 250.0)] * 15
    series = _run(fc, rates)
    lag_now = series[-1][1]
    pred, lower, upper = fc.predict_interval((300, 1800))
    assert fc.mode < 0
    # draining at 150 msg/s: 30 minutes take 270 000 messages off the backlog (to the floor of zero)
    expected = max(0.0, lag_now - 150.0 * 1800)
    assert pred[1800] < 0.5 * lag_now
    assert abs(pred[1800] - expected) <= 0.1 * lag_now + 1000.0
    assert abs(pred[300] - (lag_now - 150.0 * 300)) <= 0.1 * lag_now
    assert lower[300] <= pred[300] <= upper[300]


def test_interval_covers_about_90_percent_on_noise():
    rng = random.Random(4)
    fc = LagForecaster(seasonal=False)
    log_end = 1_000_000.0
    t = T0
    lags, bounds = [], {}
    for i in range(3000):
        log_end += 100.0 * 60.0
        lag = max(0.0, 1000.0 + rng.gauss(0.0, 300.0))
        fc.update(t, lag, log_end, log_end - lag, None)
        lags.append(lag)
        _, lo, up = fc.predict_interval((1800,))
        bounds[i] = (lo[1800], up[1800])
        t += 60.0
    inside = [bounds[i][0] <= lags[i + 30] <= bounds[i][1] for i in range(1000, 2970)]
    assert 0.8 <= sum(inside) / len(inside) <= 0.97


def _replay_30min(fc: LagForecaster, lags: list[float], step: float = 60.0, produce: float = 200.0,
                  warmup: int = 120) -> tuple[float, float, float]:
    """Feed a lag series (producers at `produce` msg/s); MAE 30 minutes ahead after `warmup` steps of the
    forecaster, least squares over 1 h and persistence."""
    ls = LeastSquaresLine(3600.0)
    log_end = 1_000_000.0
    k = int(1800 / step)
    ours, line, persist = [], [], []
    for i, lag in enumerate(lags):
        t = T0 + i * step
        log_end += produce * step
        fc.update(t, lag, log_end, log_end - lag, None)
        ls.update(t, lag)
        if i >= warmup and i + k < len(lags):
            ours.append(abs(fc.predict((1800,))[0][1800] - lags[i + k]))
            line.append(abs((ls.predict(1800) or 0.0) - lags[i + k]))
            persist.append(abs(lag - lags[i + k]))
    n = len(ours)
    return sum(ours) / n, sum(line) / n, sum(persist) / n


def test_sawtooth_of_batched_commits_is_forecast_no_worse_than_least_squares():
    # commits every 7 minutes: the lag climbs at the produce rate and drops to ~0 at each commit
    rng = random.Random(5)
    lags = [200.0 * 60.0 * (i % 7) * (1.0 + rng.gauss(0.0, 0.05)) for i in range(2000)]
    fc = LagForecaster(seasonal=False)
    ours, line, _ = _replay_30min(fc, lags)
    assert ours <= line, (ours, line)
    assert fc.growth_rate() == 0.0 and fc.lag_seconds_growth_rate() == 0.0


def test_a_wandering_lag_keeps_its_deviation_as_measured_at_the_horizon():
    # a lag that wanders slowly (a random walk pulled weakly to 5 000): the deviation from the recent mean
    # persists over 30 minutes far more than the lag-1 autocorrelation's decay over 30 steps suggests
    rng = random.Random(8)
    lags, x = [], 5000.0
    for _ in range(3000):
        x += 0.002 * (5000.0 - x) + rng.gauss(0.0, 60.0)
        lags.append(max(0.0, x))
    fc = LagForecaster(seasonal=False)
    ours, line, persist = _replay_30min(fc, lags)
    beta = fc._cal[1800].beta() if fc._cal else None
    assert beta is not None and beta > 0.5, beta
    assert ours <= line and ours <= 1.05 * persist, (ours, line, persist)


def test_a_stall_seen_for_a_minute_is_not_projected_for_thirty():
    # keeping up for 2 h, then the consumers stop: the forecast one minute in projects minutes of growth, not 30
    fc = LagForecaster(seasonal=False)
    series = _run(fc, [(100.0, 150.0)] * 120 + [(100.0, 0.0)] * 2)
    assert fc.mode > 0
    lag_now = series[-1][1]
    pred = fc.predict((1800,))[0][1800]
    assert lag_now < pred < lag_now + 100.0 * 300, (lag_now, pred)
    # ... while after 40 minutes of it, the growth is projected for most of the horizon
    series = _run(fc, [(100.0, 0.0)] * 40, t0=series[-1][0] + 60.0)
    lag_now = series[-1][1]
    assert fc.predict((1800,))[0][1800] > lag_now + 100.0 * 1200


def test_a_group_whose_stalls_last_minutes_learns_to_weigh_the_level():
    # every 2 h the consumers stop for 5 minutes and catch up within minutes: after a few such stalls the growth
    # model weighs less than the level forecast, and a new stall is forecast well below its pure projection
    fc = LagForecaster(seasonal=False)
    stall = [(100.0, 0.0)] * 5
    rates = [(100.0, 400.0)] * 120 + ([(100.0, 0.0)] * 5 + [(100.0, 400.0)] * 115) * 6 + stall[:2]
    log_end = committed = 1_000_000.0
    for k, (produce, consume) in enumerate(rates):
        log_end += produce * 60.0
        committed = min(log_end, committed + consume * 60.0)
        fc.update(T0 + 60.0 * k, log_end - committed, log_end, committed, None)
        pred = fc.predict((1800,))[0][1800]
    cal = fc._cal[1800] if fc._cal else None
    assert cal is not None and cal.growth_n >= 10
    assert cal.growth_weight() < 0.5
    assert fc.mode > 0
    assert pred < 0.6 * fc._trend_point(fc.last_t or 0.0, fc.last_lag or 0.0, 1800)


def test_lag_seconds_growth_from_the_lag_ramp_warns_20_minutes_ahead():
    # 2 h keeping up at 200 msg/s, then the consumers slow down by 1 msg/s every minute: the backlog grows ever
    # faster and its oldest message (age = lag / produce rate, plus a 0-40 s sawtooth of batched commits)
    # reaches 300 s 43 minutes later. The age's own trend drowns in its sawtooth until late; the lag's ramp must
    # give the warning 20 minutes ahead (the rule: (300 - age) / growth < 2700 s)
    fc = LagForecaster(seasonal=False)
    log_end, committed = 1_000_000.0, 1_000_000.0
    rng = random.Random(3)
    warned_at = breach = None
    for k in range(300):
        t = T0 + 60.0 * k
        log_end += 200.0 * 60.0
        committed = log_end - 400.0 if k < 120 else committed + (200.0 - (k - 120)) * 60.0
        lag = log_end - committed + rng.gauss(0.0, 50.0)
        age = max(0.0, lag / 200.0 + 10.0 * (k % 5) + rng.gauss(0.0, 2.0))
        fc.update(t, lag, log_end, committed, age)
        g = fc.lag_seconds_growth_rate()
        if age >= 300.0:
            breach = t
            break
        if warned_at is None and g > 0 and (300.0 - age) / g < 2700.0:
            warned_at = t
    assert breach is not None and warned_at is not None, (warned_at, breach)
    assert breach - warned_at >= 20 * 60, (breach - warned_at) / 60


def test_flat_and_falling_lags_publish_no_growth():
    rng = random.Random(6)
    flat = LagForecaster(seasonal=False)
    log_end = 1_000_000.0
    for k in range(300):
        log_end += 500.0 * 60.0
        lag = max(0.0, 3000.0 + rng.gauss(0.0, 400.0))
        flat.update(T0 + 60.0 * k, lag, log_end, log_end - lag, lag / 500.0)
        if k >= 60:
            assert flat.growth_rate() == 0.0 and flat.lag_seconds_growth_rate() == 0.0, k
    falling = LagForecaster(seasonal=False)
    _run(falling, [(100.0, 150.0)] * 120 + [(400.0, 250.0)] * 20 + [(100.0, 250.0)] * 30)
    assert falling.mode < 0
    assert falling.growth_rate() == 0.0 and falling.lag_seconds_growth_rate() == 0.0


def test_no_growth_is_published_in_the_first_hour():
    # the exporter starts on a group with a growing backlog: its usual lag is unknown, any backlog looks like
    # growth, so the first hour publishes none; after it, the growth shows
    fc = LagForecaster(seasonal=False)
    log_end = committed = 1_000_000.0
    growth = []
    for k in range(70):
        log_end += 120.0 * 60.0
        committed += 100.0 * 60.0
        fc.update(T0 + 60.0 * k, log_end - committed, log_end, committed, None)
        growth.append(fc.growth_rate())
    assert all(g == 0.0 for g in growth[:60])
    assert growth[-1] == 20.0


def _staggered_commits(minutes: int, rng: random.Random, stop_at: int | None = None,
                       stall_at: int | None = None) -> list[tuple[float, float]]:
    """(lag, committed) per minute of a group on a 100 msg/s topic whose partitions commit at different times: the
    summed lag climbs 8-12 msg/s for 6-9 minutes, then a commit round brings it back to about 100; from minute
    `stop_at` on the commit rounds stop (the lag keeps climbing at the same pace); from minute `stall_at` on
    nothing is consumed (the lag climbs at the produce rate)."""
    out, log_end, lag, next_commit = [], 1_000_000.0, 100.0, rng.randint(6, 9)
    for k in range(minutes):
        log_end += 100.0 * 60.0
        if stall_at is not None and k >= stall_at:
            lag += 100.0 * 60.0
        elif k == next_commit and (stop_at is None or k < stop_at):
            lag, next_commit = 100.0 + rng.uniform(0.0, 50.0), k + rng.randint(6, 9)
        else:
            lag += rng.uniform(8.0, 12.0) * 60.0
        out.append((lag, log_end - lag))
    return out


def test_a_sawtooth_of_staggered_commits_publishes_no_growth():
    # the climb reaches 50-100 s of production, above the backlog floor, at every round: it is no backlog
    for seed in range(5):
        fc = LagForecaster(seasonal=False)
        for k, (lag, committed) in enumerate(_staggered_commits(24 * 60, random.Random(seed))):
            fc.update(T0 + 60.0 * k, lag, committed + lag, committed, None)
            if k >= 120:
                assert fc.growth_rate() == 0.0, (seed, k, lag)


def test_a_sawtooth_that_misses_its_commits_grows_after_its_usual_climb():
    # the same group stops committing at 12:00: the climb that goes on past 1.5 times its longest usual one (at
    # most 13.5 minutes) is a backlog
    for seed in range(5):
        fc = LagForecaster(seasonal=False)
        series = _staggered_commits(16 * 60, random.Random(seed), stop_at=12 * 60)
        last_drop = max(k for k in range(1, 12 * 60) if series[k][0] < series[k - 1][0])
        first_growth = None
        for k, (lag, committed) in enumerate(series):
            fc.update(T0 + 60.0 * k, lag, committed + lag, committed, None)
            if k > last_drop and first_growth is None and fc.growth_rate() > 0:
                first_growth = k
        assert first_growth is not None and first_growth - last_drop <= 15, (seed, last_drop, first_growth)


def test_a_sawtooth_that_stops_consuming_grows_before_its_usual_climb_ends():
    # the consumers stop at 12:00: the lag climbs ten times as fast as in a usual climb, and once it is 1.5 times
    # higher than the usual peaks it is a backlog, long before a usual climb would have ended
    for seed in range(5):
        fc = LagForecaster(seasonal=False)
        first_growth = None
        for k, (lag, committed) in enumerate(_staggered_commits(13 * 60, random.Random(seed), stall_at=12 * 60)):
            fc.update(T0 + 60.0 * k, lag, committed + lag, committed, None)
            if k >= 12 * 60 and first_growth is None and fc.growth_rate() > 0:
                first_growth = k - 12 * 60
        assert first_growth is not None and first_growth <= 3, (seed, first_growth)


def test_a_sawtooth_the_exporter_starts_on_publishes_no_growth_before_its_climbs_are_known():
    # an exporter restart on a group that commits in rounds: before four climbs are known, a climb's peak looks
    # like a backlog at capacity; a lag that dropped like a sawtooth's in the first hour publishes no growth then
    for seed in range(5):
        fc = LagForecaster(seasonal=False)
        for k, (lag, committed) in enumerate(_staggered_commits(3 * 60, random.Random(seed))):
            fc.update(T0 + 60.0 * k, lag, committed + lag, committed, None)
            assert fc.growth_rate() == 0.0, (seed, k, lag)


def test_a_second_freeze_after_a_calm_spell_grows_in_the_exporter_first_hour():
    # a 60 msg/s group that freezes for 5 minutes twice, 10 calm minutes apart, sampled every 10 s: the first
    # freeze drains over several samples (one drop, not a sawtooth of short climbs) and the lag rests near zero
    # before the second, which is an episode of its own and must publish growth within 3 minutes
    fc = LagForecaster(seasonal=False)
    lag, log_end, first_growth = 0.0, 1_000_000.0, None
    freezes = [(600, 900), (1500, 1800)]
    for k in range(0, 1900, 10):
        log_end += 600.0
        frozen = any(a <= k < b for a, b in freezes)
        lag = lag + 600.0 if frozen else max(0.0, lag - 5_000.0)
        fc.update(T0 + k, lag, log_end, log_end - lag, None)
        if k == 1500:
            assert len(fc.climbs) == 1, fc.climbs
        if k >= 1500 and first_growth is None and fc.growth_rate() > 0:
            first_growth = k - 1500
    assert first_growth is not None and first_growth <= 180, first_growth
