"""The labelled shape corpus: seeded, split fixed, labels where the shapes are; the benchmark on a subset."""

from __future__ import annotations

import numpy as np

from kafka_detective_tools.scenarios import anomaly_benchmark as ab
from kafka_detective_tools.scenarios.shapes import FAMILIES, TEST, TRAIN, corpus


def test_corpus_is_seeded_and_the_splits_differ() -> None:
    a = corpus("train", seed=3, per_family=2)
    b = corpus("train", seed=3, per_family=2)
    assert [s.name for s in a] == [s.name for s in b]
    assert all(np.array_equal(x.values, y.values) and x.anomalies == y.anomalies for x, y in zip(a, b, strict=True))
    test = corpus("test", seed=3, per_family=2)
    assert not any(np.array_equal(x.values[:50], y.values[:50]) for x in a for y in test)
    assert {s.family for s in a} == set(FAMILIES)


def test_test_split_goes_beyond_the_train_split() -> None:
    train = corpus("train")
    test = corpus("test")
    assert {s.noise for s in train} <= set(TRAIN.noises)
    assert {s.noise for s in test} - set(TRAIN.noises) == {"random_walk", "sawtooth"}
    assert {s.interval for s in test} - {s.interval for s in train} >= {600.0, 1800.0, 3600.0}
    assert min(len(s) for s in test) < TRAIN.lengths[0] and max(len(s) for s in test) > TRAIN.lengths[1]
    assert min(len(s) for s in train) >= TRAIN.lengths[0]
    assert TEST.irregular > 0 and any(np.ptp(np.diff(s.timestamps)) > 0 for s in test)


def test_labels_sit_after_the_probation_and_on_the_shape() -> None:
    for s in corpus("train", per_family=4):
        assert all(0.15 * len(s) < a < len(s) for a in s.anomalies)
        if s.family == "quiet":
            assert s.anomalies == []
        if s.family == "flatline":
            a = s.anomalies[0]
            assert np.all(s.values[a:a + 5] == s.values[a - 1])
        if s.family == "spike" and s.noise == "gaussian":
            a = s.anomalies[0]
            before = s.values[a - 40:a - 1]
            assert s.values[a] > np.median(before) + 3 * np.std(before)


def test_windowed_gaussian_baseline_is_causal_and_flags_an_outlier() -> None:
    s = corpus("train", per_family=1, families=("spike",))[0]
    scores = ab.windowed_gaussian(s)
    assert scores[0] == 0.0 and np.all((scores >= 0) & (scores <= 1))
    changed = s.values.copy()
    changed[300:] += 1e6
    s2 = type(s)(s.name, s.family, s.noise, s.interval, s.timestamps, changed, s.anomalies)
    assert np.array_equal(ab.windowed_gaussian(s2)[:300], scores[:300])
    assert ab.windowed_gaussian(s2)[300] > 0.999


def test_our_detector_beats_windowed_gaussian_on_a_test_subset() -> None:
    reports = {r.name: r for r in ab.run(per_family_count=3)}
    ours, baseline = reports["kafka-detective"], reports["windowed-gaussian"]
    assert ours.test_fixed.score > baseline.test_fixed.score
    assert ours.test_swept.score > baseline.test_swept.score
