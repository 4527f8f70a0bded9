"""`kafka-detective generate`: pattern library → alert rules, runbooks, promtool tests, dashboards, docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "generate"
HELP = ("generate alert rules, runbooks, promtool tests, dashboards, the Alertmanager example and docs/metrics.md "
        "from patterns/")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory and exit 1 listing every file that would change, appear or "
                             "disappear")
    parser.add_argument("--config-override", type=Path, metavar="FILE",
                        help="YAML with `_config:` keys overriding patterns/config.yaml (thresholds, durations)")
    parser.add_argument("--output-dir", type=Path, metavar="DIR",
                        help="write (or check) the artefacts under DIR instead of the repository")
    parser.add_argument("--root", type=Path, metavar="DIR",
                        help="repository root holding patterns/ (default: $KAFKA_DETECTIVE_ROOT, else the "
                             "nearest parent of the current directory holding patterns/config.yaml)")


def run(args: argparse.Namespace) -> int:
    from kafka_detective_tools.patterns import generator
    from kafka_detective_tools.patterns.loader import load_library
    from kafka_detective_tools.repo import find_root

    root = find_root(args.root)
    library = load_library(root, args.config_override)
    outputs = generator.build_outputs(library)
    target = args.output_dir.resolve() if args.output_dir else root
    for note in outputs.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.check:
        problems = generator.diff(outputs, target)
        if problems:
            print(f"generated files are stale ({len(problems)}); run `make generate`:", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            return 1
        print(f"generated files are up to date ({len(outputs.files)} files, {len(library.patterns)} alerts)")
        return 0
    written, removed = generator.write(outputs, target)
    for rel in written:
        print(f"wrote   {rel}")
    for rel in removed:
        print(f"removed {rel}")
    print(f"{len(library.patterns)} alerts, {len(library.recording_rules)} recording rules, "
          f"{len(outputs.files)} files ({len(written)} written, {len(removed)} removed)")
    return 0
