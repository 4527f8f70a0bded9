"""NAB-style benchmark of streaming anomaly detectors on the labelled shape corpus (offline tool, numpy).

Detectors are compared on the same streams and windows; each gets ONE threshold for a whole split, found by
the NAB sweep. Two test figures are reported: with the threshold chosen on the train split (the honest one:
nothing about the test split was used), and with the test split's own best threshold (how NAB scores a
detector on its corpus).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kafka_detective_tools.scenarios.nab import (
    STANDARD,
    Profile,
    StreamWeights,
    SweepResult,
    anomaly_windows,
    normalised,
    row_weights,
    score_at,
    sweep,
)
from kafka_detective_tools.scenarios.shapes import ShapeStream, corpus

ScoreFn = Callable[[ShapeStream], np.ndarray]


def windowed_gaussian(stream: ShapeStream, window: int = 1000) -> np.ndarray:
    """NAB's windowed Gaussian baseline: the tail probability of each value under a normal distribution fitted
    to the previous `window` values (score = 1 − Q(|z|), so it approaches 1 far from the mean)."""
    x = np.asarray(stream.values, dtype=float)
    n = len(x)
    c1 = np.concatenate(([0.0], np.cumsum(x)))
    c2 = np.concatenate(([0.0], np.cumsum(x * x)))
    idx = np.arange(n)
    lo = np.maximum(0, idx - window)
    count = idx - lo
    safe = np.maximum(count, 1)
    mean = (c1[idx] - c1[lo]) / safe
    var = np.maximum((c2[idx] - c2[lo]) / safe - mean * mean, 0.0)
    std = np.sqrt(var)
    std[std == 0.0] = 1e-6
    z = np.abs(x - mean) / std
    scores = 1.0 - 0.5 * np.array([math.erfc(v / math.sqrt(2.0)) for v in z])
    scores[count == 0] = 0.0
    return scores


def kafka_detective(stream: ShapeStream) -> np.ndarray:
    """The `anomalies` command's detector (general-stream settings)."""
    from kafka_detective.analysis.anomaly import StreamDetector

    det = StreamDetector()
    upd = det.update
    return np.fromiter((upd(t, v) for t, v in zip(stream.timestamps.tolist(), stream.values.tolist(),
                                                  strict=True)), float, len(stream))


def signal_detector(stream: ShapeStream) -> np.ndarray:
    """The online engine's per-signal detector with the generic settings it had before the general detector."""
    from kafka_detective.analysis.anomaly import SignalDetector

    det = SignalDetector(direction="both", abs_floor=1e-6, rel_floor=0.01, seasonal=True)
    return np.fromiter((det.update(t, v) for t, v in zip(stream.timestamps.tolist(), stream.values.tolist(),
                                                         strict=True)), float, len(stream))


DETECTORS: dict[str, ScoreFn] = {
    "kafka-detective": kafka_detective,
    "windowed-gaussian": windowed_gaussian,
    "signal-detector": signal_detector,
}


@dataclass
class DetectorReport:
    name: str
    train: SweepResult
    test_fixed: SweepResult            # test scored at the train threshold
    test_swept: SweepResult            # test with its own best threshold
    families: dict[str, float] = field(default_factory=dict)   # test, train threshold, per family
    families_train: dict[str, float] = field(default_factory=dict)


def weights_of(streams: Sequence[ShapeStream], profile: Profile = STANDARD) -> list[StreamWeights]:
    return [row_weights(len(s), anomaly_windows(len(s), s.anomalies), profile) for s in streams]


def per_family(streams: Sequence[ShapeStream], result: SweepResult) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for s, r in zip(streams, result.streams, strict=True):
        acc = sums.setdefault(s.family, [0.0, 0.0, 0.0])
        acc[0] += r.raw
        acc[1] += r.null
        acc[2] += r.perfect
    out = {}
    for family, (raw, null, perfect) in sums.items():
        # a quiet family has no window: report its false-positive cost instead (0 = none)
        out[family] = normalised(raw, null, perfect) if perfect != null else -raw
    return out


def run(detectors: dict[str, ScoreFn] | None = None, seed: int = 12, per_family_count: int | None = None,
        profile: Profile = STANDARD) -> list[DetectorReport]:
    detectors = DETECTORS if detectors is None else detectors
    train = corpus("train", seed, per_family_count)
    test = corpus("test", seed, per_family_count)
    w_train, w_test = weights_of(train, profile), weights_of(test, profile)
    reports = []
    for name, fn in detectors.items():
        s_train = [fn(s) for s in train]
        s_test = [fn(s) for s in test]
        tr = sweep(list(zip(s_train, w_train, strict=True)), profile)
        fixed = score_at(list(zip(s_test, w_test, strict=True)), tr.threshold, profile)
        swept = sweep(list(zip(s_test, w_test, strict=True)), profile)
        reports.append(DetectorReport(name, tr, fixed, swept, per_family(test, fixed), per_family(train, tr)))
    return reports


