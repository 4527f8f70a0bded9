"""Grafana dashboards: `dashboards/src/*.jsonnet` (with the helpers of `dashboards/lib/`) → Grafana JSON.

`kafka-detective generate` calls `build_dashboards(library, config)` and writes each returned text to
`dashboards/<name>` (and the Helm chart's copy). The Jsonnet sources receive what they need from the pattern
library as ONE top-level argument, `params` (JSON, never string templating):

    {
      "alerts": [{"alert", "severity", "summary", "runbook_url", "dashboard"}...],   # sorted by alert name;
                                           # summary: Markdown, {{ $labels.x }} -> `<x>`
      "runbook_base_url": "...",           # config runbook_url_base
      "runbook_link_template": "...",      # a Grafana data-link URL built on ${__data.fields.alertname}, or null
      "config": {...},                     # the scalar keys of patterns/config.yaml (thresholds)
      "root_causes": [["producer_spike", "meaning"]...],   # analysis/model.py ROOT_CAUSES, in order
      "anomaly_signals": ["produce_rate"...]                # analysis/model.py ANOMALY_SIGNALS
    }

`library` is duck-typed: a `kafka_detective_tools.patterns.model.Library` (its `patterns`), any iterable of
patterns, or an object/mapping with `patterns`; a pattern is an object or a mapping with `alert` (or
`name`), `severity`, `summary` and `runbook_url` (or, for library patterns, the URL the rule renderer puts in
the `runbook_url` annotation). Output is deterministic: sorted keys, two-space indent, trailing newline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from kafka_detective.analysis.model import ANOMALY_SIGNALS
from kafka_detective.errors import UserError

FILE_PREFIX = "kafka-detective-"


class PatternHolder(Protocol):
    """An object holding patterns, like the pattern library (`kafka_detective_tools.patterns.model.Library`)."""

    @property
    def patterns(self) -> Iterable[Any]: ...


# Where the dashboards read the alerts from (see above): the pattern library or another object or mapping with
# `patterns`, or the patterns (objects or mappings) themselves.
AlertSource = PatternHolder | Mapping[str, Any] | Iterable[Any]


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping):
            if obj.get(name) is not None:
                return obj[name]
        elif getattr(obj, name, None) is not None:
            return getattr(obj, name)
    return default


def _patterns(library: AlertSource | None) -> list[Any]:
    if library is None:
        return []
    patterns = _get(library, "patterns")
    if patterns is not None:
        return list(patterns)
    if isinstance(library, Mapping):
        return list(library.values())
    if isinstance(library, Iterable) and not isinstance(library, str | bytes):
        return list(library)
    raise UserError(f"dashboards: cannot read the alerts of {type(library).__name__}")


def runbook_base_url(config: Mapping | None) -> str:
    config = config or {}
    return str(config.get("runbook_url_base") or config.get("runbook_base_url") or "").rstrip("/")


def _runbook_url(library: Any, config: Mapping | None, pattern: Any, alert: str) -> str:
    url = _get(pattern, "runbook_url")
    if url:
        return str(url)
    try:  # the URL the rule renderer writes into the alert's runbook_url annotation
        from kafka_detective_tools.patterns import render

        return str(render.runbook_url(library, pattern))
    except (ImportError, AttributeError, KeyError, TypeError):
        pass
    base = runbook_base_url(config)
    if not base:
        raise UserError(f"dashboards: alert {alert}: no runbook_url and no runbook_url_base in the config")
    return f"{base}/{alert}.md"


_LABEL_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([A-Za-z_]\w*)\s*\}\}")
_VALUE_TEMPLATE = re.compile(r"\{\{\s*\$value\b[^}]*\}\}")
_OTHER_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def plain_summary(summary: str) -> str:
    """An alert summary without Prometheus templating, as Markdown for a static list: `{{ $labels.topic }}` ->
    `` `<topic>` `` (a code span, so Markdown keeps the angle brackets)."""
    text = " ".join(str(summary).split())
    text = _LABEL_TEMPLATE.sub(lambda m: f"`<{m.group(1)}>`", text)
    text = _VALUE_TEMPLATE.sub("`<value>`", text)
    return _OTHER_TEMPLATE.sub("…", text)


def alerts_of(library: AlertSource, config: Mapping | None = None) -> list[dict[str, str]]:
    """Every alert of the library as {alert, severity, summary, runbook_url, dashboard}, sorted by name."""
    alerts = []
    for pattern in _patterns(library):
        alert = _get(pattern, "alert", "alertname", "name")
        if not alert:
            raise UserError(f"dashboards: a pattern has no alert name: {pattern!r:.80}")
        alert = str(alert)
        alerts.append({
            "alert": alert,
            "severity": str(_get(pattern, "severity", default="")),
            "summary": plain_summary(_get(pattern, "summary", default="")),
            "runbook_url": _runbook_url(library, config, pattern, alert),
            "dashboard": str(_get(pattern, "dashboard", default="")),
        })
    alerts.sort(key=lambda a: a["alert"])
    names = [a["alert"] for a in alerts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"dashboards: alert {duplicates[0]} is defined twice")
    return alerts


def runbook_link_template(alerts: list[dict[str, str]]) -> str | None:
    """`<prefix>${__data.fields.alertname}<suffix>` when every runbook URL is <prefix><alert><suffix>."""
    shapes = set()
    for a in alerts:
        url, name = a["runbook_url"], a["alert"]
        at = url.rfind(name)
        if at < 0:
            return None
        shapes.add((url[:at], url[at + len(name):]))
    if len(shapes) != 1:
        return None
    prefix, suffix = shapes.pop()
    return f"{prefix}${{__data.fields.alertname}}{suffix}"


def root_causes() -> list[list[str]]:
    """[cause id, meaning] for every root cause of the analysis, in the vocabulary's order."""
    from kafka_detective.analysis.model import ROOT_CAUSES

    try:
        from kafka_detective_tools.patterns.model import ROOT_CAUSE_MEANING
    except ImportError:
        ROOT_CAUSE_MEANING = {}
    return [[cause, ROOT_CAUSE_MEANING.get(cause, "")] for cause in ROOT_CAUSES]


