"""Cost per point of the streaming anomaly detectors (pure Python).

    python bench/anomaly_speed.py [--points 200000] [--repeats 5]

Feeds a noisy stream with a daily pattern, spikes and level shifts (the detectors' busy paths run too) through
`StreamDetector` (general streams, the `anomalies` command) and `SignalDetector` (the online engine's per-signal
detector) and reports the median CPU time per point over `--repeats` runs. Target: < 50 µs per point.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

from kafka_detective.analysis.anomaly import SignalDetector, StreamDetector


def stream(n: int, seed: int = 1) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    ts, vs = [], []
    level = 100.0
    for i in range(n):
        t = 1_790_000_000.0 + 60.0 * i
        if rng.random() < 0.001:
            level += rng.choice((-30.0, 30.0))
        v = level + 20.0 * math.sin(2 * math.pi * (t % 86400.0) / 86400.0) + rng.gauss(0.0, 3.0)
        if rng.random() < 0.002:
            v += rng.choice((-40.0, 40.0))
        ts.append(t)
        vs.append(v)
    return ts, vs


def per_point(factory, ts: list[float], vs: list[float], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        det = factory()
        update = det.update
        start = time.process_time()
        for t, v in zip(ts, vs, strict=True):
            update(t, v)
        runs.append((time.process_time() - start) / len(ts))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ts, vs = stream(args.points)
    for name, factory in (("StreamDetector (anomalies command)", StreamDetector),
                          ("SignalDetector (online engine, produce_rate)",
                           lambda: SignalDetector.for_signal("produce_rate"))):
        us = per_point(factory, ts, vs, args.repeats) * 1e6
        print(f"{name:<46} {us:6.2f} µs/point CPU (median of {args.repeats} x {args.points} points)")


if __name__ == "__main__":
    main()
