"""`kafka-detective simulate`: write the scenario library's traces and ground truth."""

from __future__ import annotations

import argparse
import sys

NAME = "simulate"
HELP = "Generate deterministic scenario traces (OpenMetrics) with ground truth (<name>.truth.yaml)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", help="directory to write <name>.om and <name>.truth.yaml "
                        "into (required unless --list)")
    parser.add_argument("--scenario", action="append", metavar="NAME",
                        help="scenario to generate (repeatable; default: all). --list shows the names")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")


def run(args: argparse.Namespace) -> int:
    from kafka_detective.commands._argtypes import check_output_dir
    from kafka_detective.errors import UserError
    from kafka_detective.scenarios import simulator

    if args.list:
        for name in simulator.scenario_names():
            print(f"{name:28} {simulator.build(name).description}")
        return 0
    if not args.out:
        raise UserError("--out DIR is required (or --list)")
    names = args.scenario or simulator.scenario_names()
    for name in names:
        simulator.build(name)          # unknown names fail before anything is written
    check_output_dir(args.out, "--out")
    for i, name in enumerate(names, 1):
        try:
            trace, truth = simulator.generate(name, args.out)
        except OSError as error:
            raise UserError(f"--out {args.out}: cannot write {name}: {error.strerror or error}") from None
        print(f"[{i}/{len(names)}] {trace} {truth.name}", file=sys.stderr, flush=True)
    return 0