def params_of(library: AlertSource, config: Mapping | None) -> dict[str, Any]:
    """The top-level argument handed to every dashboard source."""
    config = dict(config or {})
    alerts = alerts_of(library, config)
    scalars = {k: v for k, v in sorted(config.items())
               if isinstance(v, str | int | float | bool) or v is None}
    return {
        "alerts": alerts,
        "runbook_base_url": runbook_base_url(config),
        "runbook_link_template": runbook_link_template(alerts),
        "config": scalars,
        "root_causes": root_causes(),
        "anomaly_signals": list(ANOMALY_SIGNALS),
    }


def default_source_dir() -> Path:
    """The repository's `dashboards/` (the repository as `kafka_detective_tools.repo.find_root` finds it)."""
    from kafka_detective_tools.repo import find_root

    return find_root() / "dashboards"


def source_dir(library: AlertSource | None = None) -> Path:
    root = _get(library, "root") if library is not None and not isinstance(library, list | tuple) else None
    if root is not None and (Path(root) / "dashboards" / "src").is_dir():
        return Path(root) / "dashboards"
    return default_source_dir()


def sources(directory: Path | None = None) -> list[Path]:
    directory = directory or default_source_dir()
    return sorted((directory / "src").glob("*.jsonnet"))


def output_name(source: Path) -> str:
    return f"{FILE_PREFIX}{source.stem}.json"


def to_json(dashboard: Any) -> str:
    return json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def compile_source(path: Path, params: Mapping[str, Any], directory: Path | None = None) -> dict:
    try:
        import _jsonnet
    except ImportError as error:
        raise UserError("dashboards: the Jsonnet Python binding (module _jsonnet) is missing: "
                        "pip install 'kafka-detective[generate]' (jsonnet==0.22.0)") from error
    directory = directory or path.parent.parent
    try:
        text = _jsonnet.evaluate_file(
            str(path),
            jpathdir=[str(directory / "lib")],
            tla_codes={"params": json.dumps(params, sort_keys=True)},
        )
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "evaluation failed"
        raise UserError(f"dashboards: {path.name}: {first}") from error
    dashboard = json.loads(text)
    if not isinstance(dashboard, dict) or "uid" not in dashboard:
        raise UserError(f"dashboards: {path.name}: does not evaluate to a dashboard (an object with a uid)")
    return dashboard


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*[A-Za-z_]\w*\s*\)\s*$", re.S)
_GRAFANA_VARIABLE = re.compile(r"\$\{\w+(?::\w+)?\}|\$\w+")


def expressions(dashboard: Mapping) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target, annotation and label_values() variable of a dashboard."""
    out = []
    for panel in dashboard.get("panels", []):
        for inner in [panel, *(panel.get("panels") or [])]:
            for target in inner.get("targets") or []:
                out.append((f"panel {inner.get('title')!r}", str(target.get("expr", ""))))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            out.append((f"annotation {annotation.get('name')!r}", str(annotation["expr"])))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            match = _LABEL_VALUES.match(str(variable.get("definition", "")))
            out.append((f"variable {variable.get('name')}", match.group(1) if match else ""))
    return out


def check_metrics(name: str, dashboard: Mapping, recorded: set[str]) -> None:
    """Every metric a dashboard queries is in the catalogue, a recording rule of the library or ALERTS."""
    from kafka_detective.metrics.catalogue import all_sample_names
    from kafka_detective_tools.patterns import promql

    known = set(all_sample_names()) | recorded | {"ALERTS"}
    for where, expr in expressions(dashboard):
        if not expr.strip():
            raise UserError(f"dashboards: {name}: {where}: no PromQL (targets need expr, variables "
                            f"label_values(<selector>, <label>))")
        for metric in sorted(promql.metric_names(_GRAFANA_VARIABLE.sub("x", expr))):
            if metric not in known:
                raise UserError(f"dashboards: {name}: {where}: unknown metric {metric} (not in the metric "
                                f"catalogue, not a recording rule of the library, not ALERTS)")


def build_dashboards(library: AlertSource, config: Mapping | None = None,
                     directory: Path | None = None) -> dict[str, str]:
    """filename (e.g. "kafka-detective-overview.json") -> Grafana dashboard JSON text."""
    if config is None:
        config = _get(library, "config", default={})
    directory = Path(directory) if directory else source_dir(library)
    files = sources(directory)
    if not files:
        raise UserError(f"dashboards: no dashboard sources in {directory / 'src'}")
    params = params_of(library, config)
    recorded = {str(_get(rule, "record")) for rule in (_get(library, "recording_rules", default=()) or ())}
    built: dict[str, str] = {}
    uids: dict[str, str] = {}
    for path in files:
        dashboard = compile_source(path, params, directory)
        uid = dashboard["uid"]
        if uid != Path(output_name(path)).stem:
            raise UserError(f"dashboards: {path.name}: uid {uid!r} must be {Path(output_name(path)).stem!r} "
                            f"(the uid names the file)")
        if uid in uids:
            raise UserError(f"dashboards: {path.name}: uid {uid!r} is already used by {uids[uid]}")
        uids[uid] = path.name
        check_metrics(output_name(path), dashboard, recorded)
        built[output_name(path)] = to_json(dashboard)
    return dict(sorted(built.items()))
