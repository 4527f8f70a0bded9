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

No look-ahead: the score at t depends only on values up to t.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right

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

    def median(self) -> float:
        s = self.sorted
        n = len(s)
        return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])

    def scale(self) -> float:
        """Robust sigma: IQR / 1.349."""
        s = self.sorted
        n = len(s)
        return (s[(3 * n) // 4] - s[n // 4]) / 1.349


# Per-signal settings: direction, absolute floor of the scale, relative floor (x |median|), seasonal, CUSUM.
SIGNAL_SETTINGS: dict[str, tuple[str, float, float, bool, bool]] = {
    "produce_rate": ("both", 0.5, 0.05, True, True),
    "consume_rate": ("both", 0.5, 0.05, True, True),
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

    def __init__(self, direction: str = "both", abs_floor: float = 1e-9, rel_floor: float = 0.0,
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
    def for_signal(cls, signal: str, **overrides) -> SignalDetector:
        direction, abs_floor, rel_floor, seasonal, cusum = SIGNAL_SETTINGS[signal]
        kwargs = {"direction": direction, "abs_floor": abs_floor, "rel_floor": rel_floor, "seasonal": seasonal}
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
            scale = max(window.scale(), self.abs_floor, self.rel_floor * abs(med))
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


def score_series(timestamps, values, signal: str | None = None, **settings) -> list[float]:
    """Anomaly scores of a whole series with the same streaming algorithm (offline helper)."""
    detector = SignalDetector.for_signal(signal, **settings) if signal else SignalDetector(**settings)
    return [detector.update(t, v) for t, v in zip(timestamps, values, strict=True)]