def format_reports(reports: Sequence[DetectorReport]) -> str:
    lines = [f"{'detector':<20} {'train':>7} {'test@train-thr':>15} {'test swept':>11} {'threshold':>10} "
             f"{'test windows':>13} {'test FP rows':>13}"]
    for r in reports:
        det = sum(s.detected for s in r.test_fixed.streams)
        win = sum(s.windows for s in r.test_fixed.streams)
        fps = sum(s.false_positives for s in r.test_fixed.streams)
        lines.append(f"{r.name:<20} {r.train.score:7.1f} {r.test_fixed.score:15.1f} {r.test_swept.score:11.1f} "
                     f"{r.train.threshold:10.4f} {f'{det}/{win}':>13} {fps:13d}")
    families = list(reports[0].families) if reports else []
    lines.append("")
    lines.append("per family (test, train threshold; quiet = false-positive cost):")
    lines.append(f"{'family':<16}" + "".join(f" {r.name:>20}" for r in reports))
    for fam in families:
        lines.append(f"{fam:<16}" + "".join(f" {r.families.get(fam, float('nan')):20.1f}" for r in reports))
    return "\n".join(lines)


def to_json(reports: Sequence[DetectorReport]) -> dict:
    def part(r: SweepResult) -> dict:
        return {"score": round(r.score, 2), "threshold": r.threshold if math.isfinite(r.threshold) else None,
                "windows_detected": sum(s.detected for s in r.streams),
                "windows": sum(s.windows for s in r.streams),
                "false_positive_rows": sum(s.false_positives for s in r.streams)}
    return {r.name: {"train": part(r.train), "test_at_train_threshold": part(r.test_fixed),
                     "test_swept": part(r.test_swept),
                     "test_families": {k: round(v, 2) for k, v in r.families.items()},
                     "train_families": {k: round(v, 2) for k, v in r.families_train.items()}}
            for r in reports}


PLOT_FAMILIES = ("spike", "level_shift", "variance_change", "flatline", "seasonal_break")


def plot(path: str, reports: Sequence[DetectorReport], seed: int = 12, per_family_count: int | None = None,
         families: Sequence[str] = PLOT_FAMILIES) -> None:
    """A few test streams: values with the labelled windows (top), each detector's score and its threshold chosen
    on the train split (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    test = corpus("test", seed, per_family_count)
    picked = [next(s for s in test if s.family == f and s.anomalies) for f in families]
    fig, axes = plt.subplots(2 * len(picked), 1, figsize=(11, 2.6 * len(picked)),
                             gridspec_kw={"height_ratios": [2, 1] * len(picked)})
    for k, s in enumerate(picked):
        top, bottom = axes[2 * k], axes[2 * k + 1]
        x = np.arange(len(s))
        top.plot(x, s.values, lw=0.6, color="0.25")
        for lo, hi in anomaly_windows(len(s), s.anomalies):
            for ax in (top, bottom):
                ax.axvspan(lo, hi, color="tab:orange", alpha=0.25, lw=0)
        for a in s.anomalies:
            top.axvline(a, color="tab:red", lw=0.8, ls=":")
        top.set_title(f"{s.name}: {s.noise} noise, {len(s)} points every {s.interval / 60:g} min", fontsize=9)
        top.tick_params(labelsize=7, labelbottom=False)
        for r, color in zip(reports, ("tab:blue", "tab:green", "tab:purple"), strict=False):
            scores = DETECTORS[r.name](s) if r.name in DETECTORS else None
            if scores is None:
                continue
            bottom.plot(x, scores, lw=0.7, color=color, label=r.name)
            if math.isfinite(r.train.threshold):
                bottom.axhline(r.train.threshold, color=color, lw=0.6, ls="--")
        bottom.set_ylim(-0.02, 1.05)
        bottom.tick_params(labelsize=7)
        if k == 0:
            bottom.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def run_many(seeds: Sequence[int], detectors: dict[str, ScoreFn] | None = None,
             per_family_count: int | None = None) -> dict[int, list[DetectorReport]]:
    return {seed: run(detectors, seed, per_family_count) for seed in seeds}


def format_many(results: dict[int, list[DetectorReport]]) -> str:
    """One line per seed and detector (train, test at the train threshold, test swept), then the means and the
    mean per-family test scores."""
    names = [r.name for r in next(iter(results.values()))]
    lines = [f"{'seed':>5} " + "".join(f" {n + ' train/test/swept':>40}" for n in names)]
    for seed, reports in results.items():
        lines.append(f"{seed:>5} " + "".join(
            f" {f'{r.train.score:.1f} / {r.test_fixed.score:.1f} / {r.test_swept.score:.1f}':>40}" for r in reports))
    k = len(results)
    means = []
    for i in range(len(names)):
        rs = [reports[i] for reports in results.values()]
        means.append((sum(r.train.score for r in rs) / k, sum(r.test_fixed.score for r in rs) / k,
                      sum(r.test_swept.score for r in rs) / k))
    lines.append(f"{'mean':>5} " + "".join(f" {f'{a:.1f} / {b:.1f} / {c:.1f}':>40}" for a, b, c in means))
    lines.append("")
    lines.append("mean per family (test, train threshold; quiet = false-positive cost):")
    lines.append(f"{'family':<16}" + "".join(f" {n:>20}" for n in names))
    families = list(next(iter(results.values()))[0].families)
    for fam in families:
        row = []
        for i in range(len(names)):
            row.append(sum(reports[i].families.get(fam, 0.0) for reports in results.values()) / k)
        lines.append(f"{fam:<16}" + "".join(f" {v:20.1f}" for v in row))
    return "\n".join(lines)
