"""`kafka-detective investigate`: a markdown report on a consumer group's lag problem."""

from __future__ import annotations

import argparse

NAME = "investigate"
HELP = "diagnose a consumer group's lag: root cause, evidence, plots, correlations, similar incidents, runbook"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kafka_detective_tools.investigation.sources import add_source_arguments

    add_source_arguments(parser)
    parser.add_argument("--onset", default=None,
                        help="when the problem started, or a time before it (unix or RFC 3339): the lag's change point "
                             "at or after it is used; found from the lag when omitted")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="report directory (default: ./investigation-<group>-<topic>-<time>)")
    parser.add_argument("--html", action="store_true",
                        help="also write report.html: the case file as one self-contained page (charts inline as "
                             "SVG, no scripts), for attaching to a ticket")
    parser.add_argument("--library-dir", default="patterns", metavar="DIR",
                        help="pattern library whose learned/ incidents are compared (default: patterns)")


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict
    from datetime import UTC, datetime
    from pathlib import Path

    from kafka_detective.analysis.capacity import shown_capacity
    from kafka_detective.analysis.rootcause import diagnose
    from kafka_detective.analysis.runbook import build_runbook
    from kafka_detective.analysis.signatures import growth_phase, signature, similar_incidents
    from kafka_detective.errors import UserError
    from kafka_detective.kafka.redaction import redact_url
    from kafka_detective_tools.investigation import report as rp
    from kafka_detective_tools.investigation.correlate import correlate
    from kafka_detective_tools.investigation.plots import plot_history
    from kafka_detective_tools.investigation.sources import load_history, parse_time

    subject, history = load_history(args)
    onset = parse_time(args.onset) if args.onset else None
    diagnosis = diagnose(history, onset=onset, shown_capacity=shown_capacity(history))
    now = datetime.now(tz=UTC)
    out = Path(args.out) if args.out else Path(
        f"investigation-{subject.group}-{subject.topic}-{now:%Y%m%d-%H%M%S}".replace("/", "_"))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create report directory {out}: {error.strerror}") from None
    plots = plot_history(history, diagnosis, out)
    try:
        correlation = correlate(history)
    except UserError:
        correlation = None
    similar = []
    sequence = None
    window = growth_phase(history, diagnosis)
    if window is not None:
        try:
            current = signature(history, *window, name="current", cause=diagnosis.cause)
            similar = similar_incidents(current, args.library_dir)
            sequence = current.describe()
        except UserError:
            similar = []
    runbook = build_runbook(diagnosis, subject.cluster, subject.group, subject.topic)
    source = f"trace `{args.trace}`" if args.trace else f"Prometheus {redact_url(args.prometheus)}"
    text = rp.build_report(history=history, diagnosis=diagnosis, source=source,
                           plots={k: p.name for k, p in plots.items()}, correlation=correlation, similar=similar,
                           runbook=runbook, generated_at=now.timestamp(), sequence=sequence)
    report_path = out / "report.md"
    report_path.write_text(text, encoding="utf-8")
    (out / "diagnosis.json").write_text(json.dumps({
        "cluster": subject.cluster, "consumergroup": subject.group, "topic": subject.topic,
        **asdict(diagnosis), "similar": similar,
        "correlation": correlation.to_dict() if correlation else None}, indent=2, default=str), encoding="utf-8")
    if args.html:
        from kafka_detective.analysis.model import GroupTopicAnalysis
        from kafka_detective.serving.detective_page import Subject, render_case

        case = Subject(GroupTopicAnalysis(subject.cluster, subject.group, subject.topic, diagnosis=diagnosis),
                       history[-1])
        (out / "report.html").write_text(render_case(case, history, now.timestamp(), standalone=True,
                                                     similar=similar), encoding="utf-8")
    print(report_path)
    return 0
