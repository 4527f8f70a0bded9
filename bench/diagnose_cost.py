"""Benchmark of one root-cause diagnosis: wall time of diagnose() on a long history of a growing lag.

    python bench/diagnose_cost.py [--samples 400] [--calls 200]

The online analytics diagnoses at most `diagnoses_per_cycle` subjects per collection cycle, so the cost of one
call bounds what a cycle spends on root cause. A unit test used to assert this under a fixed time budget; that
fails on a loaded machine, so the figure is measured here (median and p90, with the load average) instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from kafka_detective.analysis.rootcause import diagnose

# the synthetic histories the root-cause unit tests use (tests/synthetic.py): the same storm the old timed test ran
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from synthetic import scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=400, help="history length (default 400)")
    ap.add_argument("--calls", type=int, default=200, help="diagnose() calls timed (default 200)")
    args = ap.parse_args()
    history = scenario("rebalance_storm", n=args.samples, onset=args.samples * 3 // 4).samples()
    cause = diagnose(history).cause
    times = []
    for _ in range(args.calls):
        started = time.perf_counter()
        diagnose(history)
        times.append((time.perf_counter() - started) * 1000.0)
    times.sort()
    print(f"diagnose() on {args.samples} samples ({cause}): median {statistics.median(times):.2f} ms, "
          f"p90 {times[int(0.9 * (len(times) - 1))]:.2f} ms over {args.calls} calls; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
