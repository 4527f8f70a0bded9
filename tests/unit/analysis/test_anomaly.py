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


# --- StreamDetector: the general-stream detector of `kafka-detective anomalies` ---------------------------------

def _stream_scores(ts: list[float], vs: list[float], **kw) -> list[float]:
    from kafka_detective.analysis.anomaly import StreamDetector

    det = StreamDetector(**kw)
    return [det.update(t, v) for t, v in zip(ts, vs, strict=True)]


def test_stream_detector_flags_a_spike_at_once_and_noise_rarely():
    ts, vs = noisy(1500, seed=4)
    vs[1000] += 50.0                                   # 10 sigma
    scores = _stream_scores(ts, vs)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[1000] >= 0.95
    quiet = scores[100:1000]
    # 0.9 is the detector's own alarm level (tail probability 1e-3 after the correction for four detectors)
    assert sum(s >= 0.9 for s in quiet) <= 3
    assert max(scores[1001:1010]) < 0.9              # one spike, one alarm


def test_stream_detector_reports_a_level_shift_once_then_learns_it():
    ts, vs = noisy(2000, seed=5)
    vs = [v + (25.0 if i >= 1200 else 0.0) for i, v in enumerate(vs)]   # 5 sigma, for good
    scores = _stream_scores(ts, vs)
    assert max(scores[1200:1206]) >= 0.9
    # after the restart the new level is normal: no alarm from 30 points after the shift on
    assert sum(s >= 0.9 for s in scores[1230:]) <= 2


def test_stream_detector_on_short_hourly_streams_learns_from_every_point():
    # 120 hourly points: a time-spaced window would hold a handful of values; this one holds them all
    rng = random.Random(6)
    ts = [1_790_000_000.0 + 3600.0 * i for i in range(120)]
    vs = [50.0 + rng.gauss(0, 2) for _ in ts]
    vs[90] = 80.0
    scores = _stream_scores(ts, vs)
    assert scores[90] >= 0.95
    assert max(scores[30:90]) < 0.9


def test_stream_detector_flags_a_flatline_and_a_variance_change():
    ts, vs = noisy(1500, seed=7)
    flat = [v if not 900 <= i < 960 else vs[899] for i, v in enumerate(vs)]
    scores = _stream_scores(ts, flat)
    assert max(scores[900:910]) >= 0.9
    assert max(scores[915:960]) < 0.9                 # reported once, not for as long as it lasts
    rng = random.Random(8)
    wide = [v if i < 1000 else 100.0 + rng.gauss(0, 25.0) for i, v in enumerate(vs)]
    scores = _stream_scores(ts, wide)
    assert max(scores[1000:1030]) >= 0.9


def test_stream_detector_is_causal():
    ts, vs = noisy(800, seed=9)
    base = _stream_scores(ts, vs)
    changed = vs[:500] + [v + 100.0 for v in vs[500:]]
    assert _stream_scores(ts, changed)[:500] == base[:500]


def test_stream_detector_unlearns_nothing_from_counts_with_repeats():
    # low Poisson counts repeat often: runs of equal values are not flatlines there
    rng = random.Random(10)
    import math as _m

    def poisson(lam: float) -> int:
        k, p, limit = 0, 1.0, _m.exp(-lam)
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1

    ts = [1_790_000_000.0 + 60.0 * i for i in range(3000)]
    vs = [float(poisson(2.0)) for _ in ts]
    scores = _stream_scores(ts, vs)
    assert sum(s >= 0.9 for s in scores[300:]) <= 8


def _daily_stream(interval: float, days: float, seed: int, amp: float = 5.0, jitter: float = 0.0,
                  change_day: float | None = None, factor: float = 1.0) -> tuple[list[float], list[float], int]:
    """A daily wave of `amp` noise sigmas; from `change_day` on its amplitude is multiplied by `factor` (0: the
    pattern vanishes). Returns the timestamps, the values and the index of the change (or len)."""
    import math as _m

    rng = random.Random(seed)
    t = 1_790_000_000.0
    ts: list[float] = []
    vs: list[float] = []
    change = None
    for i in range(int(days * 86400.0 / interval)):
        t += interval * (1.0 + jitter * rng.uniform(-1.0, 1.0))
        wave = amp * _m.sin(2.0 * _m.pi * (t % 86400.0) / 86400.0)
        if change_day is not None and ts and t - ts[0] >= change_day * 86400.0:
            change = i if change is None else change
            wave *= factor
        ts.append(t)
        vs.append(100.0 + wave + rng.gauss(0.0, 1.0))
    return ts, vs, len(ts) if change is None else change


def test_stream_detector_flags_a_daily_pattern_that_vanishes():
    # the profile must hold the whole wave (not the part a trailing median misses) for its loss to show
    for seed in (1, 2, 3):
        ts, vs, b = _daily_stream(300.0, 7, seed, change_day=5, factor=0.0)
        scores = _stream_scores(ts, vs)
        assert max(scores[b:b + 12]) >= 0.9          # within the hour
        assert sum(s >= 0.9 for s in scores[2 * 288:b]) <= 1


def test_stream_detector_flags_a_vanishing_pattern_on_jittered_hourly_sampling():
    # an hourly stream with +-30 % jitter leaves some hour without a point: the profile is learnt all the same
    for seed in (1, 2):
        ts, vs, b = _daily_stream(3600.0, 20, seed, jitter=0.3, change_day=12, factor=0.0)
        scores = _stream_scores(ts, vs)
        assert max(scores[b:b + 4]) >= 0.9
        assert max(scores[72:b]) < 0.9


def test_stream_detector_takes_a_slightly_weaker_daily_pattern_for_no_break():
    # near miss: the wave at four fifths of its amplitude is no pattern break
    for seed in (1, 2):
        ts, vs, b = _daily_stream(300.0, 7, seed, change_day=5, factor=0.8)
        scores = _stream_scores(ts, vs)
        assert max(scores[b:b + 72]) < 0.9


def test_stream_detector_profile_coming_into_use_is_no_alarm():
    # near miss: the residual changes definition when the profile comes into use; its location restarts with it
    # (without the restart the old residuals' wave put a step into it: 0.90-0.91 on each of these streams)
    from kafka_detective.analysis.anomaly import StreamDetector

    for seed in (2, 5, 8, 11):
        ts, vs, _ = _daily_stream(600.0, 8, seed=seed, jitter=0.3)
        det = StreamDetector()
        live = None
        scores = []
        for i, (t, v) in enumerate(zip(ts, vs, strict=True)):
            scores.append(det.update(t, v))
            if live is None and det.profile is not None and det._daily(t) != 0.0:
                live = i
        assert live is not None and live < 3 * 144           # in use within three days
        assert max(scores[live:live + 72]) < 0.9              # the half day after it
