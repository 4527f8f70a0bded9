"""`kafka-detective correlate`: which signals move with a consumer group's lag."""

from __future__ import annotations

import argparse
import json

from kafka_detective.commands._argtypes import float_between, non_negative_int

NAME = "correlate"
HELP = "correlate a consumer group's lag growth with produce/consume rates, rebalances, CPU, brokers ..."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kafka_detective.analysis.sources import add_source_arguments

    add_source_arguments(parser)
    parser.add_argument("--alpha", type=float_between(0, 1), default=0.05,
                        help="false discovery rate / significance (0.05)")
    parser.add_argument("--correction", choices=("bh", "holm"), default="bh",
                        help="multiple-testing correction: Benjamini-Hochberg (default) or Holm")
    parser.add_argument("--max-shift", type=non_negative_int, default=None,
                        help="largest lead/lag tried, in steps (default: n/10, at most 10)")
    parser.add_argument("--difference-gauges", action="store_true",
                        help="difference gauges (CPU, members, disk) too, instead of using their levels")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from kafka_detective.analysis.correlate import correlate, format_table
    from kafka_detective.analysis.sources import load_history
    from kafka_detective.errors import UserError

    if not 0 < args.alpha < 1:
        raise UserError("--alpha must be between 0 and 1")
    subject, history = load_history(args)
    report = correlate(history, alpha=args.alpha, max_shift=args.max_shift, correction=args.correction,
                       difference_gauges=args.difference_gauges)
    if args.json:
        print(json.dumps({"cluster": subject.cluster, "consumergroup": subject.group, "topic": subject.topic,
                          **report.to_dict()}, indent=2, default=str))
        return 0
    print(f"Lag correlation: cluster={subject.cluster} group={subject.group} topic={subject.topic}")
    print(f"target: {report.target}; {report.n} steps of {report.step_seconds:g}s; "
          f"{report.correction} at {report.alpha:g}; shifts ±{report.max_shift} steps")
    print()
    print(format_table(report))
    print()
    significant = report.significant()
    if significant:
        print("Significant:")
        for r in significant:
            print(f"- {r.signal}: r={r.lead_r:+.2f} (lead {r.lead_steps:+d} steps), p_adj={r.p_adjusted:.3g}: "
                  f"{r.interpretation}")
    else:
        print("No signal is significantly correlated with the lag growth after correction.")
    print()
    print("Method: " + report.explanation)
    return 0
