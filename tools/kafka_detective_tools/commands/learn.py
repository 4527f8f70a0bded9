"""`kafka-detective learn`: a new pattern (alert + runbook + panel via `generate`) from a labelled incident."""

from __future__ import annotations

import argparse

from kafka_detective.commands._argtypes import positive_float

NAME = "learn"
HELP = "learn a pattern from a labelled incident: signature, alert expression validated by replay"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incident", required=True, metavar="FILE",
                        help="incident YAML: window {start,end}, subject {cluster,consumergroup,topic}, cause, notes")
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--history", metavar="TRACE", help="trace file holding the subject's history")
    src.add_argument("--prometheus", metavar="URL", help="Prometheus base URL to read the history from")
    parser.add_argument("--library-dir", default="patterns", metavar="DIR",
                        help="pattern library; the pattern goes to DIR/learned/<name>.yaml (default: patterns)")
    parser.add_argument("--scope", choices=("subject", "cluster", "all"), default="subject",
                        help="label matchers of the learned expression: the incident's group/topic (default), "
                             "its cluster, or every group")
    parser.add_argument("--before", default="6h", help="history read before the window (Prometheus; default 6h)")
    parser.add_argument("--after", default="2h", help="history read after the window (Prometheus; default 2h)")
    parser.add_argument("--step", default="1m", help="query_range step (Prometheus; default 1m)")
    parser.add_argument("--force", action="store_true", help="replace an existing learned pattern of that name")
    parser.add_argument("--no-promtool", action="store_true", help="skip the promtool confirmation")
    parser.add_argument("--timeout", type=positive_float, default=30.0, help="HTTP timeout in seconds (default 30)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kafka_detective.durations import parse_duration
    from kafka_detective.errors import UserError
    from kafka_detective_tools.investigation.learn import learn, load_incident
    from kafka_detective_tools.investigation.sources import samples_from_prometheus, samples_from_trace_file

    incident = load_incident(args.incident)
    if args.history:
        _, history = samples_from_trace_file(args.history, incident.consumergroup, incident.topic, incident.cluster)
    elif args.prometheus:
        _, history = samples_from_prometheus(
            args.prometheus, incident.consumergroup, incident.topic, incident.cluster,
            start=incident.start - parse_duration(args.before), end=incident.end + parse_duration(args.after),
            step=parse_duration(args.step), timeout=args.timeout)
    else:
        raise UserError("needs the subject's history: --history TRACE or --prometheus URL")
    library = Path(args.library_dir)
    if not library.is_dir():
        raise UserError(f"pattern library {library} is not a directory (pass --library-dir)")
    result = learn(history, incident, library, scope=args.scope, overwrite=args.force,
                   confirm_with_promtool=not args.no_promtool)
    sc = result.score
    print(f"incident {incident.name}: {incident.consumergroup}/{incident.topic} in {incident.cluster}, "
          f"cause {incident.cause}")
    print(f"signature: {result.signature.describe()}")
    for s in result.signature.signals:
        if s.deviated:
            when = f"{s.onset_offset:+.0f}s" if s.onset_offset is not None else "-"
            print(f"  {s.signal:16s} {s.direction:4s} effect {s.effect:+7.1f}  baseline {s.baseline:.4g} -> "
                  f"{s.value:.4g}  onset {when}")
    print("expression:")
    print("  " + result.expression.strip().replace("\n", "\n  "))
    delay = f"{sc.first_fire_delay:.0f}s after the window start" if sc.first_fire_delay is not None else "never"
    print(f"replay over {len(history)} samples: fires on the incident: {'yes' if sc.fired_on_incident else 'NO'} "
          f"(first {delay}); precision {sc.precision:.0%} ({sc.false_minutes} of {sc.firing_minutes} firing "
          f"minutes outside the incident{' and its recurrences' if incident.recurrences else ''}); "
          f"recall {sc.recall:.0%} of the window")
    if sc.recurrence_minutes:
        print(f"  {sc.recurrence_minutes} firing minutes fall in the listed recurrences (counted as correct)")
    if sc.false_episodes:
        from kafka_detective.analysis.runbook import ts

        shown = ", ".join(f"{ts(a)} ({(b - a) / 60 + 1:.0f} min)" for a, b in sc.false_episodes[:5])
        more = f" and {len(sc.false_episodes) - 5} more" if len(sc.false_episodes) > 5 else ""
        print(f"  fires outside the incident at: {shown}{more} (list known repeats under `recurrences:`)")
    if result.promtool is not None:
        print(f"promtool test rules (replay confirmation): {result.promtool}")
    if result.library_check is not None:
        print(f"pattern library check: {result.library_check}")
    print(f"wrote {result.pattern_path}")
    print(f"wrote {result.signature_path}")
    print("next: kafka-detective generate  (adds the alert, its runbook and promtool test)")
    ok = sc.fired_on_incident and not (result.library_check or "").startswith("failed") and \
        not (result.promtool or "").startswith("failed")
    return 0 if ok else 1
