"""NAB-style scoring of streaming anomaly scores (offline tool, numpy).

The yardstick of the Numenta Anomaly Benchmark, rebuilt from its published description so that any labelled
corpus can be scored the same way:

* **Windows.** Each stream's labelled anomalies get windows that together cover 10 % of the stream, split evenly
  over its anomalies and centred on each (overlapping windows merge).
* **Probation.** The first 15 % of each stream (at most 750 rows) is a learning period: nothing there scores,
  and a window lying wholly inside it does not count.
* **Per row weights.** Inside a window, a detection at relative position p in [-1, 0) (−1 = the window's first
  row, 0 = just past its last) is worth `A_TP · σ(p) / σ(−1)` with the scaled sigmoid σ(p) = 2/(1+e^{5p}) − 1:
  about +1 at the window's start, 0.85 halfway, close to 0 at its end. Only the best (i.e. first) detection of a
  window counts; a window without a detection costs `A_FN`. A detection outside every window costs
  `A_FP · σ(d)` with d its distance after the previous window in window widths (cheap just after a window,
  the full `A_FP` from about one width on, and before the first window).
* **One threshold for the whole corpus**, chosen by an exact sweep over every distinct score.
* **Normalisation**: 100 · (raw − null) / (perfect − null), where the null detector never fires (every window
  missed) and the perfect one fires exactly on the first scorable row of each window.

The standard profile is A_TP = 1, A_FP = 0.11, A_FN = 1. Rows are detections when score ≥ threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 5000       # the probation is at most 15 % of 5000 rows
WINDOW_FRACTION = 0.10


@dataclass(frozen=True)
class Profile:
    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


STANDARD = Profile()


def scaled_sigmoid(position: float) -> float:
    """2·sigmoid(−5·position) − 1: ≈ +0.987 at −1, 0 at 0, ≈ −0.987 at +1; −1 from +3 on."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation_rows(n: int, fraction: float = PROBATION_FRACTION) -> int:
    return int(min(math.floor(fraction * n), fraction * PROBATION_CAP_ROWS))


def anomaly_windows(n: int, anomalies: Sequence[int], fraction: float = WINDOW_FRACTION) -> list[tuple[int, int]]:
    """Inclusive (first, last) row ranges of the windows of a stream of `n` rows labelled at `anomalies`."""
    if not anomalies:
        return []
    length = int(fraction * n / len(anomalies))
    half = length // 2
    spans = sorted((max(0, a - half), min(n - 1, a + half)) for a in anomalies)
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


@dataclass
class StreamWeights:
    """What each row of one stream is worth if it fires: `weight[i]`, and `window[i]` = index of its window
    (−1 outside every window, −2 in probation)."""

    weight: np.ndarray
    window: np.ndarray
    scorable_windows: list[int]
    perfect: float


def row_weights(n: int, windows: Sequence[tuple[int, int]], profile: Profile = STANDARD,
                probation: int | None = None) -> StreamWeights:
    probation = probation_rows(n) if probation is None else probation
    weight = np.zeros(n)
    window = np.full(n, -1, dtype=np.int64)
    prev_right: int | None = None
    prev_width = 0
    cursor = 0
    for k, (lo, hi) in enumerate(windows):
        _outside(weight, cursor, lo, prev_right, prev_width, profile)
        width = hi - lo + 1
        for i in range(lo, hi + 1):
            weight[i] = scaled_sigmoid(-(hi - i + 1) / width) * profile.tp / MAX_TP
        window[lo:hi + 1] = k
        prev_right, prev_width, cursor = hi, width, hi + 1
    _outside(weight, cursor, n, prev_right, prev_width, profile)
    window[:probation] = -2
    scorable = [k for k, (lo, hi) in enumerate(windows) if hi >= probation]
    perfect = sum(float(weight[max(lo, probation)]) for k, (lo, hi) in enumerate(windows) if k in scorable)
    return StreamWeights(weight, window, scorable, perfect)


