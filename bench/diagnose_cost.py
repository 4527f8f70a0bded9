"""Benchmark of one root-cause diagnosis: wall time of diagnose() on a long history of a growing lag.

    python bench/diagnose_cost.py [--samples 400] [--calls 200]

The online analytics diagnoses at most `diagnoses_per_cycle` subjects per collection cycle, so the cost of one
call bounds what a cycle spends on root cause. A unit test used to assert this under a fixed time budget; that
fails on a loaded machine, so the figure is measured here (median and p90, with the load average) instead.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from kafka_detective.analysis.rootcause import diagnose
from kafka_detective.signals.samples import GroupTopicSample


def storm_history(n: int, onset: int, seed: int = 1, step: float = 15.0) -> list[GroupTopicSample]:
    """A group whose rebalances begin at `onset`: membership churns and the lag builds while it does."""
    rng = random.Random(seed)
    produced = consumed = 0.0
    rebalances = 0
    out = []
    for i in range(n):
        rate = 100.0 * (1.0 + rng.gauss(0.0, 0.05))
        produced += rate * step
        storming = i >= onset
        if storming and i % 3 == 0:
            rebalances += 1
        consumed = min(produced, consumed + rate * step * (0.3 if storming else 1.0))
        lag = int(produced - consumed)
        out.append(GroupTopicSample(
            cluster="c", group="g", topic="t", timestamp=1_790_000_000.0 + i * step, lag=lag,
            log_end_offset=int(produced), committed_offset=int(consumed), lag_seconds=lag / rate,
            members=(2 if storming and i % 3 == 0 else 3), state=("PreparingRebalance" if storming and i % 3 == 0
                                                                  else "Stable"),
            rebalances_total=rebalances, lost_messages_total=0, retention_seconds=604800.0,
            leader_changes_total=0, under_replicated_partitions=0, offline_partitions=0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=400, help="history length (default 400)")
    ap.add_argument("--calls", type=int, default=200, help="diagnose() calls timed (default 200)")
    args = ap.parse_args()
    history = storm_history(args.samples, onset=args.samples * 3 // 4)
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
