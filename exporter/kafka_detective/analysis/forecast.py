"""Lag forecasting from modelled produce and consume rates (pure Python, O(1) per update).

The produce rate (from the topic's log-end-offset counter) and the consume throughput (from the group's
committed-offset counter) are each modelled by damped-trend exponential smoothing (Holt with damping, in
continuous time so irregular collection intervals are handled) on top of an additive daily profile learned
online per time-of-day bucket (used once a day of history exists: the "3 AM mystery" recurs at 03:00).

Lag at a horizon is projected by integrating the difference of the two forecast rates from the current lag,
never by fitting a line to lag, with the lag floored at zero (a group cannot consume what was not produced).
The upper bound of the prediction interval comes from the tracked one-step lag residual variance, grown with
the horizon as for an integrated smoothing model. The module also gives the time to catch up and the time
until retention deletes the oldest unconsumed message (data-loss ETA).

No look-ahead: every quantity at time t depends only on samples up to t; no min/max of a series is known in
advance.
"""

from __future__ import annotations

import math
from array import array

DAY = 86400.0
Z_UPPER = 1.645          # one-sided 95 % bound
REF_STEP = 30.0          # smoothing constants are given per 30 s of elapsed time
SAT_SECONDS = 20.0       # a backlog above this many seconds of production that keeps growing = saturated


def _per_dt(rate: float, dt: float) -> float:
    """Smoothing weight for an elapsed `dt` given a weight `rate` per REF_STEP seconds."""
    if dt <= 0:
        return 0.0
    return 1.0 - (1.0 - rate) ** (dt / REF_STEP)


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
        self.profile: array | None = None    # array('d'): 8 bytes per bucket, allocated on first update
        self.seen: bytearray | None = None
        self.first: float | None = None

    def ready(self, t: float) -> bool:
        return self.first is not None and t - self.first >= self.period

    def update(self, t: float, deviation: float, dt: float) -> None:
        if self.first is None:
            self.first = t
        if self.profile is None:
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
    """Rate of a monotonic counter: damped Holt on the deseasonalised rate plus a daily profile."""

    __slots__ = ("baseline", "holt", "last_count", "last_rate", "last_t", "season", "seasonal", "smoothed")

    def __init__(self, alpha: float = 0.2, beta: float = 0.03, phi: float = 0.98, seasonal: bool = True):
        self.holt = DampedHolt(alpha, beta, phi)
        self.season = SeasonalProfile() if seasonal else None
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
        s = season.value(mid) if season is not None and season.ready(t) else 0.0
        self.holt.update(t, rate - s)
        self.smoothed = self.holt.level + (season.value(t) if s else 0.0)
        if season is not None:
            de = rate - (season.value(mid) if season.profile is not None else 0.0)
            if self.baseline is None:
                self.baseline = de
            else:
                self.baseline += (1.0 - math.exp(-dt / 10800.0)) * (de - self.baseline)
            season.update(mid, rate - self.baseline, dt)
        return rate

    def seasonal_at(self, t: float, now: float) -> float:
        season = self.season
        if season is None or not season.ready(now):
            return 0.0
        return season.value(t)

    def forecast(self, now: float, tau: float) -> float:
        """Forecast rate at now + tau (never negative)."""
        return max(0.0, self.holt.forecast(tau) + self.seasonal_at(now + tau, now))

    def integral(self, now: float, a: float, b: float, no_rise: bool = False) -> float:
        """Forecast count increase over [now + a, now + b] (Simpson on the seasonal part).

        `no_rise`: ignore an upward trend (a saturated consumer cannot speed up on its own)."""
        holt = self.holt
        if no_rise and holt.trend > 0 and holt.level is not None:
            v = holt.level * (b - a)
        else:
            v = holt.integral(b) - holt.integral(a)
        if self.season is not None and self.season.ready(now):
            m = (a + b) / 2.0
            v += (b - a) / 6.0 * (self.season.value(now + a) + 4.0 * self.season.value(now + m)
                                  + self.season.value(now + b))
        return max(0.0, v)

    @property
    def level(self) -> float:
        """Current smoothed rate, daily profile included (messages per second)."""
        return self.smoothed


