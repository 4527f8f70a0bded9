"""Sharding benchmark: what one process of a sharded exporter costs, next to one unsharded process.

Grows a real local broker as bench/collection_cycle.py does (topics of 10 partitions; groups committed on one
topic each, group g on topic g mod topics), then measures the unsharded exporter and each shard of
`--shards`, one process at a time (as if each ran on its own machine): cycle and phase medians, Kafka requests
per cycle, series on its page and peak RSS.

Usage: python bench/sharding.py [--groups 1000] [--partitions 5000] [--shards 3] [--cycles 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collection_cycle import Cluster, measure, progress
from kafka_detective_tools.sandbox.local_kafka import LocalKafka


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=5000)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--json", help="write the results as JSON")
    args = parser.parse_args()
    results = []
    progress(f"starting a local Kafka broker ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    with LocalKafka(brokers=1, heap="2g", broker_overrides={"num.io.threads": 4}) as kafka:
        Cluster(kafka).grow(args.groups, args.partitions)
        runs = [("unsharded", "")] + [
            (f"shard {i} of {args.shards}", f"sharding: {{shard: {i}, total_shards: {args.shards}}}\n")
            for i in range(args.shards)]
        for name, extra in runs:
            progress(f"measuring {name} (load {os.getloadavg()[0]:.1f})")
            result = {"process": name, "load_at_start": os.getloadavg()[0],
                      **measure(kafka, args.cycles, args.interval, extra)}
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    print(f"cores: {os.cpu_count()}; {args.groups} groups over {args.partitions} partitions, 1 broker")
    print("| process | series | cycle (median) | CPU/cycle | offsets | groups | signals | analysis | render | "
          "requests/cycle | peak RSS | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        phase = r["phase_median_seconds"]
        cpu = r.get("cpu_seconds_per_cycle")   # process CPU per cycle, when collection_cycle.measure records it
        print(f"| {r['process']} | {r['series']:,} | {r['cycle_median_seconds']:.2f} s | "
              + (f"{cpu:.2f} s" if cpu is not None else "-") + " | "
              + " | ".join(f"{phase.get(p, 0.0):.2f} s" for p in ("offsets", "groups", "signals", "analysis",
                                                                     "render"))
              + f" | {r['requests_per_cycle_total']:.0f} | {r['peak_rss_mb']:.0f} MB | {r['load_at_start']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"cores": os.cpu_count(), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
