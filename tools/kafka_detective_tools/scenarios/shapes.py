"""A labelled corpus of anomaly shapes on general streams (seeded, numpy), for NAB-style scoring.

Families: spikes, dips, level shifts, trend changes, variance changes, flatlines (a stuck sensor), seasonal
pattern breaks (daily, and weekly where the stream spans weeks) and quiet streams (no anomaly: false positives
only). Noise types: gaussian, heavy-tailed (Student t, 3 d.o.f.), counts (Poisson), random walks and sawtooth
(a periodic ramp, e.g. a batch job filling and flushing a buffer).

The **train/test split is fixed here, before any tuning**, and the test split goes beyond the train split on
every axis: train streams have 300–5 000 points at 1 or 5 minute sampling with gaussian, heavy-tailed or count
noise; test streams have 100–20 000 points at 1 minute to 1 hour sampling (a quarter of them irregular), with
random walks and sawtooth noise as well, and wider amplitude ranges. Tune on train only.

Labels are the rows where each anomaly starts (as in NAB, the window is centred on the label).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

FAMILIES = ("spike", "dip", "level_shift", "trend_change", "variance_change", "flatline", "seasonal_break",
            "quiet")
TRAIN_NOISES = ("gaussian", "heavy_tailed", "counts")
TEST_NOISES = ("gaussian", "heavy_tailed", "counts", "random_walk", "sawtooth")
DAY = 86400.0
WEEK = 7 * DAY
EPOCH = 1_767_571_200.0        # Monday 2026-01-05 00:00 UTC: weekly patterns start on a Monday


@dataclass(frozen=True)
class SplitSpec:
    name: str
    lengths: tuple[int, int]
    intervals: tuple[float, ...]
    noises: tuple[str, ...]
    magnitude: tuple[float, float]   # anomaly size in noise sigmas
    irregular: float                 # share of streams with jittered timestamps and gaps
    per_family: int


TRAIN = SplitSpec("train", (300, 5000), (60.0, 300.0), TRAIN_NOISES, (5.0, 10.0), 0.0, 10)
TEST = SplitSpec("test", (100, 20000), (60.0, 600.0, 1800.0, 3600.0), TEST_NOISES, (4.0, 14.0), 0.25, 10)
SPLITS = {"train": TRAIN, "test": TEST}


@dataclass
class ShapeStream:
    name: str
    family: str
    noise: str
    interval: float
    timestamps: np.ndarray
    values: np.ndarray
    anomalies: list[int] = field(default_factory=list)
    split: str = ""

    def __len__(self) -> int:
        return len(self.values)


def corpus(split: str, seed: int = 12, per_family: int | None = None,
           families: tuple[str, ...] = FAMILIES) -> list[ShapeStream]:
    """The streams of one split (`train` or `test`), the same for the same seed."""
    spec = SPLITS[split]
    # distinct seeds per split, so that the test split never repeats a training stream
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    out = []
    count = spec.per_family if per_family is None else per_family
    for family in families:
        for i in range(count):
            out.append(_stream(rng, spec, family, f"{split}/{family}/{i:02d}"))
    return out


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _stream(rng: np.random.Generator, spec: SplitSpec, family: str, name: str) -> ShapeStream:
    noise = str(rng.choice(spec.noises))
    interval = float(rng.choice(spec.intervals))
    n = int(_log_uniform(rng, *spec.lengths))
    if family == "seasonal_break":
        # a pattern break needs a few periods of history: at least four days before the break
        interval = max(interval, 300.0) if n * interval < 6 * DAY else interval
        n = max(n, math.ceil(6 * DAY / interval))
    timestamps = EPOCH + rng.uniform(0, DAY) + interval * np.arange(n, dtype=float)
    if rng.random() < spec.irregular:
        timestamps = _irregular(rng, timestamps, interval)
    span = timestamps[-1] - timestamps[0]

    level = _log_uniform(rng, 5.0, 2000.0)
    counts = noise == "counts"
    if counts:
        level = _log_uniform(rng, 3.0, 300.0)
    sigma = math.sqrt(level) if counts else level * rng.uniform(0.01, 0.1)
    # the expected value: level, daily (and weekly) seasonality for half of the streams
    seasonal = family == "seasonal_break" or rng.random() < 0.5
    mean = np.full(n, level)
    daily = np.zeros(n)
    weekly = np.zeros(n)
    if seasonal:
        phase = rng.uniform(0, 2 * math.pi)
        amp = rng.uniform(2.0, 6.0) * sigma
        daily = amp * np.sin(2 * math.pi * (timestamps % DAY) / DAY + phase)
        if span >= 3 * WEEK:
            weekend = ((timestamps - EPOCH) % WEEK) >= 5 * DAY
            weekly = np.where(weekend, -rng.uniform(1.0, 3.0) * sigma, 0.0)
    mean = mean + daily + weekly
    scale = np.ones(n)            # noise multiplier (variance changes)
    stuck: list[tuple[int, int]] = []

    anomalies: list[int] = []
    if family != "quiet":
        k = 1 if family in ("trend_change", "variance_change", "seasonal_break") else int(rng.integers(1, 4))
        anomalies = _positions(rng, n, k, timestamps, family, span)
    lo_m, hi_m = spec.magnitude
    for a in anomalies:
        m = rng.uniform(lo_m, hi_m)
        if family in ("spike", "dip"):
            width = int(rng.integers(1, 4))
            sign = 1.0 if family == "spike" else -1.0
            if counts and sign < 0:
                mean[a:a + width] = np.minimum(mean[a:a + width], level * 0.05)
            else:
                mean[a:a + width] += sign * m * sigma
        elif family == "level_shift":
            sign = float(rng.choice((-1.0, 1.0)))
            shift = sign * m * sigma
            if counts and level + shift < 0.2 * level:
                shift = m * sigma
            mean[a:] += shift
        elif family == "trend_change":
            # reaches m sigmas over a quarter of the window's width, then keeps going (a leak, a runaway)
            reach = max(3, int(0.025 * n))
            mean[a:] += float(rng.choice((-1.0, 1.0))) * m * sigma * np.arange(n - a) / reach
            if counts:
                mean = np.maximum(mean, 0.5)
        elif family == "variance_change":
            scale[a:] = rng.uniform(3.0, 6.0)
        elif family == "flatline":
            length = max(5, int(rng.uniform(0.02, 0.06) * n))
            stuck.append((a, min(n, a + length)))
        elif family == "seasonal_break":
            kind = rng.choice(("vanish", "invert")) if span < 3 * WEEK else rng.choice(("vanish", "invert",
                                                                                           "weekday"))
            end = n if rng.random() < 0.5 else min(n, a + int(DAY / interval))
            if kind == "vanish":
                mean[a:end] -= daily[a:end]
            elif kind == "invert":
                mean[a:end] -= 2 * daily[a:end]
            else:
                # a weekday that behaves like the weekend (a holiday, an outage of a feed)
                mean[a:end] += -rng.uniform(3.0, 5.0) * sigma
    values = _noise(rng, noise, mean, sigma, scale, counts)
    for a, b in stuck:
        values[a:b] = values[a - 1] if a > 0 else values[0]
    return ShapeStream(name, family, noise, interval, timestamps, values, anomalies, spec.name)


def _irregular(rng: np.random.Generator, timestamps: np.ndarray, interval: float) -> np.ndarray:
    steps = interval * rng.uniform(0.7, 1.3, len(timestamps))
    gaps = rng.random(len(timestamps)) < 0.01
    steps[gaps] *= rng.uniform(3, 20, int(gaps.sum()))
    steps[0] = 0.0
    return timestamps[0] + np.cumsum(steps)


def _positions(rng: np.random.Generator, n: int, k: int, timestamps: np.ndarray, family: str,
               span: float) -> list[int]:
    lo = int(0.2 * n)
    if family == "seasonal_break":
        # after four days of history (the pattern must be learnable first)
        lo = max(lo, int(np.searchsorted(timestamps, timestamps[0] + 4 * DAY)))
        if span >= 3 * WEEK:
            lo = max(lo, int(np.searchsorted(timestamps, timestamps[0] + 2 * WEEK)))
    hi = int(0.92 * n)
    lo = min(lo, hi - 1)
    # anomalies of one stream stay apart: their windows (10 % of the stream, split over them) do not touch
    gap = max(2, int(0.25 * n / k))
    for _ in range(50):
        picks = sorted(int(p) for p in rng.integers(lo, hi, k))
        if all(b - a >= gap for a, b in itertools.pairwise(picks)):
            return picks
    return [int(rng.integers(lo, hi))]


def _noise(rng: np.random.Generator, noise: str, mean: np.ndarray, sigma: float, scale: np.ndarray,
           counts: bool) -> np.ndarray:
    n = len(mean)
    if counts:
        # Poisson around the mean; a variance change makes it overdispersed (a gamma-Poisson mixture)
        lam = np.maximum(mean, 0.0)
        over = scale > 1.0
        if over.any():
            shape = np.maximum(lam[over] / (scale[over] ** 2 - 1.0), 1e-3)
            lam = lam.copy()
            lam[over] = rng.gamma(shape, lam[over] / shape)
        return rng.poisson(lam).astype(float)
    eps = rng.standard_t(3, n) / math.sqrt(3.0) if noise == "heavy_tailed" else rng.standard_normal(n)
    values = mean + sigma * scale * eps
    if noise == "random_walk":
        values += np.cumsum(rng.standard_normal(n)) * sigma * 0.15
    elif noise == "sawtooth":
        period = int(rng.integers(10, 200))
        values += 3.0 * sigma * ((np.arange(n) % period) / period - 0.5)
    return values
