"""Streaming anomaly scores: steps score high, noise stays low, scores in [0, 1], no look-ahead."""

from __future__ import annotations

import random
from array import array

from kafka_detective.analysis.anomaly import RobustWindow, SignalDetector, score_series
from kafka_detective.analysis.model import ANOMALY_SIGNALS


def noisy(n: int, seed: int = 1, level: float = 100.0, sigma: float = 5.0) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    return [1_790_000_000.0 + 30.0 * i for i in range(n)], [level + rng.gauss(0, sigma) for _ in range(n)]


def test_noise_stays_low_and_scores_are_in_range():
    for seed in (1, 2, 3):
        ts, vs = noisy(4000, seed)
        scores = score_series(ts, vs, "produce_rate")
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert max(scores) < 0.8
        assert sum(scores) / len(scores) < 0.2


def test_step_change_scores_high():
    ts, vs = noisy(3000)
    stepped = vs[:2000] + [v + 40.0 for v in vs[2000:]]
    scores = score_series(ts, stepped, "produce_rate")
    assert max(scores[1995:2000]) < 0.5
    assert max(scores[2000:2010]) >= 0.95
    # a persistent moderate shift (3 sigma) is caught by the change-point statistic
    shifted = vs[:2000] + [v + 15.0 for v in vs[2000:]]
    assert max(score_series(ts, shifted, "produce_rate")[2000:2060]) >= 0.85


def test_lag_drop_is_not_anomalous_but_rise_is():
    ts, vs = noisy(1000, level=500.0, sigma=50.0)
    down = vs[:800] + [v - 400 for v in vs[800:]]
    up = vs[:800] + [v + 2000 for v in vs[800:]]
    assert max(score_series(ts, down, "lag")[800:]) < 0.5
    assert max(score_series(ts, up, "lag")[800:810]) >= 0.95


def test_no_look_ahead():
    ts, vs = noisy(1500)
    base = score_series(ts, vs, "consume_rate")
    changed = vs[:1000] + [v * 3 for v in vs[1000:]]
    other = score_series(ts, changed, "consume_rate")
    assert base[:1000] == other[:1000]


def test_rebalance_counts():
    det = SignalDetector.for_signal("rebalances")
    t = 1_790_000_000.0
    scores = [det.update(t + 60 * i, 0.0) for i in range(200)]
    assert max(scores) < 0.1
    assert det.update(t + 60 * 200, 2.0) < 0.5        # a deploy: two rebalances
    storm = [det.update(t + 60 * (201 + i), 8.0) for i in range(5)]
    assert max(storm) >= 0.95
    assert set(ANOMALY_SIGNALS) >= {"rebalances", "lag"}


def test_robust_window_matches_sorted_statistics():
    rng = random.Random(9)
    w = RobustWindow(50)
    values = []
    for _ in range(500):
        x = array("f", [rng.gauss(0, 1)])[0]          # the window keeps float32 values
        w.add(x)
        values.append(x)
        recent = sorted(values[-50:])
        assert list(w.sorted) == recent
    n = len(recent)
    assert w.median() == (recent[n // 2 - 1] + recent[n // 2]) / 2
