"""Streaming anomaly scores (pure Python, O(1) memory per signal, cheap per update).

One `SignalDetector` per signal (produce_rate, consume_rate, lag, lag_seconds, rebalances) of a group/topic:

1. **Seasonal residual** — an additive daily profile (48 half-hour buckets, learned online) is subtracted once a
   day of history exists, so a recurring 03:00 batch stops being a surprise.
2. **Robust statistics** — median and inter-quartile range (scale = IQR / 1.349, a MAD-equivalent robust sigma)
   of the deseasonalised values over a bounded window (`window` values, at most one every `spacing` seconds),
   kept as a sorted `array('f')` plus a ring buffer: 8 bytes per value, O(log w) search + memmove per update.
   The robust z-score is `(x - median) / max(scale, floors)`; `direction` keeps one side for signals whose
   drops are good news (lag).
3. **Change point** — a two-sided CUSUM (Page) on the robust z-scores (increments clipped at ±h/2, statistic
   capped at the alarm level so it recovers quickly) flags persistent shifts that each single point would not.
4. **Likelihood** — the raw score (max of |z| and the scaled CUSUM statistic) is turned into a calibrated 0–1
   score like Numenta's anomaly likelihood: the Gaussian tail probability of the recent average of raw scores
   (each capped at 8, so a single outlier cannot saturate it) against their long-run distribution (EW
   mean/variance, winsorised so anomalies do not poison it), reported on a log scale
   (`log(tail) / log(1e-10)`): noise stays well below 0.5, a tail of 1e-5 gives 0.5, 1e-10 gives 1.

`StreamDetector` (below) is the general-stream detector of `kafka-detective anomalies`: calibrated on each
stream, it reports the start of a change and restarts on the new regime, where `SignalDetector` keeps a score
held while a Kafka condition lasts (what the online engine's lag-problem gate and alert rules read).

No look-ahead: the score at t depends only on values up to t.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from typing import Any

from kafka_detective.analysis.forecast import SeasonalProfile

LOG_TAIL_FLOOR = math.log(1e-10)
RAW_CAP = 8.0


class RobustWindow:
    """Bounded window of floats with O(1) median and quartiles (sorted array + insertion-order ring).

    Values are kept as float32 (`array('f')`, 8 bytes per value for both arrays): plenty for robust statistics,
    half the memory of doubles. Ring and sorted array hold the same rounded values, so removals match exactly."""

    __slots__ = ("capacity", "head", "ring", "sorted")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.ring = array("f")
        self.sorted = array("f")
        self.head = 0

    def __len__(self) -> int:
        return len(self.sorted)

    def add(self, x: float) -> None:
        x = max(-3.0e38, min(3.0e38, x))      # inside float32's range
        if len(self.ring) < self.capacity:
            self.ring.append(x)
        else:
            old = self.ring[self.head]
            self.ring[self.head] = x
            self.head = (self.head + 1) % self.capacity
            del self.sorted[bisect_left(self.sorted, old)]
        self.sorted.insert(bisect_right(self.sorted, x), x)

    def clear(self) -> None:
        del self.ring[:]
        del self.sorted[:]
        self.head = 0

    def median(self) -> float:
        s = self.sorted
        n = len(s)
        return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])

    def scale(self) -> float:
        """Robust sigma: IQR / 1.349."""
        s = self.sorted
        n = len(s)
        return (s[(3 * n) // 4] - s[n // 4]) / 1.349


RATE_FLOOR_MIN = 1e-3      # msg/s: an idle topic's rate still has a scale


def counting_noise(rate: float, step: float) -> float:
    """Scale floor of a message rate: the counting noise of the messages of one step (Poisson,
    sqrt(rate x step) / step). A fixed floor in msg/s is no floor at all on a busy topic and, on one of a few
    msg/s, wider than its daily cycle: its ordinary scores stayed so small that any busy hour became a 1e-10
    tail (anomaly 1.0 on quiet days, where busier topics scored 0.1)."""
    return max(math.sqrt(max(rate, 0.0) * step) / step, RATE_FLOOR_MIN)


# Per-signal settings: direction, absolute floor of the scale, relative floor (x |median|), seasonal, CUSUM.
# An absolute floor of None is a message rate's: its counting noise over the step (`counting_noise`).
SIGNAL_SETTINGS: dict[str, tuple[str, float | None, float, bool, bool]] = {
    "produce_rate": ("both", None, 0.05, True, True),
    "consume_rate": ("both", None, 0.05, True, True),
    # lag: the engine raises the floor to 30 s of production each cycle; lag seconds: 30 s. A backlog smaller
    # than half a minute is operationally noise (a deploy's pause), however unusual statistically.
    "lag": ("up", 10.0, 0.10, True, True),
    "lag_seconds": ("up", 30.0, 0.10, True, True),
    # value: rebalances over the last ~10 min (decayed count); a deploy's one or two rebalances stay low,
    # a storm (five or more) scores high. No CUSUM: the decayed count is already an accumulation.
    "rebalances": ("up", 1.5, 0.0, False, False),
}


class SignalDetector:
    __slots__ = ("abs_floor", "cusum_h", "cusum_k", "direction", "last_insert", "last_t", "long_mean",
                 "long_n", "long_var", "neg", "pos", "pos_start", "rel_floor", "season", "short", "spacing",
                 "std_floor", "warmup", "window")

    def __init__(self, direction: str = "both", abs_floor: float | None = 1e-9, rel_floor: float = 0.0,
                 seasonal: bool = True, window: int = 120, spacing: float = 30.0, warmup: int = 20,
                 cusum_k: float = 0.5, cusum_h: float = 8.0, std_floor: float = 0.3):
        self.direction = direction
        self.abs_floor = abs_floor
        self.rel_floor = rel_floor
        self.season = SeasonalProfile(buckets=48, gamma=0.05) if seasonal else None
        self.window = RobustWindow(window)
        self.spacing = spacing
        self.warmup = warmup
        self.cusum_k = cusum_k
        self.cusum_h = cusum_h
        self.std_floor = std_floor
        self.pos = 0.0
        self.pos_start: float | None = None   # when the current upward CUSUM excursion started
        self.neg = 0.0
        self.short = 0.0
        self.long_mean = 0.0
        self.long_var = 0.0
        self.long_n = 0
        self.last_insert: float | None = None
        self.last_t: float | None = None

    @classmethod
    def for_signal(cls, signal: str, **overrides: Any) -> SignalDetector:
        direction, abs_floor, rel_floor, seasonal, cusum = SIGNAL_SETTINGS[signal]
        kwargs: dict[str, Any] = {"direction": direction, "abs_floor": abs_floor, "rel_floor": rel_floor,
                                  "seasonal": seasonal}
        if not cusum:
            kwargs["cusum_h"] = math.inf
            kwargs["std_floor"] = 0.5
        kwargs.update(overrides)
        return cls(**kwargs)

    def update(self, t: float, x: float) -> float:
        """Feed the value at t; returns the calibrated anomaly score in [0, 1]."""
        dt = t - self.last_t if self.last_t is not None else 0.0
        self.last_t = t
        season = self.season
        s = season.value(t) if season is not None and season.ready(t) else 0.0
        d = x - s
        window = self.window
        score = 0.0
        if len(window) >= self.warmup:
            med = window.median()
            floor = self.abs_floor if self.abs_floor is not None else counting_noise(med, max(dt, 1.0))
            scale = max(window.scale(), floor, self.rel_floor * abs(med))
            z = (d - med) / scale
            z = max(-50.0, min(50.0, z))
            zd = abs(z) if self.direction == "both" else max(0.0, z)
            raw = zd
            h = self.cusum_h
            if h != math.inf:
                # CUSUM increments clipped at +-h/2 (single outliers are the z-score's business: it takes three
                # outlying points in a row to alarm) and the statistic capped at the alarm level h, so it
                # recovers within a few points after a shift ends
                k = self.cusum_k
                zc = max(-0.5 * h, min(0.5 * h, z))
                pos = min(h, max(0.0, self.pos + zc - k))
                if pos > 0.0 and self.pos == 0.0:
                    self.pos_start = t
                self.pos = pos
                if self.direction == "both":
                    self.neg = min(h, max(0.0, self.neg - zc - k))
                raw = max(zd, max(self.pos, self.neg) / h * 5.0)
            # recent average of raw scores (~ last 9 points), each capped at 8 so that one outlier cannot
            # saturate the score: it takes about four consecutive outlying points (or a CUSUM alarm)
            self.short += 0.2 * (min(raw, RAW_CAP) - self.short)
            score = self._likelihood(raw)
            if season is not None:
                season.update(t, x - med, dt)
        if self.last_insert is None or t - self.last_insert >= self.spacing:
            window.add(d)
            self.last_insert = t
        return score

    def excursion_start(self, default: float) -> float:
        """Start of the current upward excursion (change-point onset estimate), else `default`."""
        return self.pos_start if self.pos > 0.0 and self.pos_start is not None else default

    def _likelihood(self, raw: float) -> float:
        n = self.long_n
        if n < 30:
            # learn the long-run distribution first
            self.long_n = n + 1
            w = 1.0 / self.long_n
            delta = raw - self.long_mean
            self.long_mean += w * delta
            self.long_var += w * (delta * (raw - self.long_mean) - self.long_var)
            return 0.0
        std = max(math.sqrt(self.long_var), self.std_floor)
        x = (self.short - self.long_mean) / std
        tail = 0.5 * math.erfc(x / math.sqrt(2.0)) if x > 0 else 0.5
        score = math.log(max(tail, 1e-10)) / LOG_TAIL_FLOOR
        # update the long-run distribution with the winsorised raw score
        w = max(1.0 / (n + 1), 1.0 / 2000.0)
        r = min(raw, self.long_mean + 3.0 * std)
        delta = r - self.long_mean
        self.long_mean += w * delta
        self.long_var += w * (delta * (r - self.long_mean) - self.long_var)
        self.long_n = n + 1
        return max(0.0, min(1.0, score))


def score_series(timestamps: Iterable[float], values: Iterable[float], signal: str | None = None,
                 **settings: Any) -> list[float]:
    """Anomaly scores of a whole series with the same streaming algorithm (offline helper)."""
    detector = SignalDetector.for_signal(signal, **settings) if signal else SignalDetector(**settings)
    return [detector.update(t, v) for t, v in zip(timestamps, values, strict=True)]


class TailCalibrator:
    """Online calibration of a non-negative evidence statistic against its own null distribution.

    Tracks the 98th percentile `q` (Robbins–Monro, steps proportional to the tail scale) and the mean excess `b`
    above it, and models the tail beyond `q` as exponential: P(E > e) = 0.02 · exp(−(e − q) / b). The same rule
    serves Gaussian, heavy-tailed, count and autocorrelated streams, because each stream calibrates it on
    itself. Values far in the tail are winsorised before they teach, so an anomaly does not become normal."""

    __slots__ = ("b", "q")

    def __init__(self, q: float, b: float):
        self.q = q
        self.b = b

    def log_tail(self, e: float) -> float:
        """Natural log of the tail probability of `e` (≤ 0)."""
        q = self.q
        if e <= q:
            return math.log(1.0 - 0.98 * e / q) if q > 0.0 else 0.0
        return LOG_TAIL_Q - (e - q) / self.b

    def update(self, e: float) -> None:
        q, b = self.q, self.b
        e = min(e, q + 6.0 * b)
        if e > q:
            self.b = b + 0.05 * ((e - q) - b)
            self.q = q + 0.98 * TAIL_STEP * b
        else:
            self.q = max(0.0, q - 0.02 * TAIL_STEP * b)


LOG_TAIL_Q = math.log(0.02)
TAIL_STEP = 0.5


class StreamDetector:
    """Streaming anomaly score for arbitrary streams (the `anomalies` command): any sampling interval, any
    length from ~100 points, gaussian, heavy-tailed, count or autocorrelated noise. Method and figures:
    docs/analytics.md, "Anomaly scores on general streams".

    Per point (O(log w)):

    * a seasonal profile (time-of-day buckets sized to the sampling interval, plus a level per weekday) is
      subtracted once every bucket has been learnt (a day and a half; the weekday levels after eight days); the
      daily shape learns each bucket's mean against the mean of the day centred on it, once a day;
    * the residual's robust z-score: location = median of the last `loc_window` residuals (short, so slow drifts
      and not yet learnt seasonality do not look anomalous), scale = median absolute first difference of the
      last `window` points / 0.954 (the noise sigma, immune to slow drifts), floored by a slow EW mean of
      absolute differences. Every point counts (no time spacing), so hourly or short streams learn as fast as
      minutely ones;
    * five evidences share it: the point against the median and against its last non-outlying predecessor
      (spikes, dips), a two-sided CUSUM on clipped z (level shifts, trends), a short EW mean of z² (variance
      changes) and the run of repeated values (flatlines);
    * each evidence is calibrated on the stream itself (`TailCalibrator`); the fused tail probability (the most
      surprising evidence, Bonferroni-corrected for five) is reported as 0.9 at `p_alarm`, linear in log(p) on
      either side, 1 at `p_floor`;
    * after an alarm on a persistent evidence the detector restarts on the new regime (location window refilled
      from the points since the change, the scale too after a variance change, CUSUM and variance reset; a
      flatline is reported once until it ends), so a change is reported when it happens, not for as long as the
      old state lingers.

    Causal: the score at t uses points ≤ t."""

    __slots__ = (
        "_bm",
        "_bstamp",
        "_buckets",
        "_cur_abs",
        "_cur_n",
        "_cur_sum",
        "_day_from",
        "_dt",
        "_last_ok",
        "_last_r",
        "_last_run",
        "_last_t",
        "_last_x",
        "_learnt",
        "_live",
        "_mad_slow",
        "_n",
        "_outliers",
        "_p_repeat",
        "_recent",
        "_recent_d",
        "_recent_t",
        "_run",
        "_run_base",
        "_since",
        "cal",
        "cusum_k",
        "diffs",
        "loc",
        "log_alarm",
        "log_floor",
        "neg",
        "pos",
        "profile",
        "profile_n",
        "profile_start",
        "seasonal",
        "var",
        "warmup",
        "weekday",
        "weekday_n",
    )

    def __init__(self, window: int = 512, loc_window: int = 64, warmup: int = 10, seasonal: bool = True,
                 cusum_k: float = 0.5, p_alarm: float = 1e-3, p_floor: float = 1e-12):
        self.diffs = RobustWindow(window)
        self.loc = RobustWindow(loc_window)
        self.warmup = warmup
        self.seasonal = seasonal
        self.cusum_k = cusum_k
        self.log_floor = math.log(p_floor)
        self.log_alarm = math.log(p_alarm)
        self.pos = 0.0
        self.neg = 0.0
        self.var = 1.0
        # evidence calibrators with Gaussian-like priors, retuned by each stream: |z|, CUSUM, variance, run length,
        # step from the predecessor
        self.cal = (TailCalibrator(2.3, 0.4), TailCalibrator(*CUSUM_PRIOR), TailCalibrator(*VAR_PRIOR),
                    TailCalibrator(1.0, 0.5), TailCalibrator(2.3, 0.4))
        self._n = 0
        self._dt: float | None = None
        self._last_t: float | None = None
        self._last_x: float | None = None
        self._last_r: float | None = None
        self._mad_slow = 0.0
        self._since = 0
        self._run = 0
        self._last_run = 0
        self._last_ok: float | None = None
        self._outliers = 0
        self._run_base = 0
        self._p_repeat = 0.02
        self._recent: list[float] = []
        self._recent_t: list[float] = []
        self._live = False
        self._recent_d: list[float] = []
        self._buckets = 0
        self.profile: array[float] | None = None     # arrays: 8 bytes a bucket
        self.profile_n: array[int] | None = None
        self.profile_start: float | None = None
        self.weekday = [0.0] * 7
        self.weekday_n = [0] * 7
        # the last day's bucket means and the (absolute) bucket each was taken in: arrays, 8 bytes a bucket
        self._bm = array("d")
        self._bstamp = array("q")
        self._cur_abs = -1
        self._day_from = -1
        self._cur_sum = 0.0
        self._cur_n = 0
        self._learnt = 0

    def _daily(self, t: float) -> float:
        p = self.profile
        if p is None or self._learnt < self._buckets:
            return 0.0       # all at once: a half-learnt profile would put a step into the residual
        return p[int((t % DAY_SECONDS) / DAY_SECONDS * self._buckets)]

    def _weekly(self, t: float) -> float:
        if self.profile_start is None or t - self.profile_start < WEEK_SECONDS + DAY_SECONDS:
            return 0.0
        return self.weekday[int(t // DAY_SECONDS + 3) % 7]     # 1970-01-01 was a Thursday: Monday = 0

    def _season(self, t: float) -> float:
        return self._daily(t) + self._weekly(t)

    def _learn_season(self, t: float, deviation: float, x: float) -> None:
        """`deviation`: the point against the location (weekly levels); `x`: the point, winsorised (daily shape)."""
        if self.profile is None or self.profile_n is None:
            if self._dt is None or self._n < 8:
                return
            self._buckets = max(6, min(96, round(DAY_SECONDS / max(self._dt, 1.0))))
            self.profile = array("d", [0.0]) * self._buckets
            self.profile_n = array("q", [0]) * self._buckets
            self.profile_start = t
            self._bm = array("d", [0.0]) * self._buckets
            self._bstamp = array("q", [-1]) * self._buckets
        dt = max(self._dt or 1.0, 1.0)
        # weekly part: a level per weekday (weekends, a Monday peak), on top of the daily shape
        day = int(t // DAY_SECONDS + 3) % 7
        wcounts = self.weekday_n
        wcounts[day] += 1
        g = max(1.0 / wcounts[day], dt / (3.0 * DAY_SECONDS))      # about three weeks of memory
        weekly = self._weekly(t)
        self.weekday[day] += g * (deviation - self._daily(t) - self.weekday[day])
        # daily shape: learnt from bucket means, each judged against the mean of the day centred on it (the
        # last day's buckets, once that day is complete). A location that trails the point (the 64-point median)
        # follows most of a slow daily wave, so a profile learnt against it only ever held the part of the
        # pattern the median missed and left the rest in the location, where a pattern that vanishes or inverts
        # went unseen; a day's mean holds none of the pattern, and centred on the bucket a linear trend or a
        # random walk's local slope does not bias it either.
        nb = self._buckets
        ab = int(t // (DAY_SECONDS / nb))
        if ab != self._cur_abs:
            if self._cur_n > 0 and self._cur_abs >= 0:
                j = self._cur_abs % nb
                self._bm[j] = self._cur_sum / self._cur_n
                self._bstamp[j] = self._cur_abs
                c = (self._cur_abs - nb // 2) % nb
                recent = self._cur_abs - nb
                filled = [m for m, st in zip(self._bm, self._bstamp, strict=True) if st > recent]
                # jittered or gappy sampling leaves a bucket empty now and then: three quarters of a day will do
                if (self._day_from >= 0 and self._cur_abs - self._day_from >= nb - 1 and self._bstamp[c] > recent
                        and 4 * len(filled) >= 3 * nb):
                    counts = self.profile_n
                    if counts[c] == 0:
                        self._learnt += 1
                    counts[c] += 1
                    # one lesson per bucket and day: a mean at first, then about three days of memory
                    dev = self._bm[c] - sum(filled) / len(filled)
                    self.profile[c] += max(1.0 / counts[c], 1.0 / PROFILE_DAYS) * (dev - self.profile[c])
            if self._day_from < 0:
                self._day_from = ab
            self._cur_abs = ab
            self._cur_sum = 0.0
            self._cur_n = 0
        self._cur_sum += x - weekly
        self._cur_n += 1

    def _go_live(self) -> None:
        """The profile is in use from now on: the residual is another series.

        The location restarts from the last few residuals with the profile taken off (the old ones would put a
        step of the daily wave's size into the residual). Before, a daily wave the residual carried kept CUSUM
        and the variance statistic high for a day and a half and their calibrators learnt that as normal (a
        tail scale that only shrinks on exceedances, so it stayed): they restart from their priors."""
        self._live = True
        recent = [r - self._daily(t) for r, t in zip(self._recent, self._recent_t, strict=True)]
        self._recent = recent
        if recent:
            self.loc.clear()
            for v in recent:
                self.loc.add(v)
            self._last_r = self._last_ok = recent[-1]
        _, cal_c, cal_v, _, _ = self.cal
        cal_c.q, cal_c.b = CUSUM_PRIOR
        cal_v.q, cal_v.b = VAR_PRIOR
        self.pos = self.neg = 0.0
        self.var = 1.0

    def _score(self, log_p: float) -> float:
        """0.9 at the alarm level, linear in log(p) on either side, 1 at `p_floor`."""
        alarm = self.log_alarm
        if log_p >= alarm:
            return 0.9 * log_p / alarm + 0.0      # + 0.0: never -0.0
        return min(1.0, 0.9 + 0.1 * (log_p - alarm) / (self.log_floor - alarm))

    def update(self, t: float, x: float) -> float:
        """Feed the value at t; returns the anomaly score in [0, 1]."""
        n = self._n
        if self._last_t is not None:
            dt = t - self._last_t
            self._dt = dt if self._dt is None else self._dt + 0.05 * (dt - self._dt)
        self._last_t = t
        repeat = x == self._last_x
        self._last_run = self._run
        self._run = self._run + 1 if repeat else 0
        if not repeat:
            self._run_base = 0          # a flatline reported once stays quiet until it ends
        self._last_x = x
        if not self._live and self._buckets and self._learnt == self._buckets:
            self._go_live()
        sv = self._season(t) if self.seasonal else 0.0
        r = x - sv
        d = abs(r - self._last_r) if self._last_r is not None else None
        self._last_r = r
        loc, diffs = self.loc, self.diffs
        score = 0.0
        if n >= self.warmup and len(diffs) >= 3:
            med = loc.median()
            scale = max(diffs.median() / 0.954, 0.5 * self._mad_slow, 1e-9 * abs(med), 1e-12)
            z = max(-50.0, min(50.0, (r - med) / scale))
            az = abs(z)
            zc = max(-3.0, min(3.0, z))
            k = self.cusum_k
            self.pos = max(0.0, self.pos + zc - k)
            self.neg = max(0.0, self.neg - zc - k)
            c = max(self.pos, self.neg)
            self._since = self._since + 1 if c > 0.0 else 0
            self.var += 0.15 * (min(z * z, 36.0) - self.var)
            cal_z, cal_c, cal_v, cal_r, cal_d = self.cal
            # a point judged against its predecessor as well as against the median: the better baseline for
            # random walks and periodic ramps, where the median lags the level
            # (against the last point that was not itself an outlier: the way back from a spike is no news)
            base = self._last_ok if self._last_ok is not None else r
            dz = abs(r - base) / (1.414 * scale)
            lp_z = min(cal_z.log_tail(az), cal_d.log_tail(dz))
            if lp_z + LOG_EVIDENCES > self.log_alarm or self._outliers >= 2:
                self._last_ok = r
                self._outliers = 0
            else:
                self._outliers += 1
            lp_v = cal_v.log_tail(self.var)
            lp_p = min(cal_c.log_tail(c), lp_v)
            run = self._run if self._run_base == 0 else 0
            if run >= 2:
                # the less surprising of two views: independent repeats at the stream's rate, and the stream's
                # own distribution of run lengths (counts that sit at zero every night repeat in long runs)
                lp_p = min(lp_p, max(run * math.log(self._p_repeat), cal_r.log_tail(run)))
            log_p = min(0.0, min(lp_z, lp_p) + LOG_EVIDENCES)
            if n >= 2 * self.warmup:
                score = self._score(log_p)
            cal_z.update(az)
            cal_d.update(dz)
            cal_c.update(c)
            cal_v.update(self.var)
            if not repeat and self._last_run > 0:
                cal_r.update(self._last_run)          # one lesson per completed run
            if self.seasonal:
                # winsorised: a spike is no part of the daily shape
                hi = med + sv + PROFILE_CLIP * scale
                self._learn_season(t, x - med, max(2.0 * (med + sv) - hi, min(hi, x)))
            self._p_repeat = max(1e-3, self._p_repeat + 0.005 * ((1.0 if repeat else 0.0) - self._p_repeat))
            if lp_p + LOG_EVIDENCES <= self.log_alarm:
                # a confirmed change: restart on the new regime, learnt from the points since it began
                if self._since >= 2:
                    loc.clear()
                    for v in self._recent[-min(self._since, len(self._recent)):]:
                        loc.add(v)
                if lp_v + LOG_EVIDENCES <= self.log_alarm and len(self._recent_d) >= 3:
                    # the noise itself changed: its scale is relearnt from the recent differences
                    diffs.clear()
                    for v in self._recent_d:
                        diffs.add(v)
                self.pos = self.neg = 0.0
                self._since = 0
                if len(self._bstamp):
                    # the day around the change is no lesson about the daily shape: a clean day first
                    self._bstamp = array("q", [-1]) * len(self._bstamp)
                    self._day_from = self._cur_abs
                    self._cur_sum = 0.0
                    self._cur_n = 0
                self.var = 1.0
                self._run_base = 1 if self._run >= 2 else 0
        recent = self._recent
        recent.append(r)
        self._recent_t.append(t)
        if len(recent) > 8:
            del recent[0]
            del self._recent_t[0]
        loc.add(r)
        if d is not None and self._run < 2:
            # a flatline's zero differences would collapse the scale and make its end look like an outburst
            diffs.add(d)
            recent_d = self._recent_d
            recent_d.append(d)
            if len(recent_d) > 8:
                del recent_d[0]
            self._mad_slow += (0.01 if n < 200 else 0.002) * (d / 1.128 - self._mad_slow)
        self._n = n + 1
        return score


DAY_SECONDS = 86400.0
WEEK_SECONDS = 7 * DAY_SECONDS
LOG_EVIDENCES = math.log(5.0)  # Bonferroni: five evidences
PROFILE_DAYS = 3.0    # memory of the daily profile, in lessons per bucket (days)
PROFILE_CLIP = 4.0    # the daily profile learns points winsorised at this many noise sigmas
CUSUM_PRIOR = (2.5, 1.0)
VAR_PRIOR = (2.0, 0.5)
