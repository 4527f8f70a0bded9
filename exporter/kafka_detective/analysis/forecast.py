"""Lag forecasting that knows when not to extrapolate (pure Python, O(1) per update).

`LagForecaster` first decides whether the lag has a trend worth extrapolating: two exponentially weighted
regressions of the lag (10 and 30 minutes) must both find a significant slope in the same direction, larger than
the lag's own step-to-step noise would explain over 30 minutes; or the lag is a backlog well above the group's
usual in-flight lag that the produce and consume rates keep growing (or draining). Without a trend the forecast is
the mean since the last growth or drain ended plus the share of the current deviation that the group's own past
outcomes show is still there at the horizon. With one, the lag grows at the produce rate minus the consumers'
capacity — the consumers run at capacity once a backlog builds, and a drain runs at the capacity they show (called
as soon as the consumers outrun the producers on a backlog and the lag falls) — with the change of the produce
rate's seasonal profile added on a backlog; a growth is projected for about as long as it has lasted, and scaled
by the share of such projections the group's past growths delivered. The interval around the point forecast is
calibrated online from the forecast's own past errors per horizon (90 %). The growth rates behind the
time-to-breach alerts are published too (from an hour of history on).

The produce rate (from the topic's log-end-offset counter) and the consume throughput (from the group's
committed-offset counter) are modelled by damped-trend exponential smoothing (Holt with damping, in continuous time
so irregular collection intervals are handled) on top of an additive daily profile learned online per time-of-day
bucket (used once a day of history exists: the "3 AM mystery" recurs at 03:00) and, for the produce rate, an
hour-of-week correction of it (used once a week of it exists: a Monday morning after a quiet weekend). The
module also gives the time to catch up and the time until retention deletes the oldest unconsumed message
(data-loss ETA).

No look-ahead: every quantity at time t depends only on samples up to t; no min/max of a series is known in
advance.
"""

from __future__ import annotations

import math
from array import array

DAY = 86400.0
WEEK = 7 * DAY
WEEK_BUCKETS = 168       # the weekly correction: one bucket per hour of the week
WEEK_GAMMA = 0.02        # ... learnt once a week, from an hour of samples each
Z_INTERVAL = 1.645       # initial half-width of the interval in scales (learnt online afterwards)
COVERAGE = 0.9           # the interval aims at 5 %-95 %
CAL_RATE = 0.05          # learning rate of the interval's multiplier
CAL_SPACING = 60.0       # a forecast is kept for calibration at most once a minute
BACKLOG_SECONDS = 30.0   # a backlog above this many seconds of production is more than in-flight messages
REF_STEP = 30.0          # smoothing constants are given per 30 s of elapsed time


def _per_dt(rate: float, dt: float) -> float:
    """Smoothing weight for an elapsed `dt` given a weight `rate` per REF_STEP seconds."""
    if dt <= 0:
        return 0.0
    kept: float = (1.0 - rate) ** (dt / REF_STEP)   # a float ** float is typed Any (a negative base gives complex)
    return 1.0 - kept


