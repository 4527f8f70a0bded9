"""Load and validate `patterns/**/*.yaml` against `patterns/config.yaml`.

Any problem stops loading with ONE `UserError` naming the pattern file and the field, e.g.
`patterns/consumer_lag.yaml: field 'expr': unknown metric kafka_lagg (not in the catalogue ...)`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, overload

from kafka_detective import yamlio
from kafka_detective.analysis.model import ROOT_CAUSES
from kafka_detective.durations import is_promql_duration
from kafka_detective.errors import UserError
from kafka_detective_tools.patterns import promql
from kafka_detective_tools.patterns.config import load_config, substitute
from kafka_detective_tools.patterns.model import (
    SCOPES,
    SEVERITIES,
    Library,
    Pattern,
    RecordingRule,
    RunbookStep,
    TestCase,
)

CONFIG_FILE = "config.yaml"
ALERT_NAME = re.compile(r"Kafka[A-Z][A-Za-z0-9]*")
# level:metric:operations; `consumergroup:` for series aggregated to a group from outside the exporter
# (the consumers' CPU, a name the analysis and the traces share).
RECORD_NAME = re.compile(r"(kafka|consumergroup):[a-z0-9_]+(:[a-z0-9_]+)*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

ALERT_FIELDS = {
    "kind", "name", "alert", "group", "severity", "scope", "summary", "description", "expr", "for",
    "keep_firing_for", "root_causes", "diagnosis_label", "diagnosis_match", "dashboard", "dashboard_vars",
    "inhibits_scopes", "inhibit_exempt", "meaning", "impact", "diagnosis", "mitigation", "validation",
    "escalation", "tests", "recording_rules",
}
REQUIRED = ("alert", "group", "severity", "scope", "summary", "description", "expr", "for", "root_causes",
            "dashboard", "meaning", "impact", "diagnosis", "mitigation", "validation", "escalation", "tests")


class PatternError(UserError):
    def __init__(self, source: str, field: str, message: str) -> None:
        super().__init__(f"{source}: field '{field}': {message}")
        self.source = source
        self.field = field


def pattern_files(patterns_dir: Path) -> list[Path]:
    return sorted(p for p in patterns_dir.rglob("*.yaml")
                  if p.is_file() and not (p.parent == patterns_dir and p.name == CONFIG_FILE))


def _subst_tree(node, config: dict, source: str, field: str):
    if isinstance(node, str):
        def missing(key: str) -> None:
            raise PatternError(source, field, f"placeholder [[ {key} ]] is not a key of patterns/{CONFIG_FILE}")

        def invalid(key: str, message: str) -> None:
            raise PatternError(source, field, f"config key {key} (patterns/{CONFIG_FILE}): {message}")
        return substitute(node, config, missing, invalid)
    if isinstance(node, list):
        return [_subst_tree(item, config, source, f"{field}[{i}]") for i, item in enumerate(node)]
    if isinstance(node, dict):
        return {k: _subst_tree(v, config, source, f"{field}.{k}" if field else str(k)) for k, v in node.items()}
    return node


class _Fields:
    def __init__(self, doc: dict, source: str) -> None:
        self.doc = doc
        self.source = source

    def error(self, field: str, message: str) -> PatternError:
        return PatternError(self.source, field, message)

    @overload
    def text(self, field: str, required: Literal[True] = True, doc: dict | None = None, prefix: str = "") -> str: ...
    @overload
    def text(self, field: str, required: bool, doc: dict | None = None, prefix: str = "") -> str | None: ...

    def text(self, field: str, required: bool = True, doc: dict | None = None, prefix: str = "") -> str | None:
        doc = self.doc if doc is None else doc
        value = doc.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.error(prefix + field, "missing (required)")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(prefix + field, "must be a string")
        return str(value).strip() if isinstance(value, str) else str(value)

    @overload
    def duration(self, field: str, required: Literal[True] = True) -> str: ...
    @overload
    def duration(self, field: str, required: bool) -> str | None: ...

    def duration(self, field: str, required: bool = True) -> str | None:
        value = self.text(field, required)
        if value is not None and not is_promql_duration(value):
            raise self.error(field, f"{value!r} is not a Prometheus duration (e.g. 5m, 1h30m)")
        return value

    def str_list(self, field: str, required: bool = True, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.doc.get(field)
        if value is None:
            if required:
                raise self.error(field, "missing (required)")
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, "must be a list of strings")
        return tuple(value)

    def steps(self, field: str) -> tuple[RunbookStep, ...]:
        value = self.doc.get(field)
        if not value:
            raise self.error(field, "missing (required): a non-empty list of steps")
        if not isinstance(value, list):
            raise self.error(field, "must be a list of steps")
        steps = []
        for i, item in enumerate(value):
            where = f"{field}[{i}]"
            if not isinstance(item, dict):
                raise self.error(where, "must be a mapping with title, promql and/or command, expected")
            unknown = set(item) - {"title", "promql", "command", "expected"}
            if unknown:
                raise self.error(f"{where}.{sorted(unknown)[0]}", "unknown field")
            title = self.text("title", doc=item, prefix=f"{where}.")
            q = self.text("promql", required=False, doc=item, prefix=f"{where}.")
            cmd = self.text("command", required=False, doc=item, prefix=f"{where}.")
            expected = self.text("expected", required=False, doc=item, prefix=f"{where}.")
            if field != "validation" and q is None and cmd is None:
                raise self.error(where, "needs a promql query or a command")
            if (q or cmd) and expected is None:
                raise self.error(f"{where}.expected", "missing (required with a query or command)")
            steps.append(RunbookStep(title=title, promql=q, command=cmd, expected=expected))
        return tuple(steps)


def _tests(f: _Fields) -> tuple[TestCase, ...]:
    value = f.doc.get("tests")
    if not isinstance(value, list) or not value:
        raise f.error("tests", "missing (required): a list with a firing and a near_miss case")
    cases = []
    for i, item in enumerate(value):
        where = f"tests[{i}]"
        if not isinstance(item, dict):
            raise f.error(where, "must be a mapping")
        unknown = set(item) - {"name", "kind", "interval", "input_series", "eval_time", "exp_labels",
                               "exp_annotations"}
        if unknown:
            raise f.error(f"{where}.{sorted(unknown)[0]}", "unknown field")
        kind = item.get("kind")
        if kind not in ("firing", "near_miss"):
            raise f.error(f"{where}.kind", "must be firing or near_miss")
        series = item.get("input_series")
        if not isinstance(series, list) or not series or not all(
                isinstance(s, dict) and isinstance(s.get("series"), str) and isinstance(s.get("values"), str)
                for s in series):
            raise f.error(f"{where}.input_series", "must be a list of {series: '...', values: '...'} with "
                          "quoted strings (YAML reads an unquoted 0x30 as the number 48)")
        for j, s in enumerate(series):
            for name in promql.metric_names(s["series"]):
                if not promql.is_known_metric(name, set()):
                    raise f.error(f"{where}.input_series[{j}].series", f"unknown metric {name}")
        eval_time = str(item.get("eval_time", ""))
        if not is_promql_duration(eval_time):
            raise f.error(f"{where}.eval_time", "missing or not a duration")
        interval = str(item.get("interval", "1m"))
        if not is_promql_duration(interval):
            raise f.error(f"{where}.interval", "not a duration")
        labels = item.get("exp_labels") or {}
        annotations = item.get("exp_annotations") or {}
        if not isinstance(labels, dict) or not isinstance(annotations, dict):
            raise f.error(where, "exp_labels and exp_annotations must be mappings")
        if kind == "firing":
            if not labels:
                raise f.error(f"{where}.exp_labels", "missing (required for a firing case)")
            for key in ("summary", "description"):
                if key not in annotations:
                    raise f.error(f"{where}.exp_annotations.{key}", "missing (required for a firing case)")
        elif labels or annotations:
            raise f.error(where, "a near_miss case expects no alert: drop exp_labels/exp_annotations")
        cases.append(TestCase(
            name=str(item.get("name") or f"{kind}-{i}"), kind=kind, interval=interval,
            input_series=tuple({"series": s["series"], "values": s["values"]} for s in series),
            eval_time=eval_time,
            exp_labels={str(k): str(v) for k, v in labels.items()},
            exp_annotations={str(k): str(v) for k, v in annotations.items()},
        ))
    kinds = {c.kind for c in cases}
    for needed in ("firing", "near_miss"):
        if needed not in kinds:
            raise f.error("tests", f"needs at least one {needed} case")
    return tuple(cases)


def _recording(f: _Fields) -> list[RecordingRule]:
    value = f.doc.get("recording_rules")
    if value is None:
        return []
    if not isinstance(value, list):
        raise f.error("recording_rules", "must be a list of {record, expr}")
    rules = []
    for i, item in enumerate(value):
        where = f"recording_rules[{i}]"
        if not isinstance(item, dict) or set(item) != {"record", "expr"}:
            raise f.error(where, "must be a mapping with exactly record and expr")
        record = f.text("record", doc=item, prefix=f"{where}.")
        if not RECORD_NAME.fullmatch(record):
            raise f.error(f"{where}.record", f"{record!r} must follow the kafka:<what>:<how> naming")
        rules.append(RecordingRule(record=record, expr=f.text("expr", doc=item, prefix=f"{where}."),
                                   source=f.source))
    return rules


def _pattern(f: _Fields, name: str, learned: bool) -> Pattern:
    doc = f.doc
    unknown = set(doc) - ALERT_FIELDS
    if unknown:
        raise f.error(sorted(unknown)[0], "unknown field")
    for key in REQUIRED:
        if doc.get(key) in (None, "", []):
            raise f.error(key, "missing (required)")
    alert = f.text("alert")
    if not ALERT_NAME.fullmatch(alert):
        raise f.error("alert", f"{alert!r} must be CamelCase with the Kafka prefix (e.g. KafkaConsumerLagHigh)")
    severity = f.text("severity")
    if severity not in SEVERITIES:
        raise f.error("severity", f"must be one of {', '.join(SEVERITIES)}")
    scope = f.text("scope")
    if scope not in SCOPES:
        raise f.error("scope", f"must be one of {', '.join(SCOPES)}")
    causes = f.str_list("root_causes")
    for cause in causes:
        if cause not in ROOT_CAUSES:
            raise f.error("root_causes", f"unknown root-cause id {cause!r} (see analysis/model.py ROOT_CAUSES)")
    diagnosis_label = doc.get("diagnosis_label", False)
    if not isinstance(diagnosis_label, bool):
        raise f.error("diagnosis_label", "must be true or false")
    match = f.str_list("diagnosis_match", required=False, default=("cluster", "consumergroup", "topic"))
    dash_vars = f.str_list("dashboard_vars", required=False, default=("cluster",))
    for field, labels in (("diagnosis_match", match), ("dashboard_vars", dash_vars)):
        for label in labels:
            if not LABEL_NAME.fullmatch(label):
                raise f.error(field, f"{label!r} is not a label name")
    inhibits = f.str_list("inhibits_scopes", required=False)
    for s in inhibits:
        if s not in SCOPES:
            raise f.error("inhibits_scopes", f"{s!r} must be one of {', '.join(SCOPES)}")
    exempt = doc.get("inhibit_exempt", False)
    if not isinstance(exempt, bool):
        raise f.error("inhibit_exempt", "must be true or false")
    return Pattern(
        name=name, source=f.source, alert=alert, group=f.text("group"), severity=severity, scope=scope,
        summary=f.text("summary"), description=f.text("description"), expr=f.text("expr"),
        for_=f.duration("for"), keep_firing_for=f.duration("keep_firing_for", required=False),
        root_causes=causes, diagnosis_label=diagnosis_label, diagnosis_match=match,
        dashboard=f.text("dashboard"), dashboard_vars=dash_vars, inhibits_scopes=inhibits,
        inhibit_exempt=exempt,
        meaning=f.text("meaning"), impact=f.text("impact"), diagnosis=f.steps("diagnosis"),
        mitigation=f.steps("mitigation"), validation=f.steps("validation"), escalation=f.text("escalation"),
        tests=_tests(f), learned=learned,
    )


def load_library(root: Path, override: Path | None = None, patterns_dir: Path | None = None, *,
                 check_promql: bool = True) -> Library:
    """The pattern library under `root` (or `patterns_dir`), validated; the one reader of pattern YAML.

    `check_promql=False` skips only the PromQL parse check (which needs promtool), for readers that want the
    library's data (config, recording rules, root causes) and leave the full check to `generate`."""
    root = Path(root)
    patterns_dir = Path(patterns_dir) if patterns_dir else root / "patterns"
    config = load_config(patterns_dir / CONFIG_FILE, override)
    patterns: list[Pattern] = []
    recording: list[RecordingRule] = []
    checks: list[tuple[str, str, str]] = []   # (source, field, expr) to parse with promtool
    uses: list[tuple[str, str, str]] = []     # (source, field, expr) whose metrics must exist

    files = pattern_files(patterns_dir)
    if not files:
        raise UserError(f"{patterns_dir}: no pattern files (*.yaml)")
    for path in files:
        try:
            source = str(path.relative_to(root))
        except ValueError:
            source = str(path)
        try:
            raw = yamlio.loads(yamlio.read_text(path), source)
        except yamlio.YamlError as error:
            where = f"(file, line {error.line})" if error.line else "(file)"
            raise PatternError(source, where, error.problem) from None
        if not isinstance(raw, dict):
            raise PatternError(source, "(file)", "must be a YAML mapping")
        doc = _subst_tree(raw, config, source, "")
        f = _Fields(doc, source)
        rel = path.relative_to(patterns_dir).with_suffix("")
        name = "-".join(rel.parts)
        kind = doc.get("kind", "alert")
        rules = _recording(f)
        recording.extend(rules)
        for i, rule in enumerate(rules):
            checks.append((source, f"recording_rules[{i}].expr", rule.expr))
            uses.append((source, f"recording_rules[{i}].expr", rule.expr))
        if kind == "recording":
            extra = set(doc) - {"kind", "recording_rules", "description"}
            if extra:
                raise f.error(sorted(extra)[0], "unknown field in a kind: recording file")
            if not rules:
                raise f.error("recording_rules", "missing (required)")
            continue
        if kind != "alert":
            raise f.error("kind", "must be alert (default) or recording")
        pattern = _pattern(f, name, learned="learned" in rel.parts[:-1])
        patterns.append(pattern)
        checks.append((source, "expr", pattern.expr))
        uses.append((source, "expr", pattern.expr))
        for field in ("diagnosis", "mitigation", "validation"):
            for i, step in enumerate(getattr(pattern, field)):
                if step.promql:
                    checks.append((source, f"{field}[{i}].promql", step.promql))
                    uses.append((source, f"{field}[{i}].promql", step.promql))

    seen: dict[str, str] = {}
    for p in patterns:
        if p.alert in seen:
            raise PatternError(p.source, "alert", f"{p.alert} is already defined in {seen[p.alert]}")
        seen[p.alert] = p.source
    records: dict[str, str] = {}
    for r in recording:
        if r.record in records:
            raise PatternError(r.source, "recording_rules", f"{r.record} is already recorded in {records[r.record]}")
        records[r.record] = r.source

    recorded = set(records)
    for source, field, expr in uses:
        for metric in sorted(promql.metric_names(expr)):
            if not promql.is_known_metric(metric, recorded):
                raise PatternError(source, field, f"unknown metric {metric} (not in the metric catalogue, not a "
                                                  f"recording rule of the library, not a node/cAdvisor/up metric)")

    problem = promql.check_expressions([expr for _, _, expr in checks]) if check_promql else None
    if problem is not None:
        # promtool names the first failing rule (kd_check:expr_<i>); fall back to checking one by one.
        match = re.search(r"kd_check:expr_(\d+)", problem)
        suspects = [checks[int(match.group(1))]] if match else []
        for source, field, expr in suspects + checks:
            problem = promql.check_expressions([expr])
            if problem:
                raise PatternError(source, field, f"PromQL does not parse: {problem}")

    return Library(root=root, config=config, patterns=tuple(sorted(patterns, key=lambda p: p.alert)),
                   recording_rules=tuple(recording))
