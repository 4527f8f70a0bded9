"""Benchmark of the exporter's online analytics: time per observe() of N group/topic samples and memory.

    python bench/analytics_online.py [--subjects 10000] [--cycles 60] [--interval 15]

Feeds `--cycles` collection cycles of `--subjects` synthetic group/topic samples (noisy counters, a few percent
of the subjects with a growing lag so the root-cause path runs too) and reports the median wall time of one
observe() + results(), the share of a collection interval it takes, and the memory per subject (tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
import tracemalloc

from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.signals.samples import GroupTopicSample


def make_cycle(n: int, k: int, interval: float, rng: random.Random, state: list[list[float]]) -> list:
    t = 1_790_000_000.0 + k * interval
    out = []
    for i in range(n):
        st = state[i]
        rate = st[2] * (1.0 + rng.gauss(0.0, 0.05))
        st[0] += rate * interval
        problem = i % 50 == 0 and k > 20
        consumed = (0.5 if problem else 1.0) * rate * interval
        st[1] = min(st[0], st[1] + consumed)
        lag = int(st[0] - st[1])
        out.append(GroupTopicSample(
            cluster="c", group=f"g{i}", topic=f"t{i % 997}", timestamp=t, lag=lag, log_end_offset=int(st[0]),
            committed_offset=int(st[1]), lag_seconds=lag / max(rate, 1e-9), members=3, state="Stable",
            rebalances_total=0, lost_messages_total=0, retention_seconds=604800.0, leader_changes_total=0,
            under_replicated_partitions=0, offline_partitions=0))
    return out


def timing(subjects: int, cycles: int, interval: float) -> tuple[list[float], list[float], int]:
    rng = random.Random(1)
    state = [[1e6, 1e6, rng.uniform(1, 500)] for _ in range(subjects)]
    engine = OnlineAnalytics()
    times, cpu = [], []
    diagnosed = 0
    for k in range(cycles):
        samples = make_cycle(subjects, k, interval, rng, state)
        t0, c0 = time.perf_counter(), time.process_time()
        engine.observe(samples)
        results = engine.results()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        diagnosed = sum(1 for r in results if r.diagnosis is not None)
    return times, cpu, diagnosed


def memory(subjects: int, cycles: int, interval: float) -> float:
    """Bytes per subject once every bounded buffer is full (history, anomaly windows, profiles)."""
    rng = random.Random(2)
    state = [[1e6, 1e6, rng.uniform(1, 500)] for _ in range(subjects)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    engine = OnlineAnalytics()
    for k in range(cycles):
        engine.observe(make_cycle(subjects, k, interval, rng, state))
    engine.results()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / subjects


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=10_000)
    ap.add_argument("--cycles", type=int, default=60)
    ap.add_argument("--interval", type=float, default=15.0)
    ap.add_argument("--memory-subjects", type=int, default=200)
    ap.add_argument("--memory-hours", type=float, default=2.5, help="long enough to fill every bounded buffer")
    args = ap.parse_args()
    times, cpu, diagnosed = timing(args.subjects, args.cycles, args.interval)
    steady = times[args.cycles // 2:]
    med = statistics.median(steady)
    cpu_med = statistics.median(cpu[args.cycles // 2:])
    print(f"subjects per cycle:          {args.subjects}")
    print(f"cycles:                      {args.cycles} (steady state = last {len(steady)})")
    print(f"median observe()+results():  {med * 1000:.0f} ms  ({med / args.subjects * 1e6:.1f} us per subject)")
    print(f"p90 / max:                   {sorted(steady)[int(0.9 * len(steady))] * 1000:.0f} ms / "
          f"{max(steady) * 1000:.0f} ms")
    print(f"median CPU time (process):   {cpu_med * 1000:.0f} ms  ({cpu_med / args.subjects * 1e6:.1f} us per subject)")
    print(f"share of a {args.interval:.0f} s cycle:        {med / args.interval:.1%} wall, "
          f"{cpu_med / args.interval:.1%} CPU")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"diagnosed subjects (last):   {diagnosed} (2 % of the subjects have a growing lag)")
    per = memory(args.memory_subjects, int(args.memory_hours * 3600 / args.interval), args.interval)
    print(f"memory per subject:          {per / 1024:.1f} KiB after {args.memory_hours} h "
          f"(x {args.subjects} = {per * args.subjects / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
