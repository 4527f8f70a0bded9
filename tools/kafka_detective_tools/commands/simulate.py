"""`kafka-detective simulate`: write the scenario library's traces and ground truth."""

from __future__ import annotations

import argparse
import sys
from typing import Any

NAME = "simulate"
HELP = "Generate deterministic scenario traces (OpenMetrics) with ground truth (<name>.truth.yaml)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", help="directory to write <name>.om and <name>.truth.yaml "
                        "into (required unless --list)")
    parser.add_argument("--scenario", action="append", metavar="NAME",
                        help="scenario to generate (repeatable; default: all). --list shows the names")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    from kafka_detective.commands._argtypes import positive_int

    parser.add_argument("--families", action="store_true",
                        help="write randomised scenario families instead of the hand-written case studies: "
                        "OUT/<split>/ (<name>.om.gz, <name>.truth.yaml) and OUT/families.json")
    parser.add_argument("--split", choices=("train", "validation", "test", "both"), default="both",
                        help="with --families: which split to write (default: %(default)s)")
    parser.add_argument("--count", type=positive_int, default=256, metavar="N",
                        help="with --families: scenarios per split, the families in turn (default: %(default)s)")
    parser.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                        help="with --families: simulate N scenarios in parallel (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from kafka_detective.commands._argtypes import check_output_dir
    from kafka_detective.errors import UserError
    from kafka_detective_tools.scenarios import simulator

    if args.list:
        for name in simulator.scenario_names():
            print(f"{name:28} {simulator.build(name).description}")
        return 0
    if not args.out:
        raise UserError("--out DIR is required (or --list)")
    if args.families:
        if args.scenario:
            raise UserError("--scenario names a case study; it cannot be combined with --families")
        check_output_dir(args.out, "--out")
        return _families(args)
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


def _generate_one(item: tuple[str, str, int, str]) -> str:
    from kafka_detective_tools.scenarios import families

    split, family, index, out = item
    trace, _ = families.generate(families.sample(split, family, index), out)
    return trace.name


def _families(args: argparse.Namespace) -> int:
    import contextlib
    import json
    import time
    from concurrent.futures import ProcessPoolExecutor
    from dataclasses import asdict
    from pathlib import Path

    from kafka_detective.errors import UserError
    from kafka_detective_tools.scenarios import families

    splits = ("train", "test") if args.split == "both" else (args.split,)
    out = Path(args.out)
    manifest_path = out / "families.json"
    manifest: dict[str, Any] = {"split_fixed_on": families.SPLIT_FIXED_ON, "splits": {}, "scenarios": {}}
    if manifest_path.exists():                 # writing one split keeps what the other one recorded
        with contextlib.suppress(OSError, ValueError):
            manifest.update(json.loads(manifest_path.read_text(encoding="utf-8")))
    items = []
    for split in splits:
        plan = families.plan(split, args.count)
        manifest["splits"][split] = asdict(families.SPLITS[split])
        manifest["scenarios"][split] = [families.params_dict(p) for p in plan]
        items += [(split, p.family, p.index, str(out / split)) for p in plan]
    started = time.monotonic()
    try:
        if args.jobs > 1:
            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                results = pool.map(_generate_one, items, chunksize=4)
                for i, name in enumerate(results, 1):
                    _progress(i, len(items), name, started)
        else:
            for i, item in enumerate(items, 1):
                _progress(i, len(items), _generate_one(item), started)
        manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    except OSError as error:
        raise UserError(f"--out {args.out}: cannot write: {error.strerror or error}") from None
    print(f"{len(items)} scenarios in {time.monotonic() - started:.0f} s: {', '.join(str(out / s) for s in splits)}",
          file=sys.stderr, flush=True)
    return 0


def _progress(i: int, n: int, name: str, started: float) -> None:
    import time

    elapsed = time.monotonic() - started
    eta = elapsed / i * (n - i)
    print(f"[{i}/{n}] {name}  ({elapsed:.0f} s, about {eta:.0f} s left)", file=sys.stderr, flush=True)
