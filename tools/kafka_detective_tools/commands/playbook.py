"""`kafka-detective playbook`: investigation playbooks as PromQL, with Grafana links and live answers."""

from __future__ import annotations

import argparse

from kafka_detective.commands._argtypes import positive_float

NAME = "playbook"
HELP = "print an investigation playbook (PromQL per step, Grafana Explore links; answers with --prometheus)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=("lag-spike",), help="the playbook")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True, help="consumer group")
    parser.add_argument("--cluster", default=None, help="cluster label (default: any)")
    parser.add_argument("--since", default="6h", help="range looked at, e.g. 30m, 6h, 2d (default 6h)")
    parser.add_argument("--until", default=None, help="evaluate at this time (unix or RFC 3339; default now)")
    parser.add_argument("--prometheus", metavar="URL", help="run the queries against this Prometheus")
    parser.add_argument("--grafana-url", metavar="URL", help="Grafana base URL for Explore links")
    parser.add_argument("--grafana-datasource", default="prometheus", help="Explore data source uid or name")
    parser.add_argument("--cpu-query", default=None, help="PromQL for the consumers' CPU utilisation 0-1")
    parser.add_argument("--memory-query", default=None, help="PromQL for the consumers' memory utilisation 0-1")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--rules", action="store_true",
                        help="print the queries as a Prometheus rule file (for promtool check rules)")
    parser.add_argument("--timeout", type=positive_float, default=30.0, help="HTTP timeout in seconds (default 30)")


def run(args: argparse.Namespace) -> int:
    from kafka_detective.durations import format_duration, parse_duration
    from kafka_detective_tools.investigation import playbook
    from kafka_detective_tools.investigation.sources import parse_time

    since = format_duration(parse_duration(args.since))
    steps = playbook.lag_spike_playbook(args.topic, args.group, args.cluster, since, args.cpu_query,
                                        args.memory_query)
    if args.rules:
        print(playbook.rule_file(steps), end="")
        return 0
    at = parse_time(args.until) if args.until else None
    if args.prometheus:
        playbook.execute(steps, args.prometheus, at=at, timeout=args.timeout)
    who = f"group {args.group} on topic {args.topic}" + (f" (cluster {args.cluster})" if args.cluster else "")
    header = (f"# Lag spike investigation: {who}, last {since}" if args.format == "markdown"
              else f"Lag spike investigation: {who}, last {since}\n" + "=" * 60)
    print(playbook.render(steps, args.grafana_url, since, args.format == "markdown", args.grafana_datasource,
                          header, at))
    if not args.prometheus:
        print("Run with --prometheus URL to execute the queries.")
    return 0
