"""`kafka-detective correlate`: which signals move with a consumer group's lag."""

from __future__ import annotations

import argparse
import json

from kafka_detective.commands._argtypes import float_between, non_negative_int, positive_int

NAME = "correlate"
HELP = "correlate a consumer group's lag growth with produce/consume rates, rebalances, CPU, brokers ..."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kafka_detective_tools.investigation.sources import add_source_arguments

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
    parser.add_argument("--lead-ranking", action="store_true",
                        help="rank every group, topic and broker series of the cluster by when it started to move "
                        "(change-point onset): which signal moved first. --group is not needed")
    parser.add_argument("--top", type=positive_int, default=25, metavar="N",
                        help="with --lead-ranking: show the first N series that moved (default: %(default)s)")
    for action in parser._actions:      # --group is required for the per-group report only
        if action.dest == "group":
            action.required = False
            action.help = "consumer group (required unless --lead-ranking)"


def run(args: argparse.Namespace) -> int:
    from kafka_detective.errors import UserError
    from kafka_detective_tools.investigation.correlate import correlate, format_table
    from kafka_detective_tools.investigation.sources import load_history

    if args.lead_ranking:
        return _lead_ranking(args)
    if not args.group:
        raise UserError("--group is required (or use --lead-ranking for the whole cluster)")
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


def _lead_ranking(args: argparse.Namespace) -> int:
    from kafka_detective.durations import parse_duration
    from kafka_detective.errors import UserError
    from kafka_detective.prometheus_api import Prometheus
    from kafka_detective_tools.investigation.correlate import (
        format_lead_ranking,
        lead_ranking_series,
        lead_series_from_prometheus,
        lead_series_from_trace,
    )
    from kafka_detective_tools.investigation.sources import auto_step, parse_time

    since = parse_duration(args.since) if args.since else None
    if args.trace:
        from kafka_detective_tools.scenarios.trace import load_trace

        trace = load_trace(args.trace)
        end = parse_time(args.until) if args.until else None
        last = max((ti for s in trace.series for ti in s.timestamps[-1:]), default=0.0)
        stop = end if end is not None else last
        cluster, series = lead_series_from_trace(trace, args.cluster, stop - since if since else None, end)
    else:
        end = parse_time(args.until)
        start = end - (since or 6 * 3600.0)
        step = parse_duration(args.step) if args.step else auto_step(start, end)
        prom = Prometheus(args.prometheus, timeout=args.timeout)
        cluster, series = lead_series_from_prometheus(prom, args.cluster, start, end, step)
    if not series:
        raise UserError("no series of the cluster in the range (check --cluster and --since)")
    ranking = lead_ranking_series(cluster, series)
    if args.json:
        print(json.dumps(ranking.to_dict(), indent=2, default=str))
        return 0
    moved = ranking.moved()
    print(f"Which signal moved first: cluster={cluster}, {len(ranking.rows)} series, step {ranking.step_seconds:g}s")
    print()
    print(format_lead_ranking(ranking, args.top))
    print()
    if moved:
        firsts = [r.series for r in moved if r.rank == 1]
        print("First to move: " + ", ".join(firsts))
    else:
        print("No series changed lastingly against its own baseline in the range.")
    print()
    print("Method: " + ranking.explanation)
    return 0