class SeasonalProfile:
    """Additive daily profile: `buckets` time-of-day buckets, each an EMA of the deviation from a baseline.

    `value(t)` interpolates linearly between bucket centres. It is `ready` once a full period has been
    observed since the first update."""

    __slots__ = ("bucket_seconds", "buckets", "first", "gamma", "period", "profile", "seen")

    def __init__(self, buckets: int = 96, period: float = DAY, gamma: float = 0.05):
        self.buckets = buckets
        self.period = period
        self.bucket_seconds = period / buckets
        self.gamma = gamma
        self.profile: array[float] | None = None    # array('d'): 8 bytes per bucket, allocated on first update
        self.seen: bytearray | None = None
        self.first: float | None = None

    def ready(self, t: float) -> bool:
        return self.first is not None and t - self.first >= self.period

    def update(self, t: float, deviation: float, dt: float) -> None:
        if self.first is None:
            self.first = t
        if self.profile is None or self.seen is None:
            self.profile = array("d", bytes(8 * self.buckets))
            self.seen = bytearray(self.buckets)
        b = int((t % self.period) // self.bucket_seconds)
        if not self.seen[b]:
            self.seen[b] = 1
            self.profile[b] = deviation
        else:
            g = _per_dt(self.gamma, dt)
            self.profile[b] += g * (deviation - self.profile[b])

    def value(self, t: float) -> float:
        if self.profile is None:
            return 0.0
        x = (t % self.period) / self.bucket_seconds - 0.5
        i = math.floor(x)
        f = x - i
        n = self.buckets
        return self.profile[i % n] * (1.0 - f) + self.profile[(i + 1) % n] * f


class DampedHolt:
    """Holt's linear method with a damped trend, in continuous time.

    level: smoothed value; trend: change per second, damped with time constant `1/k` seconds
    (`phi` is the damping per 60 s). Forecast at `tau` seconds: level + trend * (1 - e^(-k tau)) / k."""

    __slots__ = ("_dt", "_w", "alpha", "beta", "k", "level", "t", "trend")

    def __init__(self, alpha: float = 0.2, beta: float = 0.03, phi: float = 0.98):
        self.alpha = alpha
        self.beta = beta
        self.k = -math.log(phi) / 60.0
        self.level: float | None = None
        self.trend = 0.0
        self.t: float | None = None
        self._dt = -1.0                      # weights cached for the last interval (cycles are regular)
        self._w = (0.0, 0.0, 0.0)

    def update(self, t: float, y: float) -> None:
        if self.level is None or self.t is None:
            self.level, self.t = y, t
            return
        dt = t - self.t
        if dt <= 0:
            return
        if dt != self._dt:
            self._dt = dt
            self._w = (math.exp(-self.k * dt), _per_dt(self.alpha, dt), _per_dt(self.beta, dt))
        damp, wa, wb = self._w
        prev = self.level
        pred = prev + self.trend * (1.0 - damp) / self.k
        self.level = pred + wa * (y - pred)
        slope = (self.level - prev) / dt
        self.trend = damp * self.trend + wb * (slope - damp * self.trend)
        self.t = t

    def forecast(self, tau: float) -> float:
        if self.level is None:
            return 0.0
        return self.level + self.trend * (1.0 - math.exp(-self.k * tau)) / self.k

    def integral(self, h: float) -> float:
        """Integral of the forecast over [0, h]."""
        if self.level is None:
            return 0.0
        k = self.k
        return self.level * h + self.trend / k * (h - (1.0 - math.exp(-k * h)) / k)


class RateModel:
    """Rate of a monotonic counter: damped Holt on the deseasonalised rate plus a daily profile and, with
    `weekly`, an hour-of-week correction of it.

    The daily profile follows the last days closely (a bucket keeps about a fifth of its previous day), so on
    the day after a weekend it still holds the weekend's shape. The weekly profile (168 hourly buckets) learns
    what the daily profile got wrong at each hour of the week — the daily profile's error, not the rate — so
    their sum forecasts a Monday morning from the last Monday: the daily profile's yesterday plus how Monday
    differed from its yesterday. It learns once the daily profile is in use and is used after a week of that
    (eight days of history): until then the level follows a weekend's step within hours, through the 3-hour
    baseline."""

    __slots__ = ("baseline", "holt", "last_count", "last_rate", "last_t", "season", "seasonal", "smoothed",
                 "week")

    def __init__(self, alpha: float = 0.2, beta: float = 0.03, phi: float = 0.98, seasonal: bool = True,
                 weekly: bool = False):
        self.holt = DampedHolt(alpha, beta, phi)
        self.season = SeasonalProfile() if seasonal else None
        self.week = SeasonalProfile(buckets=WEEK_BUCKETS, period=WEEK, gamma=WEEK_GAMMA) if seasonal and weekly \
            else None
        self.seasonal = seasonal
        self.baseline: float | None = None   # slow EMA of the deseasonalised rate (time constant ~3 h)
        self.last_count: float | None = None
        self.last_t: float | None = None
        self.last_rate: float | None = None
        self.smoothed = 0.0

    def update(self, t: float, count: float) -> float | None:
        """Feed the counter's value at `t`; returns the observed rate since the previous value (or None)."""
        if self.last_t is None or self.last_count is None:
            self.last_t, self.last_count = t, count
            return None
        dt = t - self.last_t
        if dt <= 0:
            return None
        delta = count - self.last_count
        self.last_t, self.last_count = t, count
        if delta < 0:          # counter reset (offsets deleted / topic recreated): restart the rate
            return None
        rate = delta / dt
        self.last_rate = rate
        mid = t - dt / 2.0
        season = self.season
        s = self.seasonal_at(mid, t)
        self.holt.update(t, rate - s)
        assert self.holt.level is not None   # update() has set it
        self.smoothed = self.holt.level + (self.seasonal_at(t, t) if s else 0.0)
        if season is not None:
            daily = season.value(mid) if season.profile is not None else 0.0
            de = rate - daily
            if self.baseline is None:
                self.baseline = de
            else:
                self.baseline += (1.0 - math.exp(-dt / 10800.0)) * (de - self.baseline)
            week = self.week
            if week is not None and season.ready(t):
                # the daily profile's error at this hour of the week, before it learns from this sample
                week.update(mid, rate - self.baseline - daily, dt)
            season.update(mid, rate - self.baseline, dt)
        return rate

    def seasonal_at(self, t: float, now: float) -> float:
        """The seasonal part of the rate at `t` as known at `now`: the daily profile (after a day of history)
        plus the weekly correction (after a week of the daily profile)."""
        season = self.season
        if season is None or not season.ready(now):
            return 0.0
        week = self.week
        return season.value(t) + (week.value(t) if week is not None and week.ready(now) else 0.0)

    def forecast(self, now: float, tau: float) -> float:
        """Forecast rate at now + tau (never negative)."""
        return max(0.0, self.holt.forecast(tau) + self.seasonal_at(now + tau, now))

    @property
    def level(self) -> float:
        """Current smoothed rate, seasonal profiles included (messages per second)."""
        return self.smoothed


class EWRegression:
    """Exponentially weighted least-squares line of y on t (time constant `tau` seconds), O(1) per point.

    Weighted Welford updates on centred moments, so large timestamps and large lags lose no precision."""

    __slots__ = ("ctt", "cty", "cyy", "mt", "my", "t", "tau", "w")

    def __init__(self, tau: float):
        self.tau = tau
        self.t: float | None = None
        self.w = 0.0
        self.mt = self.my = 0.0
        self.ctt = self.cty = self.cyy = 0.0

    def update(self, t: float, y: float) -> None:
        if self.t is None:
            self.t, self.w, self.mt, self.my = t, 1.0, t, y
            return
        dt = t - self.t
        if dt <= 0:
            return
        lam = math.exp(-dt / self.tau)
        self.t = t
        self.w = lam * self.w + 1.0
        dx, dy = t - self.mt, y - self.my
        self.mt += dx / self.w
        self.my += dy / self.w
        self.ctt = lam * self.ctt + dx * (t - self.mt)
        self.cty = lam * self.cty + dx * (y - self.my)
        self.cyy = lam * self.cyy + dy * (y - self.my)

    @property
    def slope(self) -> float:
        return self.cty / self.ctt if self.ctt > 0 else 0.0

    def resid_var(self) -> float:
        if self.ctt <= 0:
            return 0.0
        return max(0.0, self.cyy - self.cty * self.cty / self.ctt) / max(self.w - 2.0, 1.0)

    def slope_se(self) -> float:
        return math.sqrt(self.resid_var() / self.ctt) if self.ctt > 0 else math.inf

    def significant(self, z: float) -> int:
        """+1 / -1 when the slope is `z` standard errors away from zero (enough points), else 0."""
        if self.w < 5.0:
            return 0
        b = self.slope
        if abs(b) <= z * self.slope_se():
            return 0
        return 1 if b > 0 else -1


class RegimeMean:
    """Exponentially weighted mean (time constant `tau` seconds) that can start over: the lag's level since the
    current regime began. The trend regressions keep their own means, which must not forget a growth's history."""

    __slots__ = ("mean", "tau", "weight")

    def __init__(self, tau: float):
        self.tau = tau
        self.mean = 0.0
        self.weight = 0.0

    def restart(self) -> None:
        """The next value is the whole mean."""
        self.weight = 0.0

    def update(self, elapsed: float, y: float) -> None:
        self.weight = math.exp(-elapsed / self.tau) * self.weight + 1.0
        self.mean += (y - self.mean) / self.weight


class _Calibration:
    """Past forecasts of one horizon waiting for their outcome, and what the outcomes teach, online:

    * `q`, the multiplier of the interval, so that |error| <= q * scale holds `COVERAGE` of the time;
    * `beta()`, the share of the lag's deviation from its mean level still there h seconds later: the regression
      of (outcome - level) on (lag - level) over the forecasts made without a trend — measured at the horizon
      itself, not extrapolated from the lag-1 autocorrelation (a sawtooth or a wandering lag is no AR(1) process);
    * `growth_weight()`, the share of the growth model's projected change (beyond the level forecast) that came:
      the regression of (outcome - level forecast) on (growth forecast - level forecast) over the forecasts made
      while a growth was called (in units of each forecast's scale, so that a record kept on a small backlog
      applies to a large one): the group's own record of whether its growths last.

    A ring of (due, forecast, scale, level, deviation, growth forecast, level forecast) per kept forecast; the
    deviation is NaN when a trend was called, the growth forecast NaN when no growth was."""

    __slots__ = ("beta_n", "count", "data", "growth_n", "gxx", "gxy", "head", "q", "size", "sxx", "sxy")

    STRIDE = 7
    BETA_WEIGHT = 1.0 / 360.0    # the deviation's persistence: EW over ~6 h of kept forecasts
    MIN_OUTCOMES = 30            # ... used after 30 of them
    GROWTH_WEIGHT = 0.1          # the growth record: EW over ~10 kept forecasts made during growths
    MIN_GROWTH_OUTCOMES = 10     # ... used after 10 of them

    def __init__(self, size: int):
        self.size = size
        self.data = array("d", bytes(8 * self.STRIDE * size))
        self.head = 0
        self.count = 0
        self.q = Z_INTERVAL
        self.sxx = self.sxy = 0.0
        self.beta_n = 0
        self.gxx = self.gxy = 0.0
        self.growth_n = 0

    def push(self, due: float, pred: float, scale: float, level: float, dev: float, trend_pred: float,
             level_pred: float) -> None:
        if self.count == self.size:          # full (irregular cycles): drop the oldest
            self.head = (self.head + 1) % self.size
            self.count -= 1
        i = self.STRIDE * ((self.head + self.count) % self.size)
        self.data[i:i + self.STRIDE] = array("d", (due, pred, scale, level, dev, trend_pred, level_pred))
        self.count += 1

    def settle(self, t: float, lag: float, slack: float) -> None:
        d = self.data
        while self.count:
            i = self.STRIDE * self.head
            if d[i] > t + slack:
                break
            if d[i] >= t - slack:            # an outcome close to the forecast's due time
                outside = abs(lag - d[i + 1]) > self.q * d[i + 2]
                # Robbins-Monro on log q: stationary where P(outside) = 1 - COVERAGE
                self.q *= math.exp(CAL_RATE * ((1.0 if outside else 0.0) - (1.0 - COVERAGE)))
                self.q = min(max(self.q, 0.2), 50.0)
                trend_pred = d[i + 5]
                if trend_pred == trend_pred:     # not NaN: a growth was called
                    # the change the growth model projected beyond the level forecast, and the change that came
                    w, scale = self.GROWTH_WEIGHT, max(d[i + 2], 1.0)
                    gx, gy = (trend_pred - d[i + 6]) / scale, (lag - d[i + 6]) / scale
                    self.gxx += w * (gx * gx - self.gxx)
                    self.gxy += w * (gx * gy - self.gxy)
                    self.growth_n += 1
                elif d[i + 4] == d[i + 4]:       # no trend was called
                    x, y, w = d[i + 4], lag - d[i + 3], self.BETA_WEIGHT
                    self.sxx += w * (x * x - self.sxx)
                    self.sxy += w * (x * y - self.sxy)
                    self.beta_n += 1
            self.head = (self.head + 1) % self.size
            self.count -= 1

    def beta(self) -> float | None:
        """The deviation's share left at the horizon, in [0, 1], once enough outcomes are in."""
        if self.beta_n < self.MIN_OUTCOMES or self.sxx <= 0:
            return None
        return min(max(self.sxy / self.sxx, 0.0), 1.0)

    def growth_weight(self) -> float:
        """Weight of the growth model against the level forecast while a growth is called, in [0, 1]: 1 until the
        group has a record, then the share of the projected change that came (0 for a group whose stalls end
        within minutes; 1 for one whose growths outlast their projection). Not a mix by inverse errors: both
        models err the same way on a long growth (the level lags it), and such a mix pulls towards the worse."""
        if self.growth_n < self.MIN_GROWTH_OUTCOMES:
            return 1.0
        return min(max(self.gxy / self.gxx, 0.0), 1.0) if self.gxx > 0 else 1.0


class LagForecaster:
    """Per group/topic forecaster of lag, time to breach, catch-up time and retention data-loss ETA.

    It decides first *whether to extrapolate*. The lag's trend is fitted by two exponentially weighted
    regressions (10 and 30 minutes); a trend counts only when both are significant in the same direction
    (slope > 3 standard errors) and it would move the lag by more than three times the lag's own noise within
    30 minutes (the noise is the spread of its step-to-step changes, so a sawtooth of batched commits is noise,
    not a trend), and a backlog counts when the lag is well above the usual in-flight lag — for a sawtooth (a group
    that commits every few minutes), only its low since the last commit's drop while the climb is no longer and no
    higher than its usual ones. Then:

    * **no trend** — the level forecast: the recent mean lag plus the share of the current deviation from it that
      is still there at the horizon — measured on the group's own outcomes (the regression of the outcome's
      deviation on the forecast's), before 30 of them the lag-1 autocorrelation's decay over the horizon;
    * **growing** — the consumers run at their capacity, so the lag grows at the produce rate minus that capacity:
      the recent growth rate, for as long again as the growth has lasted, plus (on a backlog) the change of the
      produce rate's seasonal profile over the horizon; once the group has a record of its growths, the level
      forecast plus the share of the projected change that its past growths delivered (a group whose stalls last
      minutes learns it);
    * **falling** — a drain at capacity: the lag falls at (capacity - produce rate), where the capacity is the
      group's current consume rate (the highest it sustains) or the fitted fall, whichever is faster; the
      forecast follows the drain down to the group's usual in-flight lag and stays there. On a backlog the drain
      is called as soon as the consumers outrun the producers and the lag has fallen once: the regressions still
      slope up for minutes after a stall ends.

    The level is the lag's mean since the last growth or drain ended (10 and 30 minutes, exponentially
    weighted): after a drain the mean over the last half hour is mostly the backlog that is gone.

    The interval is the forecast +- q * scale, where the scale grows with the horizon (noise plus the slope's
    uncertainty) and q is learnt online from the forecast's own past errors at that horizon, for 90 %
    coverage (5 %-95 %)."""

    __slots__ = ("_cal", "_last_push", "ac_cov", "ac_var", "climbs", "consume", "d_mean", "d_var", "inflight",
                 "last_dev", "last_drop", "last_lag", "last_step", "last_t", "level_long", "level_short", "long",
                 "ls_holt", "ls_reg", "mode", "mode_since", "peak", "produce", "rise", "short", "since", "step",
                 "trough")

    TREND_Z = 3.0
    REGIME_SECONDS = 300.0
    MATERIAL = 3.0
    WARMUP = 3600.0      # no growth is published before an hour of history (the usual lag is not known yet)
    # A sawtooth (a group that commits every few minutes, or reads in batches) climbs between two commits and
    # drops at each; what the next commit clears is no backlog.
    SAWTOOTH_DROP = 0.5          # a commit's drop: the lag falls to at most this share of its peak since the last
    SAWTOOTH_MIN_FALL = 15.0     # drop, by more than this many seconds of production (half the backlog floor's)
    SAWTOOTH_CLIMBS = 4          # a sawtooth dropped at least this many times ...
    SAWTOOTH_MAX_CLIMB = 1800.0  # ... each after a climb no longer than this
    SAWTOOTH_HOLD = 1.5          # a climb longer or higher than this many times the longest or highest of the
                                 # last ones is a backlog
    SAWTOOTH_REST = 0.25         # a sawtooth climbs again at once after a drop: a lag that rested near its low for
    SAWTOOTH_REST_MARGIN = 0.1   # longer than this share of its first climb (within this share of the climb's
                                 # peak above it) rises anew, as an episode does

    def __init__(self, alpha: float = 0.1, beta: float = 0.02, phi: float = 0.98, seasonal: bool = True):
        self.produce = RateModel(alpha, beta, phi, seasonal, weekly=seasonal)
        self.consume = RateModel(alpha, beta, phi, seasonal)
        self.ls_holt = DampedHolt(0.5, 0.15, 0.995)    # lag seconds and its growth per second
        self.ls_reg = EWRegression(600.0)              # lag seconds trend (time to a lag-seconds breach)
        self.short = EWRegression(600.0)
        self.long = EWRegression(1800.0)
        self.d_mean = 0.0                              # EW mean and variance of the lag's step changes
        self.d_var = 0.0
        self.ac_cov = 0.0                              # EW lag-1 autocovariance of the deviation from the mean
        self.ac_var = 0.0
        self.last_dev: float | None = None
        self.inflight: float | None = None             # usual lag while there is no trend
        self.last_lag: float | None = None
        self.last_step = 0.0                           # the lag's last change
        self.level_short = RegimeMean(600.0)           # the lag's mean since the regime began (10 / 30 min)
        self.level_long = RegimeMean(1800.0)
        self.last_t: float | None = None
        self.step = REF_STEP                           # typical sampling interval (EMA)
        self.mode = 0                                  # +1 growing, -1 draining, 0 no trend
        self.mode_since = 0.0                          # when the current mode began
        self.since: float | None = None                # first sample
        self._cal: dict[int, _Calibration] | None = None
        self._last_push = -math.inf
        self.climbs: list[tuple[float, float]] = []    # the lag's last climbs between two drops (s, peak)
        self.last_drop: float | None = None            # ... when it last dropped, its peak and low since
        self.peak = 0.0
        self.trough = 0.0
        self.rise: float | None = None                 # when the lag left its low after the last drop

    def update(self, t: float, lag: float, log_end: float, committed: float, lag_seconds: float | None) -> None:
        if self.since is None:
            self.since = t
        elapsed = 0.0
        if self.last_t is not None and self.last_lag is not None:
            if t <= self.last_t:
                return
            dt = elapsed = t - self.last_t
            self.step += 0.1 * (dt - self.step)
            w = 1.0 - math.exp(-dt / 3600.0)
            d = lag - self.last_lag
            self.last_step = d
            self.d_mean += w * (d - self.d_mean)
            self.d_var += w * ((d - self.d_mean) ** 2 - self.d_var)
        if self._cal:
            slack = max(self.step, 1.0) / 2.0
            for cal in self._cal.values():
                cal.settle(t, lag, slack)
        self.produce.update(t, log_end)
        self.consume.update(t, committed)
        if lag_seconds is not None:
            self.ls_holt.update(t, lag_seconds)
            self.ls_reg.update(t, lag_seconds)
        self.short.update(t, lag)
        self.long.update(t, lag)
        dev = lag - self.short.my
        if self.last_dev is not None:
            w = 1.0 - math.exp(-self.step / 3600.0)
            self.ac_cov += w * (dev * self.last_dev - self.ac_cov)
            self.ac_var += w * (dev * dev - self.ac_var)
        self.last_dev = dev
        previous_t, self.last_lag, self.last_t = self.last_t, lag, t
        mode = self._trend()
        if mode != self.mode:
            if mode == 0 and t - self.mode_since >= self.REGIME_SECONDS:
                # a growth or a drain has ended: the lag's level starts over (not after a single step: a commit
                # of a sawtooth drops the lag in one)
                self.level_short.restart()
                self.level_long.restart()
            self.mode, self.mode_since = mode, t
        self.level_short.update(elapsed, lag)
        self.level_long.update(elapsed, lag)
        # the usual in-flight lag: learnt while there is no trend, and quick to follow the lag down (a level
        # first seen during a backlog must not hold a drain's forecast up)
        if self.inflight is None:
            if self.mode == 0 and self.short.w >= 5.0:
                self.inflight = lag
        elif lag < self.inflight:
            self.inflight += 0.5 * (lag - self.inflight)
        elif self.mode == 0 and lag - self.inflight <= self._backlog_floor():
            self.inflight += (1.0 - math.exp(-self.step / 1800.0)) * (lag - self.inflight)
        self._track_climbs(t, lag, previous_t)

    def _track_climbs(self, t: float, lag: float, previous_t: float | None) -> None:
        """The climbs of a sawtooth: how long and how high the lag rose between two commits' drops, and its low
        since the last."""
        if self.last_drop is None:
            self.last_drop, self.peak, self.trough, self.rise = t, lag, lag, None
        elif previous_t == self.last_drop and lag < self.trough:
            # still falling from the last drop: one drop, however many samples a drain takes
            self.last_drop, self.peak, self.trough = t, lag, lag
        elif lag <= self.SAWTOOTH_DROP * self.peak and self.peak - lag > self.SAWTOOTH_MIN_FALL * self.produce.level:
            self.climbs.append((t - self.last_drop, self.peak))
            del self.climbs[:-self.SAWTOOTH_CLIMBS]
            self.last_drop, self.peak, self.trough, self.rise = t, lag, lag, None
        else:
            self.peak = max(self.peak, lag)
            self.trough = min(self.trough, lag)
            last_peak = self.climbs[-1][1] if self.climbs else 0.0
            if self.rise is None and lag > self.trough + self.SAWTOOTH_REST_MARGIN * last_peak:
                self.rise = t

    def _climbs_again(self) -> bool:
        """The lag has dropped like a sawtooth's twice, or once and climbs again straight from the drop: after a
        single drop, a lag that rested at its low first rises anew (a freeze after a calm spell is an episode, not
        the next climb)."""
        if len(self.climbs) >= 2:
            return True
        if not self.climbs or self.rise is None or self.last_drop is None:
            return False
        return self.rise - self.last_drop <= max(2.0 * self.step, self.SAWTOOTH_REST * self.climbs[0][0])

    def _in_climb(self) -> bool:
        """The lag is within one of the group's usual sawtooth climbs: no longer and no higher than they go."""
        if len(self.climbs) < self.SAWTOOTH_CLIMBS or self.last_drop is None or self.last_t is None:
            return False
        longest = max(d for d, _ in self.climbs)
        highest = max(h for _, h in self.climbs)
        return (longest <= self.SAWTOOTH_MAX_CLIMB and self.last_t - self.last_drop <= self.SAWTOOTH_HOLD * longest
                and (self.last_lag or 0.0) <= self.SAWTOOTH_HOLD * highest)

    def noise(self) -> float:
        """Spread of the lag around its level (from its step changes: a trend does not inflate it)."""
        return math.sqrt(max(self.d_var, 0.0) / 2.0)

    def _trend(self) -> int:
        noise = self.noise()
        gap = self._rate_gap()
        slope = self.short.slope
        excess = self._excess()
        # a backlog well above the usual in-flight lag that the rates keep growing (or draining): the consumers
        # run at capacity — a regime change is seen in the rates a few samples before the lag's trend is
        # significant
        if (excess > self._backlog_floor()
                and abs(gap) * 1800.0 > self.MATERIAL * noise):
            if gap > 0 and slope > 0:
                return 1
            if gap < 0 and (slope < 0 or self.last_step < 0):
                return -1
        s = self.short.significant(self.TREND_Z)
        if s == 0:
            return 0
        if s > 0:
            if self.long.significant(self.TREND_Z) <= 0:
                return 0
        elif self.long.slope >= 0 and gap >= 0:
            return 0
        if abs(slope) * 1800.0 <= self.MATERIAL * noise:
            return 0
        return s

    def _excess(self) -> float:
        """The lag above the group's usual in-flight lag; within a sawtooth's usual climb, its low since the last
        commit's drop (the part the next commit will not clear either)."""
        lag = self.trough if self._in_climb() else (self.last_lag or 0.0)
        return lag - (self.inflight or 0.0)

    def _backlog_floor(self) -> float:
        """A lag this far above the in-flight level is a backlog, not in-flight messages or noise."""
        return max(self.MATERIAL * self.noise(), BACKLOG_SECONDS * max(self.produce.level, 0.0))

    def _rate_gap(self) -> float:
        """Produce minus consume rate now (messages/s): the lag's growth if the consumers run at capacity."""
        return self.produce.level - self.consume.level

    def growth_rate(self) -> float:
        """Lag growth in messages/s when the lag has a significant upward trend, else 0 (time to breach =
        (threshold - lag) / growth). 0 while the group's usual lag is not known yet, for at most WARMUP seconds:
        a backlog the exporter starts on looks like growth until then (a restart must not page); a group first
        seen at its usual level has it after a few samples, and its growth counts from then on — unless its lag has
        dropped like a sawtooth's in that hour and climbs again at once: its usual climbs are not known yet either."""
        if self.mode <= 0 or self.last_t is None or self.since is None:
            return 0.0
        if (self.inflight is None or self._climbs_again()) and self.last_t - self.since < self.WARMUP:
            return 0.0
        return self._growth()

    def _growth(self) -> float:
        # the regression lags a regime change, the rate gap lags nothing but is noisier: the faster of the two
        return max(0.0, self.short.slope, self._rate_gap())

    def lag_seconds_growth_rate(self) -> float:
        """Growth of the oldest unconsumed message's age in s/s when significant, else 0.

        Two readings, the faster counts: the age's own trend, and the lag's growth in seconds of production (a
        backlog growing at g messages/s ages its oldest message by g / produce rate seconds per second). The age
        is flat while the group keeps up and its own trend turns significant only once it climbs, minutes
        before a breach; the lag's ramp shows earlier."""
        produce = self.produce.level
        from_lag = self.growth_rate() / produce if produce > 0 else 0.0
        reg = self.ls_reg
        own = reg.slope
        if reg.significant(self.TREND_Z) <= 0 or own * 1800.0 <= self.MATERIAL * math.sqrt(reg.resid_var()):
            own = 0.0
        return min(max(own, from_lag), 1.0)

    def _seasonal_shift(self, now: float, h: float) -> float:
        """Integral over [0, h] of the produce profile's change from now (the consumers at capacity absorb
        none of it)."""
        produce = self.produce
        if produce.season is None or not produce.season.ready(now):
            return 0.0
        base = produce.seasonal_at(now, now)
        m = h / 2.0
        return h / 6.0 * (base + 4.0 * produce.seasonal_at(now + m, now) + produce.seasonal_at(now + h, now)) \
            - base * h

    def _trend_point(self, now: float, lag: float, h: float) -> float:
        """The trend model: growth at the produce rate minus the consumers' capacity, or the drain."""
        if self.mode > 0:
            # the produce profile's change adds to the lag only when the consumers run at capacity: a backlog
            shift = self._seasonal_shift(now, h) if self._excess() > self._backlog_floor() else 0.0
            return max(0.0, lag + self._growth() * self._damped(now, h) + shift)
        fall = min(self.short.slope, self._rate_gap())
        floor = min(self.inflight if self.inflight is not None else 0.0, lag)
        return max(floor, lag + fall * h + self._seasonal_shift(now, h))

    def _level(self) -> float:
        level = self.level_short.mean
        if abs(level - self.level_long.mean) <= self.noise():
            # the 10- and 30-minute means agree: the longer one averages more noise away
            level = self.level_long.mean
        return level

    def _level_point(self, lag: float, level: float, h: float, cal: _Calibration) -> float:
        """The level forecast: the mean level plus the share of the current deviation still there after h — as
        measured at h on this group's own outcomes, else the lag-1 autocorrelation's decay over h."""
        beta = cal.beta()
        if beta is None:
            rho = self.ac_cov / self.ac_var if self.ac_var > 0 else 0.0
            rho = min(max(rho, 0.0), 0.999)
            beta = rho ** (h / max(self.step, 1.0))
        return max(0.0, level + beta * (lag - level))

    def _damped(self, now: float, h: float) -> float:
        """Seconds of growth a forecast h seconds ahead counts. A growth that has lasted `a` seconds is expected
        to last about as long again (the chance it still runs after a + x seconds is a / (a + x)), so it counts
        a ln(1 + h / a): a stall seen for a minute is not projected for 30, a ramp that has run for an hour counts
        24 of 30 minutes, one that has run for three hours 28 (the group's record of its growths corrects the
        rest: `_Calibration.growth_weight`)."""
        age = max(now - self.mode_since, 0.0) + max(self.step, 1.0)
        return age * math.log1p(h / age)

    def _scale(self, h: float) -> float:
        spread = max(self.noise(), math.sqrt(max(self.ac_var, 0.0)), 1.0)
        if self.mode != 0:
            spread += (self.short.slope_se() + 0.1 * abs(self.short.slope)) * h
        return spread

    def predict_interval(self, horizons: tuple[int, ...] | list[int]
                         ) -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
        """Point forecast, lower and upper bound (90 % interval) of the lag at each horizon (seconds)."""
        pred: dict[int, float] = {}
        lower: dict[int, float] = {}
        upper: dict[int, float] = {}
        if self.last_t is None or self.last_lag is None:
            return pred, lower, upper
        now, lag = self.last_t, self.last_lag
        if self._cal is None:
            self._cal = {}
        push = now - self._last_push >= CAL_SPACING
        if push:
            self._last_push = now
        level = self._level()
        for h in sorted(horizons):
            cal = self._cal.get(h)
            if cal is None:
                cal = self._cal[h] = _Calibration(int(h // CAL_SPACING) + 3)
            level_p = self._level_point(lag, level, h, cal)
            growth_p = math.nan
            dev = lag - level if self.mode == 0 else math.nan    # beta is learnt without a trend only
            if self.mode > 0:
                # the growth model, unless this group's growths have been outlasted by its level before
                growth_p = self._trend_point(now, lag, h)
                w = cal.growth_weight()
                p = w * growth_p + (1.0 - w) * level_p
            elif self.mode < 0:
                p = self._trend_point(now, lag, h)
            else:
                p = level_p
            scale = self._scale(h)
            if push:
                cal.push(now + h, p, scale, level, dev, growth_p, level_p)
            pred[h] = p
            lower[h] = max(0.0, p - cal.q * scale)
            upper[h] = p + cal.q * scale
        return pred, lower, upper

    def predict(self, horizons: tuple[int, ...] | list[int]) -> tuple[dict[int, float], dict[int, float]]:
        """Predicted lag and upper bound at each horizon (seconds)."""
        pred, _, upper = self.predict_interval(horizons)
        return pred, upper

    def catch_up_seconds(self, max_seconds: float = 7 * DAY) -> float | None:
        """Seconds until lag reaches zero at the current net drain rate; None when not catching up."""
        if self.last_lag is None or self.last_t is None:
            return None
        if self.last_lag <= 0:
            return 0.0
        drain = self.consume.forecast(self.last_t, 0.0) - self.produce.forecast(self.last_t, 0.0)
        if drain <= 0:
            return None
        eta = self.last_lag / drain
        return eta if eta <= max_seconds else None

    def lag_seconds_now(self) -> float | None:
        if self.ls_holt.level is not None:
            return max(0.0, self.ls_holt.level)
        if self.last_lag is not None and self.produce.level > 0:
            return self.last_lag / self.produce.level
        return None

    def retention_breach_seconds(self, retention_seconds: float | None,
                                 current_lag_seconds: float | None = None,
                                 max_seconds: float = 30 * DAY) -> float | None:
        """Seconds until retention deletes the oldest unconsumed message: (retention - age) / age growth.

        None when the topic has no time-based retention or the oldest unconsumed message is not ageing."""
        if retention_seconds is None or retention_seconds <= 0:
            return None
        age = current_lag_seconds if current_lag_seconds is not None else self.lag_seconds_now()
        if age is None:
            return None
        remaining = retention_seconds - age
        if remaining <= 0:
            return 0.0
        growth = self.ls_holt.trend
        if growth <= 1e-3:
            return None
        eta = remaining / min(growth, 1.0)
        return eta if eta <= max_seconds else None
