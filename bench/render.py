"""Render benchmark without Kafka: the families of one cluster rendered and published, on a synthetic snapshot.

The snapshot has the shape of bench/collection_cycle.py's largest grid point (topics of 10 partitions, each group
committed on the 10 partitions of one topic), so the page has the same series as a real 2,000 x 10,000 cycle.
It times `cluster_families` + `Exposition.publish` (the render phase of a cycle) in CPU seconds, in three modes:
`reused` (as the exporter runs: a family that did not change since the last publish keeps its text and gzip
segment), `full` (`Exposition(reuse=False)`: every family rendered and compressed afresh, with `labelset`'s cache)
and `uncached` (full, and every label set formatted afresh). Each mode runs over `still` cycles (the same snapshot
again, as the collection-cycle benchmark's idle estate gives) and `moving` ones (offsets advancing, so the log-end
offsets, lag seconds and rates change every cycle). `--churn N` follows the size of the label-set cache over N
cycles in which a twentieth of the groups get new names: that it stays near the live sets.

`--sizes 1000x5000,2000x10000,...` measures several estates in one process, their renders alternated round by
round, so the machine's load drifts over every size alike (the curve of CPU against the estate): one result per
size, with the CPU per series that a linear render keeps constant, and the same per item of a control loop with no
exporter code over as many items (what the machine alone makes of the larger working set).

Usage: python bench/render.py [--groups 2000] [--partitions 10000] [--sizes GxP,...] [--cycles 7] [--churn 40]
                              [--json OUT]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from kafka_detective.gathering.snapshot import (
    Broker,
    ClusterState,
    Groups,
    Offsets,
    PartitionState,
    Snapshot,
)
from kafka_detective.kafka.groups import GroupDescription, GroupMember
from kafka_detective.metrics import cluster, groups, lag, offsets
from kafka_detective.metrics import family as family_module
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.metrics.render import cluster_families
from kafka_detective.metrics.view import CollectionStats, View
from kafka_detective.signals.derive import SignalState

PARTITIONS_PER_TOPIC = 10
BROKERS = 3


def snapshot(groups: int, partitions: int, at: float, offset: int) -> Snapshot:
    topics = partitions // PARTITIONS_PER_TOPIC
    brokers = tuple(Broker(b, f"broker-{b}", 9092, None) for b in range(BROKERS))
    states = {}
    for t in range(topics):
        for p in range(PARTITIONS_PER_TOPIC):
            leader = (t + p) % BROKERS
            replicas = (leader, (leader + 1) % BROKERS, (leader + 2) % BROKERS)
            states[(f"bench-{t:05d}", p)] = PartitionState(f"bench-{t:05d}", p, leader, 3, replicas, replicas, ())
    log_end = {key: offset + 100 for key in states}
    log_start = dict.fromkeys(states, 0)
    descriptions, committed = {}, {}
    for g in range(groups):
        name = f"bench-group-{g:05d}"
        topic = f"bench-{g % topics:05d}"
        member = GroupMember(f"{name}-m", "client", "/10.0.0.1",
                             tuple((topic, p) for p in range(PARTITIONS_PER_TOPIC)))
        descriptions[name] = GroupDescription(name, "classic", "consumer", "Stable", "range", g % BROKERS,
                                              (member,), None, None)
        committed[name] = {(topic, p): offset + (g % 5) for p in range(PARTITIONS_PER_TOPIC)}
    return Snapshot("bench", at, state=ClusterState(brokers, 0, states, at), offsets=Offsets(log_end, log_start, at),
                    groups=Groups(descriptions, committed, at))


def views(groups: int, partitions: int, cycles: int) -> list[View]:
    """`cycles` consecutive views (offsets advancing, so rates and lag seconds are filled in)."""
    signals = SignalState()
    stats = CollectionStats(up=True, phase_seconds={}, phase_errors_total={}, cycles_total=1,
                            last_success_timestamp=0.0, requests_total={})
    out = []
    for i in range(cycles + 1):
        snap = snapshot(groups, partitions, 1_000_000.0 + 30 * i, 10 * i)
        out.append(View("bench", snap, signals.derive(snap), stats))
    return out[1:]


def render_seconds(view_list: list[View], reuse: bool) -> list[float]:
    """CPU seconds of each render (process time: the machine is shared, wall time would measure the others)."""
    target = Exposition(reuse=reuse)
    timings = []
    for view in view_list:
        gc.collect()
        started = time.process_time()
        target.publish(view.cluster, cluster_families(view))
        timings.append(time.process_time() - started)
    return timings


def uncached(enabled: bool) -> None:
    """Format every label set afresh (True), or go back to the cached `labelset` (False)."""
    function = family_module.labelset.__wrapped__ if enabled else family_module.labelset
    for module in (cluster, groups, lag, offsets):
        module.labelset = function  # type: ignore[attr-defined]
    family_module.Family.add = _add_uncached if enabled else _add  # type: ignore[method-assign]


_add = family_module.Family.add


def _add_uncached(self: family_module.Family, labels: tuple[str, ...] | str, value: float) -> None:
    if not isinstance(labels, str):
        labels = family_module.labelset.__wrapped__(self.spec.labels, labels)
    self.labels.append(labels)
    self.values.append(value)


def churn(cycles: int, groups_: int, partitions: int, renamed: int) -> dict[str, float]:
    """Cached label sets while `renamed` groups get a new name every cycle (their old label sets die)."""
    family_module.labelset.cache_clear()
    target = Exposition()
    names = [f"bench-group-{g:05d}" for g in range(groups_)]
    base = snapshot(groups_, partitions, 1_000_000.0, 0)
    signals = SignalState()
    stats = CollectionStats(up=True, phase_seconds={}, phase_errors_total={}, cycles_total=1,
                            last_success_timestamp=0.0, requests_total={})
    sizes = []
    for cycle in range(cycles):
        names = names[renamed:] + [f"renamed-{cycle}-{i}" for i in range(renamed)]
        assert base.groups is not None
        old = list(base.groups.descriptions.values())
        descriptions = {n: replace(d, group_id=n) for n, d in zip(names, old, strict=True)}
        committed = {n: c for n, c in zip(names, base.groups.committed.values(), strict=True)}
        snap = replace(base, timestamp=base.timestamp + 30 * cycle,
                       groups=Groups(descriptions, committed, base.timestamp + 30 * cycle))
        target.publish("bench", cluster_families(View("bench", snap, signals.derive(snap), stats)))
        sizes.append(family_module.labelset.cache_info().currsize)
    return {"cycles": cycles, "renamed_per_cycle": renamed, "entries_first": sizes[0], "entries_max": max(sizes),
            "entries_last": sizes[-1]}


MODES = tuple(f"{mode} {kind}" for mode in ("reused", "full", "uncached") for kind in ("still", "moving"))


def size(text: str) -> tuple[int, int]:
    """`GROUPSxPARTITIONS`, e.g. 2000x10000."""
    groups_, partitions = text.lower().split("x")
    return int(groups_), int(partitions)


def measure(estates: dict[tuple[int, int], dict[str, list[View]]], rounds: int) -> dict[tuple[int, int],
                                                                                         dict[str, list[float]]]:
    """CPU seconds of each render, per estate and mode; the estates take turns within every round and mode."""
    timings: dict[tuple[int, int], dict[str, list[float]]] = {e: {name: [] for name in MODES} for e in estates}
    for _ in range(rounds):
        for name in MODES:
            mode, kind = name.split()
            uncached(mode == "uncached")
            for estate, sequences in estates.items():
                family_module.labelset.cache_clear()
                # The first render fills the caches.
                timings[estate][name] += render_seconds(sequences[kind], reuse=mode == "reused")[1:]
    uncached(False)
    return timings


def control(sizes: list[int], rounds: int) -> dict[int, float]:
    """Median ns per item of a loop shaped like the render, without exporter code, over n items per size (the sizes
    alternated): a cached label set looked up with an equal key of fresh strings, as each new snapshot brings, and
    one sample line formatted. Its instructions per item do not depend on n; its time per item shows the memory."""
    names = ("cluster", "topic", "partition")

    def keys(n: int) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        return [(names, ("bench", f"bench-{i // 10:06d}", str(i % 10))) for i in range(n)]

    tables = {n: ({k: ",".join(f'{a}="{v}"' for a, v in zip(*k, strict=True)) for k in keys(n)}, keys(n),
                  [float(i) for i in range(n)]) for n in sizes}
    runs: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(rounds):
        for n, (cache, fresh, values) in tables.items():
            gc.collect()
            started = time.process_time()
            labels = [cache[k] for k in fresh]
            "".join([f"x{{{label}}} {value}\n" for label, value in zip(labels, values, strict=True)])
            runs[n].append((time.process_time() - started) / n * 1e9)
    return {n: statistics.median(r) for n, r in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=10000)
    parser.add_argument("--sizes", type=lambda text: [size(s) for s in text.split(",")],
                        help="several estates, GROUPSxPARTITIONS separated by commas (instead of the two above)")
    parser.add_argument("--cycles", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of cached and uncached rendering")
    parser.add_argument("--churn", type=int, default=0, help="cycles with renamed groups, for the cache size")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    estates = {}
    for groups_, partitions in args.sizes or [(args.groups, args.partitions)]:
        moving = views(groups_, partitions, args.cycles)
        estates[(groups_, partitions)] = {"still": [moving[0]] * args.cycles, "moving": moving}
    # The snapshots live through the whole run: frozen, no collection during a render walks them all (the exporter
    # freezes its setup objects and runs full collections only between cycles, pipeline/garbage.py; its snapshots
    # live one cycle and are not frozen). Young collections are unchanged.
    gc.collect()
    gc.freeze()
    timings = measure(estates, args.rounds)
    results: list[dict[str, object]] = []
    series_counts: list[int] = []
    for (groups_, partitions), sequences in estates.items():
        series = sum(len(f.values) for f in cluster_families(sequences["moving"][0]))
        series_counts.append(series)
        medians = {name: statistics.median(t) for name, t in timings[(groups_, partitions)].items()}
        result: dict[str, object] = {
            "groups": groups_, "partitions": partitions, "series": series, "load_average": os.getloadavg()[0],
            "render_cpu_median_seconds": medians,
            "render_cpu_min_seconds": {name: min(t) for name, t in timings[(groups_, partitions)].items()},
        }
        if args.sizes:
            result["render_cpu_median_ns_per_series"] = {name: round(m / series * 1e9) for name, m in medians.items()}
        if args.churn:
            result["churn"] = churn(args.churn, groups_, partitions, max(1, groups_ // 20))
        results.append(result)
    if args.sizes:
        per_item = control(series_counts, 2 * args.rounds + 1)
        for result, series in zip(results, series_counts, strict=True):
            result["control_ns_per_item"] = round(per_item[series])
    output: object = results[0]
    if args.sizes:
        output = {"cores": os.cpu_count(), "load_average_before": load_before,
                  "load_average_after": os.getloadavg()[0], "cycles": args.cycles, "rounds": args.rounds,
                  "estates": results}
    print(json.dumps(output, indent=1))
    if args.json:
        args.json.write_text(json.dumps(output, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
