"""`kafka-detective evaluate`: replay scenario traces through the online analytics and score them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

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
    parser.add_argument("--compare-rules", metavar="FILE",
                        help="with --prometheus on a directory of traces: also run this rule file's alerts (e.g. the "
                        "rules before a change) in the same Prometheus, reported as <alert>_before")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    from kafka_detective.commands._argtypes import positive_int

    parser.add_argument("--prometheus-sample", type=positive_int, default=16, metavar="N",
                        help="scenario families (a DIR with train/ and test/): run the rules on a real Prometheus "
                        "over the first N scenarios of each split, every family in turn (default: %(default)s)")
    parser.add_argument("--forecasts", action="store_true",
                        help="also report the lag forecast per trace (MAE vs least squares and persistence, interval "
                        "coverage) and the predictive alerts' lead time per breach kind (scenarios/forecast_eval.py)")
    parser.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                        help="scenario families: evaluate the train and test splits in parallel processes")


def run(args: argparse.Namespace) -> int:
    from kafka_detective.commands._argtypes import check_output_file
    from kafka_detective_tools.scenarios.evaluate import (
        evaluate,
        evaluate_splits,
        format_report,
        format_split_report,
        split_dirs,
    )

    if args.json:
        check_output_file(args.json, "--json")
    splits = split_dirs(args.scenarios)
    if args.compare_rules:
        from kafka_detective.errors import UserError

        if not args.prometheus:
            raise UserError("--compare-rules needs --prometheus")
        if not Path(args.compare_rules).is_file():
            raise UserError(f"--compare-rules {args.compare_rules}: no such rule file")
        if splits:
            raise UserError(f"--compare-rules: {args.scenarios} holds scenario families (train/, test/); give it one "
                            "directory of traces, e.g. the split's own")
    if splits:         # scenario families: train and test side by side
        result = evaluate_splits(args.scenarios, progress=not args.quiet, prometheus=args.prometheus,
                                 rules=args.rules, prometheus_sample=args.prometheus_sample, jobs=args.jobs,
                                 forecasts=args.forecasts)
        print(format_split_report(result))
    else:
        result = evaluate(args.scenarios, progress=not args.quiet, forecasts=args.forecasts)
        replays = result.pop("_replays")
        if args.prometheus:
            from kafka_detective_tools.scenarios.promeval import evaluate_rules

            result["prometheus"] = evaluate_rules(args.scenarios, args.rules, replays, progress=not args.quiet,
                                                  compare_rules=args.compare_rules)
        print(format_report(result))
    if args.forecasts:
        _forecasts(result)
    if args.json:
        _write_json(args.json, result)
    return 0


def _write_json(path: str, data: dict) -> None:
    from kafka_detective.errors import UserError

    try:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=False, default=str)
            out.write("\n")
    except OSError as error:
        raise UserError(f"--json {path}: cannot write: {error.strerror or error}") from None


def _forecasts(result: dict) -> None:
    """Print the forecast figures the evaluation computed, per split (test first: the headline), and gather them
    under one "forecasts" key of the JSON ("all" for a directory without splits)."""
    from kafka_detective_tools.scenarios.forecast_eval import format_forecast_report

    if "splits" in result:
        per_split = {split: part["summary"].pop("forecasts") for split, part in result["splits"].items()}
    else:
        per_split = {"": result.pop("forecasts")}
    result["forecasts"] = {}
    for split in sorted(per_split, key=lambda name: name != "test"):
        result["forecasts"][split or "all"] = per_split[split]
        print()
        print(format_forecast_report(per_split[split], f"{split} split" if split else ""))
