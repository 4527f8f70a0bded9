"""`kafka-detective evaluate`: replay scenario traces through the online analytics and score them."""

from __future__ import annotations

import argparse
import json

NAME = "evaluate"
HELP = ("Replay scenario traces through the online analytics: root-cause accuracy, forecast error vs baselines, "
        "predictive lead time, detection delay, false alerts, per-pattern precision/recall.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenarios", required=True, metavar="DIR",
                        help="directory of <name>.om traces with <name>.truth.yaml (kafka-detective simulate)")
    parser.add_argument("--json", metavar="OUT", help="also write the full results as JSON")
    parser.add_argument("--prometheus", action="store_true",
                        help="also evaluate the alert rules with a real Prometheus (promtool + prometheus)")
    parser.add_argument("--rules", default="alert-rules/prometheus-rules.yaml", metavar="FILE",
                        help="rule file for --prometheus (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    from kafka_detective.commands._argtypes import check_output_file
    from kafka_detective.errors import UserError
    from kafka_detective.scenarios.evaluate import evaluate, format_report

    if args.json:
        check_output_file(args.json, "--json")
    summary = evaluate(args.scenarios, progress=not args.quiet)
    replays = summary.pop("_replays")
    if args.prometheus:
        from kafka_detective.scenarios.promeval import evaluate_rules

        summary["prometheus"] = evaluate_rules(args.scenarios, args.rules, replays, progress=not args.quiet)
    print(format_report(summary))
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(summary, out, indent=2, sort_keys=False, default=str)
                out.write("\n")
        except OSError as error:
            raise UserError(f"--json {args.json}: cannot write: {error.strerror or error}") from None
    return 0
