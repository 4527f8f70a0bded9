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
    parser.add_argument("--csv", required=True, metavar="IN", help="input CSV: timestamp,value rows (unix "
                        "seconds; an optional header line)")
    parser.add_argument("--out", required=True, metavar="OUT", help="output CSV: timestamp,value,anomaly_score")
    parser.add_argument("--signal", default=None,
                        help="use the detector settings of an exporter signal (produce_rate, consume_rate, lag, "
                        "lag_seconds, rebalances); default: generic two-sided")


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


def run(args: argparse.Namespace) -> int:
    from kafka_detective.analysis.anomaly import SIGNAL_SETTINGS, SignalDetector

    if args.signal is not None and args.signal not in SIGNAL_SETTINGS:
        raise UserError(f"--signal must be one of {', '.join(SIGNAL_SETTINGS)}")
    timestamps, values = read_series(args.csv)
    if args.signal:
        detector = SignalDetector.for_signal(args.signal)
    else:
        detector = SignalDetector(direction="both", abs_floor=1e-6, rel_floor=0.01, seasonal=True)
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