class LagForecaster:
    """Per group/topic forecaster of lag, catch-up time and retention data-loss ETA.

    The lag evolves as `lag' = produced - consumed`, where a group consumes at most its capacity and never more
    than what is available. The projection integrates the forecast produce rate against the consumption the
    group can sustain:

    * saturated (a backlog above the in-flight lag): the consumers run at capacity, so the consume forecast is the
      damped-trend model of the consume rate, without any upward trend (a saturated consumer does not speed
      up on its own);
    * keeping up: the capacity is unknown but at least the largest consume rate seen over the last day
      (hourly maxima of the smoothed consume rate), plus 10 % headroom; consumption follows production up to it.

    Only the backlog above the group's usual in-flight lag (EMA of the lag while keeping up) is projected; the
    in-flight part is added back, so a healthy group's forecast is its usual lag, not a noisy extrapolation."""

    __slots__ = ("cap_cache", "cap_hour", "cap_ring", "consume", "inflight", "lag_growth", "last_lag", "last_t",
                 "ls_holt", "n_resid", "produce", "resid_var", "saturated", "step")

    HEADROOM = 1.1

    def __init__(self, alpha: float = 0.1, beta: float = 0.02, phi: float = 0.98, seasonal: bool = True):
        self.produce = RateModel(alpha, beta, phi, seasonal)
        self.consume = RateModel(alpha, beta, phi, seasonal)
        self.ls_holt = DampedHolt(0.5, 0.15, 0.995)    # lag seconds and its growth per second
        self.resid_var = 0.0                           # EW variance of the one-step lag error
        self.n_resid = 0
        self.last_lag: float | None = None
        self.last_t: float | None = None
        self.step = REF_STEP                           # typical sampling interval (EMA)
        self.lag_growth = 0.0                          # EMA of d(lag)/dt, messages per second
        self.saturated = False                         # lag building up: consumers run at capacity
        self.inflight: float | None = None             # usual lag while keeping up
        self.cap_ring = array("d", bytes(8 * 26))      # hourly maxima of the consume level, last 26 h
        self.cap_hour = -1
        self.cap_cache: float | None = None

    def update(self, t: float, lag: float, log_end: float, committed: float, lag_seconds: float | None) -> None:
        if self.last_t is not None and self.last_lag is not None and t > self.last_t:
            dt = t - self.last_t
            # one-step lag prediction made at the previous time, before seeing this sample
            expected = self._project(self.last_t, self.last_lag, 0.0, dt)
            err = lag - expected
            self.n_resid += 1
            w = max(0.02, 1.0 / self.n_resid)
            self.resid_var += w * (err * err - self.resid_var)
            self.step += 0.1 * (dt - self.step)
            self.lag_growth += _per_dt(0.3, dt) * ((lag - self.last_lag) / dt - self.lag_growth)
        self.produce.update(t, log_end)
        self.consume.update(t, committed)
        self.cap_cache = None
        if lag_seconds is not None:
            self.ls_holt.update(t, lag_seconds)
        self.last_lag, self.last_t = lag, t
        produce_level = max(self.produce.level, 0.0)
        backlog = SAT_SECONDS * produce_level
        if self.inflight is None:
            self.inflight = min(lag, backlog)
        elif lag < backlog:
            self.inflight += 0.02 * (lag - self.inflight)
        # a backlog that is not drained away means the consumers already run at their capacity
        self.saturated = lag - self.inflight > backlog
        # demonstrated throughput: hourly maxima of the smoothed consume rate (a drain at capacity counts most)
        hour = int(t // 3600.0)
        slot = hour % 26
        if hour != self.cap_hour:
            self.cap_ring[slot] = 0.0
            self.cap_hour = hour
        if self.consume.level > self.cap_ring[slot]:
            self.cap_ring[slot] = self.consume.level

    def capacity(self) -> float:
        """Consumption rate the group can sustain when it is not saturated (messages per second)."""
        if self.cap_cache is None:
            self.cap_cache = max(max(self.cap_ring), self.consume.level, self.produce.level) * self.HEADROOM
        return self.cap_cache

    def _project(self, now: float, lag: float, a: float, b: float, capacity: float | None = None) -> float:
        """Backlog at now + b from the backlog at now + a."""
        produced = self.produce.integral(now, a, b)
        if self.saturated:
            consumable = self.consume.integral(now, a, b, True)
        else:
            consumable = (capacity if capacity is not None else self.capacity()) * (b - a)
        return max(0.0, lag + produced - consumable)

    def predict(self, horizons: tuple[int, ...] | list[int]) -> tuple[dict[int, float], dict[int, float]]:
        """Predicted lag and upper bound at each horizon (seconds)."""
        pred: dict[int, float] = {}
        upper: dict[int, float] = {}
        if self.last_t is None or self.last_lag is None or self.produce.holt.level is None:
            return pred, upper
        now = self.last_t
        inflight = self.inflight or 0.0
        excess = max(0.0, self.last_lag - inflight)
        capacity = None if self.saturated else self.capacity()
        pos = 0.0
        sigma1 = math.sqrt(self.resid_var)
        alpha = self.produce.holt.alpha
        step = max(self.step, 1.0)
        for h in sorted(horizons):
            # integrate from horizon to horizon (at most 900 s at a time) with the floor at zero in between
            while pos < h:
                nxt = min(h, pos + 900.0)
                excess = self._project(now, excess, pos, nxt, capacity)
                pos = nxt
            n = h / step
            var = n + alpha * n * (n - 1.0) + alpha * alpha * (n - 1.0) * n * (2.0 * n - 1.0) / 6.0
            value = excess + min(inflight, self.last_lag)
            pred[h] = value
            upper[h] = value + Z_UPPER * sigma1 * math.sqrt(max(var, 1.0))
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