def _outside(weight: np.ndarray, start: int, stop: int, prev_right: int | None, prev_width: int,
             profile: Profile) -> None:
    for i in range(start, stop):
        if prev_right is None:
            position = 3.0
        elif prev_width <= 1:
            position = 2.0
        else:
            position = (i - prev_right) / (prev_width - 1)
        weight[i] = scaled_sigmoid(position) * profile.fp


@dataclass
class StreamResult:
    raw: float
    null: float
    perfect: float
    detected: int          # windows with a detection
    windows: int           # scorable windows
    false_positives: int   # detections outside windows (rows)


def score_stream(scores: Sequence[float] | np.ndarray, weights: StreamWeights, threshold: float,
                 profile: Profile = STANDARD) -> StreamResult:
    s = np.asarray(scores, dtype=float)
    fired = s >= threshold
    fp_rows = fired & (weights.window == -1)
    raw = float(weights.weight[fp_rows].sum())
    detected = 0
    for k in weights.scorable_windows:
        rows = np.flatnonzero(fired & (weights.window == k))
        if len(rows):
            raw += float(weights.weight[rows[0]])
            detected += 1
        else:
            raw -= profile.fn
    null = -profile.fn * len(weights.scorable_windows)
    return StreamResult(raw, null, weights.perfect, detected, len(weights.scorable_windows), int(fp_rows.sum()))


def normalised(raw: float, null: float, perfect: float) -> float:
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)


@dataclass
class SweepResult:
    threshold: float
    score: float                     # normalised, whole corpus
    raw: float
    null: float
    perfect: float
    streams: list[StreamResult] = field(default_factory=list)


def sweep(scored: Sequence[tuple[np.ndarray | Sequence[float], StreamWeights]],
          profile: Profile = STANDARD) -> SweepResult:
    """Best single threshold for a corpus of (scores, weights), by an exact sweep over every distinct score."""
    event_scores: list[np.ndarray] = []
    event_deltas: list[np.ndarray] = []
    null = perfect = 0.0
    for scores, w in scored:
        s = np.asarray(scores, dtype=float)
        null -= profile.fn * len(w.scorable_windows)
        perfect += w.perfect
        outside = w.window == -1
        event_scores.append(s[outside])
        event_deltas.append(w.weight[outside])
        for k in w.scorable_windows:
            rows = np.flatnonzero(w.window == k)
            order = rows[np.argsort(-s[rows], kind="stable")]
            # the window is worth the best (earliest) row detected so far as the threshold falls
            best = np.maximum.accumulate(w.weight[order])
            prev = np.concatenate(([-profile.fn], best[:-1]))
            gain = best - prev
            keep = gain > 0
            event_scores.append(s[order][keep])
            event_deltas.append(gain[keep])
    all_s = np.concatenate(event_scores) if event_scores else np.zeros(0)
    all_d = np.concatenate(event_deltas) if event_deltas else np.zeros(0)
    best_threshold, best_raw = math.inf, null
    if len(all_s):
        order = np.argsort(-all_s, kind="stable")
        ss = all_s[order]
        total = null + np.cumsum(all_d[order])
        # a threshold equal to a score fires every row with that score: evaluate after the last tie
        last_of_tie = np.flatnonzero(np.append(ss[1:] != ss[:-1], True))
        i = int(np.argmax(total[last_of_tie]))
        if total[last_of_tie][i] > best_raw:
            best_raw = float(total[last_of_tie][i])
            best_threshold = float(ss[last_of_tie][i])
    streams = [score_stream(s, w, best_threshold, profile) for s, w in scored]
    return SweepResult(best_threshold, normalised(best_raw, null, perfect), best_raw, null, perfect, streams)


def score_at(scored: Sequence[tuple[np.ndarray | Sequence[float], StreamWeights]], threshold: float,
             profile: Profile = STANDARD) -> SweepResult:
    """The corpus score at a given threshold (e.g. one chosen on another split)."""
    streams = [score_stream(s, w, threshold, profile) for s, w in scored]
    raw = sum(r.raw for r in streams)
    null = sum(r.null for r in streams)
    perfect = sum(r.perfect for r in streams)
    return SweepResult(threshold, normalised(raw, null, perfect), raw, null, perfect, streams)
