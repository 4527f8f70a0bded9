"""`kafka-detective anomalies`: streaming anomaly scores of a `timestamp,value` CSV."""

from __future__ import annotations

import argparse
import csv
import io
import math

from kafka_detective.errors import UserError

NAME = "anomalies"
HELP = "Score a timestamp,value CSV with the exporter's streaming anomaly detector (writes timestamp,value," \
       "anomaly_score)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", metavar="IN", help="input CSV: timestamp,value rows (unix seconds; an optional "
                        "header line); required unless --benchmark")
    parser.add_argument("--out", metavar="OUT", help="output CSV: timestamp,value,anomaly_score; required unless "
                        "--benchmark")
    parser.add_argument("--signal", default=None,
                        help="use the online engine's detector settings of an exporter signal (produce_rate, "
                        "consume_rate, lag, lag_seconds, rebalances); default: the general-stream detector")
    bench = parser.add_argument_group("benchmark (NAB-style score on the labelled shape corpus)")
    bench.add_argument("--benchmark", action="store_true",
                       help="score the general detector, the online engine's detector and a windowed-Gaussian "
                       "baseline on the train and test splits of the shape corpus, NAB-style (standard profile)")
    bench.add_argument("--seed", type=int, default=12, help="corpus seed (default 12)")
    bench.add_argument("--seeds", metavar="LIST", help="comma-separated corpus seeds: one line per seed and the "
                       "means (15,16,17,18,19: the held-out figures of docs/analytics.md)")
    bench.add_argument("--per-family", type=int, default=None, metavar="N",
                       help="streams per family and split (default 10)")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.add_argument("--plot", metavar="PNG", help="also plot a few test streams with scores and windows")


def read_series(path: str) -> tuple[list[float], list[float]]:
    from kafka_detective.yamlio import read_text

    timestamps: list[float] = []
    values: list[float] = []
    # Read whole (bytes, then UTF-8) so a bad byte is reported with its line instead of a traceback mid-loop.
    text = read_text(path)
    for lineno, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
        if not row or all(not c.strip() for c in row):
            continue
        if lineno == 1 and row[0].strip().lower() in ("timestamp", "time", "ts"):
            continue
        if len(row) < 2:
            raise UserError(f"{path}:{lineno}: expected timestamp,value, got {','.join(row)!r}")
        try:
            t = float(row[0])
            v = float(row[1])
        except ValueError:
            raise UserError(f"{path}:{lineno}: not a number in {','.join(row)!r}") from None
        if not (math.isfinite(t) and math.isfinite(v)):
            raise UserError(f"{path}:{lineno}: timestamp and value must be finite numbers")
        if timestamps and t <= timestamps[-1]:
            raise UserError(f"{path}:{lineno}: timestamp {row[0]} is not after the previous one")
        timestamps.append(t)
        values.append(v)
    return timestamps, values


def run_benchmark(args: argparse.Namespace) -> int:
    import json

    from kafka_detective_tools.scenarios import anomaly_benchmark as ab

    if args.per_family is not None and args.per_family < 1:
        raise UserError("--per-family must be at least 1")
    if args.seeds is not None:
        try:
            seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
        except ValueError:
            raise UserError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
        if not seeds:
            raise UserError("--seeds must name at least one seed")
        print(ab.format_many(ab.run_many(seeds, per_family_count=args.per_family)))
        return 0
    reports = ab.run(seed=args.seed, per_family_count=args.per_family)
    print(ab.format_reports(reports))
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(ab.to_json(reports), handle, indent=2)
        except OSError as error:
            raise UserError(f"cannot write {args.json}: {error.strerror}") from None
    if args.plot:
        try:
            ab.plot(args.plot, reports, seed=args.seed, per_family_count=args.per_family)
        except OSError as error:
            raise UserError(f"cannot write {args.plot}: {error.strerror}") from None
    return 0


def run(args: argparse.Namespace) -> int:
    from kafka_detective.analysis.anomaly import SIGNAL_SETTINGS, SignalDetector, StreamDetector

    if args.signal is not None and args.signal not in SIGNAL_SETTINGS:
        raise UserError(f"--signal must be one of {', '.join(SIGNAL_SETTINGS)}")
    if args.benchmark:
        return run_benchmark(args)
    for flag, value in (("--csv", args.csv), ("--out", args.out)):
        if not value:
            raise UserError(f"{flag} is required (or use --benchmark)")
    timestamps, values = read_series(args.csv)
    # the online engine's per-signal settings (Kafka floors, sustained scores) on request; otherwise the
    # general-stream detector, calibrated on each stream (see docs/analytics.md)
    detector = SignalDetector.for_signal(args.signal) if args.signal else StreamDetector()
    try:
        out = open(args.out, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise UserError(f"cannot write {args.out}: {error.strerror}") from None
    with out:
        writer = csv.writer(out)
        writer.writerow(["timestamp", "value", "anomaly_score"])
        for t, v in zip(timestamps, values, strict=True):
            writer.writerow([repr(t) if t != int(t) else int(t), repr(v) if v != int(v) else int(v),
                             f"{detector.update(t, v):.6f}"])
    return 0
