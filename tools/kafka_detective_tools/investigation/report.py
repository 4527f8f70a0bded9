"""Markdown investigation report and incident runbook (`kafka-detective investigate`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from kafka_detective.analysis import rootcause as rc
from kafka_detective.analysis.model import Diagnosis
from kafka_detective.analysis.runbook import Runbook, num, runbook_markdown, ts
from kafka_detective.serving.detective_page import AGAINST
from kafka_detective.signals.samples import GroupTopicSample

# --- report -----------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text that cannot break a markdown table row."""
    return text.replace("|", "/")


def evidence_table(d: Diagnosis) -> str:
    rows = ["| metric | value | baseline | threshold | time | note |", "|---|---|---|---|---|---|"]
    for e in d.evidence:
        rows.append(f"| `{e.metric}` | {num(e.value)} | {num(e.baseline)} | {num(e.threshold)} | "
                    f"{ts(e.timestamp)} | {_cell(e.note)} |")
    return "\n".join(rows)


def causes_table(d: Diagnosis) -> str:
    """The ranked causes, each with the findings for it and, marked AGAINST, those against it."""
    rows = [f"| rank | cause | confidence | evidence for it ({AGAINST} against it) |", "|---|---|---|---|"]
    for i, (c, p) in enumerate(d.alternatives, 1):
        found = ([_cell(e.note or e.metric) for e in d.evidence_for(c)]
                 + [f"{AGAINST} {_cell(e.note or e.metric)}" for e in d.evidence_against(c)])
        rows.append(f"| {i} | `{c}` | {p:.0%} | {'<br>'.join(found) or '-'} |")
    return "\n".join(rows)


def build_report(*, history: Sequence[GroupTopicSample], diagnosis: Diagnosis, source: str,
                 plots: dict[str, str], correlation=None, similar: Sequence[dict] = (),
                 runbook: Runbook | None = None, generated_at: float | None = None,
                 sequence: str | None = None) -> str:
    from kafka_detective_tools.investigation.correlate import format_table

    s0 = history[0]
    d = diagnosis
    gen = generated_at if generated_at is not None else datetime.now(tz=UTC).timestamp()
    lines = [
        f"# Investigation: consumer group `{s0.group}` on topic `{s0.topic}` (cluster `{s0.cluster}`)", "",
        f"- Source: {source}",
        f"- Range: {ts(history[0].timestamp)} to {ts(history[-1].timestamp)} ({len(history)} samples)",
        f"- Generated: {ts(gen)} by `kafka-detective investigate`", "",
        "## Diagnosis", "",
        f"**{rc.SUMMARY[d.cause]}** (`{d.cause}`), confidence **{d.confidence:.0%}**, severity **{d.severity}**, "
        f"onset {ts(d.onset)}.", "",
        d.remediation, "",
        causes_table(d),
    ]
    if sequence:
        lines += ["", f"Sequence (signals that deviated from the pre-onset baseline, in order): {sequence}."]
    lines += ["", "Confidence is the best cause's score discounted by how close the runner-up comes: two causes "
              f"that explain the evidence equally well give a low confidence. {AGAINST} marks a finding against a "
              "cause: a measure that contradicts it, or the absence of what it would show.", "",
              "## Evidence", "", evidence_table(d), ""]
    lines += ["## Plots", "", "The dashed red line marks the onset.", ""]
    titles = {"lag": "Lag", "lag_seconds": "Lag in seconds", "rates": "Produce vs consume rate",
              "rebalances": "Rebalances, leader changes and members", "cpu": "Consumer CPU"}
    for key, path in plots.items():
        lines += [f"![{titles.get(key, key)}]({path})", ""]
    lines += ["## Correlation with the lag growth", ""]
    if correlation is None:
        lines += ["Not computed (too few samples).", ""]
    else:
        lines += [format_table(correlation, markdown=True), "", f"_{correlation.explanation}_", ""]
    lines += ["## Similar past incidents", ""]
    if similar:
        lines += ["| incident | cause | similarity | window | notes |", "|---|---|---|---|---|"]
        for s in similar:
            lines.append(f"| {s['name']} | `{s['cause']}` | {s['similarity']:.2f} | {ts(s.get('start'))} | "
                         f"{str(s.get('notes', '')).strip().replace(chr(10), ' ').replace('|', '/')[:160]} |")
        lines.append("")
    else:
        lines += ["None found in the learned incidents (`kafka-detective learn` adds them).", ""]
    if runbook is not None:
        lines += [runbook_markdown(runbook, level=2)]
    return "\n".join(lines)
