"""NAB-style scorer on tiny hand-checkable streams."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kafka_detective_tools.scenarios.nab import (
    STANDARD,
    anomaly_windows,
    probation_rows,
    row_weights,
    scaled_sigmoid,
    score_at,
    score_stream,
    sweep,
)


def test_scaled_sigmoid_landmarks() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_windows_cover_ten_percent_split_over_anomalies_and_merge() -> None:
    assert anomaly_windows(1000, [500]) == [(450, 550)]
    assert anomaly_windows(1000, [300, 700]) == [(275, 325), (675, 725)]
    # too close: the two windows overlap and become one
    assert anomaly_windows(1000, [500, 520]) == [(475, 545)]
    # clipped at the stream's end
    assert anomaly_windows(1000, [990]) == [(940, 999)]
    assert anomaly_windows(1000, []) == []


def test_probation_is_fifteen_percent_capped_at_750_rows() -> None:
    assert probation_rows(1000) == 150
    assert probation_rows(20000) == 750


def _stream(n: int = 1000, anomaly: int = 500):
    return row_weights(n, anomaly_windows(n, [anomaly]), STANDARD)


def test_detection_at_window_start_is_worth_one_and_late_ones_less() -> None:
    w = _stream()
    scores = np.zeros(1000)
    scores[450] = 1.0
    r = score_stream(scores, w, 0.5)
    assert r.raw == pytest.approx(1.0)
    assert (r.detected, r.false_positives) == (1, 0)
    scores = np.zeros(1000)
    scores[500] = 1.0                                  # halfway through the window
    assert score_stream(scores, w, 0.5).raw == pytest.approx(scaled_sigmoid(-51 / 101) / scaled_sigmoid(-1))
    scores[550] = 1.0                                  # a later one in the same window adds nothing
    assert score_stream(scores, w, 0.5).raw == pytest.approx(scaled_sigmoid(-51 / 101) / scaled_sigmoid(-1))


def test_missed_window_costs_one_and_false_positives_cost_by_distance() -> None:
    w = _stream()
    assert score_stream(np.zeros(1000), w, 0.5).raw == pytest.approx(-1.0)
    scores = np.zeros(1000)
    scores[300] = 1.0                                  # before any window: the full A_FP
    assert score_stream(scores, w, 0.5).raw == pytest.approx(-1.0 - 0.11)
    scores = np.zeros(1000)
    scores[551] = 1.0                                  # just after the window: nearly free
    near = score_stream(scores, w, 0.5).raw + 1.0
    scores = np.zeros(1000)
    scores[800] = 1.0                                  # far after it: the full A_FP
    far = score_stream(scores, w, 0.5).raw + 1.0
    assert -0.11 < far < near < 0
    assert far == pytest.approx(-0.11, abs=1e-5)
    assert near == pytest.approx(0.11 * scaled_sigmoid(1 / 100))


def test_probation_rows_never_score_and_windows_inside_it_do_not_count() -> None:
    w = row_weights(1000, anomaly_windows(1000, [50, 600]))
    assert w.scorable_windows == [1]
    scores = np.zeros(1000)
    scores[:150] = 1.0
    r = score_stream(scores, w, 0.5)
    assert r.raw == pytest.approx(-1.0) and r.false_positives == 0


def test_sweep_normalises_null_to_zero_and_perfect_to_hundred() -> None:
    w1 = _stream(1000, 500)
    w2 = _stream(2000, 1200)
    null = sweep([(np.zeros(1000), w1), (np.zeros(2000), w2)])
    assert null.score == pytest.approx(0.0)
    assert math.isinf(null.threshold)
    p1, p2 = np.zeros(1000), np.zeros(2000)
    p1[450] = 0.9
    p2[1100] = 0.7
    perfect = sweep([(p1, w1), (p2, w2)])
    assert perfect.score == pytest.approx(100.0)
    assert perfect.threshold == pytest.approx(0.7)


def test_sweep_finds_the_threshold_that_an_exhaustive_search_finds() -> None:
    rng = np.random.default_rng(3)
    corpus = []
    for n, a in ((800, 400), (1200, 900), (600, 300)):
        s = rng.random(n) ** 8
        s[a + 5] = 0.95
        corpus.append((s, _stream(n, a)))
    result = sweep(corpus)
    candidates = sorted({float(v) for s, _ in corpus for v in s})
    brute = max(score_at(corpus, t).raw for t in candidates)
    assert result.raw == pytest.approx(brute)
    assert score_at(corpus, result.threshold).raw == pytest.approx(result.raw)
    assert 0 < result.score < 100
