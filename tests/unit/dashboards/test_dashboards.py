"""Structural checks on every dashboard compiled from dashboards/src/*.jsonnet with the pattern library.

Grafana is not available here, so these checks stand in for it: what a dashboard needs to load and work
(uids, schema version, datasource variable, grid), what the project's conventions require (unit and
description on every panel, `$__rate_interval`), and that every PromQL expression parses (promtool) and uses
only metrics that exist (the catalogue, the library's `kafka:` recording rules, `ALERTS`).
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest

from kafka_detective.analysis.model import ANOMALY_SIGNALS, ROOT_CAUSES
from kafka_detective.errors import UserError
from kafka_detective.metrics.catalogue import BY_NAME, all_sample_names
from kafka_detective_tools.patterns import promql

GRID_WIDTH = 24
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# file -> (uid, title): uids are stable (alerts' dashboard_url and bookmarks point at them).
EXPECTED = {
    "kafka-detective-overview.json": ("kafka-detective-overview", "Kafka Detective / Overview"),
    "kafka-detective-consumer-groups.json": ("kafka-detective-consumer-groups",
                                             "Kafka Detective / Consumer group investigation"),
    "kafka-detective-cluster.json": ("kafka-detective-cluster", "Kafka Detective / Cluster: brokers & topics"),
    "kafka-detective-detective.json": ("kafka-detective-detective", "Kafka Detective / Detective"),
}
DETECTIVE = "kafka-detective-detective.json"

# Grafana's own variables: durations become durations, anything else a literal inside a label matcher.
BUILTIN_DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
BUILTIN_OTHER = {"__range_s": "3600", "__range_ms": "3600000", "__interval_ms": "60000"}
VARIABLE = re.compile(r"\$\{(\w+)(?::[\w]+)?\}|\$([A-Za-z_]\w*)")
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?P<selector>.+?)\s*,\s*(?P<label>[A-Za-z_]\w*)\s*\)\s*$", re.S)
SELECTOR = re.compile(r"(?<![\w:])([A-Za-z_:][\w:]*)\s*\{([^{}]*)\}")
MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"')
RATE_CALL = re.compile(r"\b(rate|increase|irate)\s*\(")
RANGE = re.compile(r"\[[^\[\]]*\]")
# Core panel plugins of Grafana 10/11 (no plugin to install) and the units the dashboards use: Grafana unit ids,
# plus `msg/s`, a custom unit Grafana shows as a suffix. A typo (`secs`) would silently show raw numbers.
CORE_PANELS = {"row", "timeseries", "stat", "table", "bargauge", "text", "state-timeline", "gauge", "barchart"}
UNITS = {"short", "none", "s", "ms", "percentunit", "bytes", "reqps", "msg/s"}


def all_panels(dashboard: dict) -> list[dict]:
    """Top-level panels and the panels of collapsed rows."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels") or [])
    return out


def content_panels(dashboard: dict) -> list[dict]:
    return [p for p in all_panels(dashboard) if p.get("type") != "row"]


def variables(dashboard: dict) -> dict[str, dict]:
    return {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}


def expressions(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) of every target, alert annotation and label_values() variable."""
    out = []
    for panel in all_panels(dashboard):
        for target in panel.get("targets") or []:
            out.append((f"panel {panel['id']} {panel['title']!r} target {target.get('refId')}", target["expr"]))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if not annotation.get("builtIn"):
            out.append((f"annotation {annotation['name']!r}", annotation["expr"]))
    for name, var in variables(dashboard).items():
        if var["type"] == "query":
            match = LABEL_VALUES.match(var["definition"])
            assert match, f"variable {name}: {var['definition']!r} is not label_values(<selector>, <label>)"
            out.append((f"variable {name}", match.group("selector")))
    return out


def substitute(expr: str) -> str:
    def repl(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name in BUILTIN_DURATIONS:
            return BUILTIN_DURATIONS[name]
        return BUILTIN_OTHER.get(name, "x")

    return VARIABLE.sub(repl, expr)


def referenced_variables(text: str) -> set[str]:
    names = {m.group(1) or m.group(2) for m in VARIABLE.finditer(text)}
    return {n for n in names if not n.startswith("__") and not n.isdigit()}


def each_dashboard(dashboards):
    assert dashboards, "no dashboard was built"
    return sorted(dashboards.items())


# --- checks: each returns the problems of one dashboard (tested on a broken dashboard at the end) ---------------

def datasource_problems(d: dict) -> list[str]:
    problems = []
    var = variables(d).get("datasource")
    if var is None or var["type"] != "datasource" or var["query"] != "prometheus":
        problems.append("no datasource variable of type datasource for prometheus")
    elif d["templating"]["list"][0]["name"] != "datasource":
        problems.append("the datasource variable must come first")
    for panel in content_panels(d):
        where = f"panel {panel['id']} {panel['title']!r}"
        if panel.get("datasource") != DATASOURCE:
            problems.append(f"{where}: datasource is not ${{datasource}}")
        for target in panel.get("targets") or []:
            if target.get("datasource") != DATASOURCE:
                problems.append(f"{where} target {target.get('refId')}: datasource is not ${{datasource}}")
    for vname, v in variables(d).items():
        if v["type"] == "query" and v.get("datasource") != DATASOURCE:
            problems.append(f"variable {vname}: datasource is not ${{datasource}}")
    for annotation in d.get("annotations", {}).get("list", []):
        if not annotation.get("builtIn") and annotation.get("datasource") != DATASOURCE:
            problems.append(f"annotation {annotation['name']}: datasource is not ${{datasource}}")
    return problems


def panel_problems(d: dict) -> list[str]:
    """Unit, description, title and queries of every panel."""
    problems = []
    for panel in content_panels(d):
        where = f"panel {panel['id']} {panel.get('title')!r}"
        if not panel.get("title"):
            problems.append(f"{where}: no title")
        if not isinstance(panel.get("description"), str) or len(panel["description"]) < 20:
            problems.append(f"{where}: no description")
        if panel.get("type") not in CORE_PANELS:
            problems.append(f"{where}: {panel.get('type')!r} is not a core Grafana panel")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not isinstance(unit, str) or not unit:
            problems.append(f"{where}: no fieldConfig.defaults.unit")
        units = [unit] + [prop["value"] for o in panel.get("fieldConfig", {}).get("overrides", [])
                          for prop in o["properties"] if prop["id"] == "unit"]
        for u in units:
            if u and u not in UNITS:
                problems.append(f"{where}: unit {u!r} is not one of {sorted(UNITS)}")
        if panel.get("type") != "text":
            targets = panel.get("targets") or []
            if not targets or not all(t.get("expr", "").strip() for t in targets):
                problems.append(f"{where}: no query")
            refs = [t.get("refId") for t in targets]
            if len(set(refs)) != len(refs):
                problems.append(f"{where}: duplicate refIds")
    ids = [p.get("id") for p in all_panels(d)]
    if len(set(ids)) != len(ids):
        problems.append("duplicate panel ids")
    return problems


def grid_problems(d: dict) -> list[str]:
    problems, boxes = [], []
    for panel in d.get("panels", []):
        pos = panel.get("gridPos") or {}
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        if set(pos) < {"x", "y", "w", "h"} or not all(isinstance(pos[k], int) for k in "xywh"):
            problems.append(f"{where}: no gridPos with integer x, y, w, h")
            continue
        if pos["x"] < 0 or pos["y"] < 0 or pos["w"] <= 0 or pos["h"] <= 0 or pos["x"] + pos["w"] > GRID_WIDTH:
            problems.append(f"{where}: {pos} is outside the {GRID_WIDTH}-column grid")
        if panel.get("type") == "row" and (pos["w"] != GRID_WIDTH or pos["x"] != 0):
            problems.append(f"{where}: a row spans the grid")
        boxes.append((where, pos))
    for (wa, a), (wb, b) in combinations(boxes, 2):
        if (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]):
            problems.append(f"{wa} overlaps {wb}")
    return problems


def rate_interval_problems(d: dict) -> list[str]:
    problems = []
    for where, expr in expressions(d):
        for call in RATE_CALL.finditer(expr):
            depth, end = 1, call.end()
            while depth and end < len(expr):
                depth += {"(": 1, ")": -1}.get(expr[end], 0)
                end += 1
            ranges = RANGE.findall(expr[call.end():end])
            if not ranges or set(ranges) != {"[$__rate_interval]"}:
                problems.append(f"{where}: {call.group(1)}() must use [$__rate_interval]: {expr}")
    return problems


def metric_problems(d: dict, known: set[str]) -> list[str]:
    problems = []
    for where, expr in expressions(d):
        for metric in sorted(promql.metric_names(substitute(expr))):
            if metric not in known:
                problems.append(f"{where}: unknown metric {metric} (not in the catalogue, not a kafka: recording "
                                f"rule of the library, not ALERTS): {expr}")
        for metric, matchers in SELECTOR.findall(expr):
            spec = BY_NAME.get(metric)
            if spec is None:  # ALERTS and recording rules carry labels of their own
                continue
            for label in MATCHER.findall(matchers):
                if label not in spec.labels:
                    problems.append(f"{where}: {metric} has no label {label!r}: {expr}")
    return problems


def variable_problems(d: dict) -> list[str]:
    problems = []
    defined = set(variables(d))
    for where, expr in expressions(d):
        missing = referenced_variables(expr) - defined
        if missing:
            problems.append(f"{where}: undefined variables {sorted(missing)}: {expr}")
    return problems


def promtool_problems(checks: list[tuple[str, str]]) -> list[str]:
    """(where, PromQL with Grafana variables) -> what promtool check rules rejects."""
    try:
        promql.find_tool("promtool")
    except UserError as error:
        pytest.fail(f"promtool is needed to check the dashboards' PromQL: {error}")
    rules = [{"record": f"dashboard:expr_{i}", "expr": substitute(expr)} for i, (_, expr) in enumerate(checks)]
    if promql.check_rule_groups([{"name": "dashboards", "rules": rules}]) is None:
        return []
    problems = []
    for where, expr in checks:
        one = [{"name": "one", "rules": [{"record": "dashboard:expr", "expr": substitute(expr)}]}]
        problem = promql.check_rule_groups(one)
        if problem:
            problems.append(f"{where}: {expr}\n    {problem}")
    return problems


def known_metrics(recorded: set[str]) -> set[str]:
    return set(all_sample_names()) | {r for r in recorded if r.startswith("kafka:")} | {"ALERTS"}


def assert_none(problems_by_dashboard: dict[str, list[str]]) -> None:
    lines = [f"{name}: {p}" for name, problems in sorted(problems_by_dashboard.items()) for p in problems]
    assert not lines, "\n".join(lines)


# --- identity ---------------------------------------------------------------------------------------------------

def test_the_four_dashboards_with_stable_uids_and_titles(dashboards):
    assert {name: (d["uid"], d["title"]) for name, d in dashboards.items()} == EXPECTED
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    for name, d in dashboards.items():
        assert name == f"{d['uid']}.json", "the uid names the file"
        assert len(d["uid"]) <= 40, "Grafana uids are at most 40 characters"


def test_schema_version_pinned_and_metadata(dashboards):
    for name, d in each_dashboard(dashboards):
        assert d["schemaVersion"] == SCHEMA_VERSION, name
        assert d.get("description"), f"{name}: no description"
        assert "kafka-detective" in d["tags"], name
        assert "id" not in d, f"{name}: a dashboard id would clash on import; only the uid identifies it"
        assert any(link.get("type") == "dashboards" and "kafka-detective" in link.get("tags", [])
                   for link in d["links"]), f"{name}: no link to the other Kafka Detective dashboards"


def test_output_is_deterministic(library, built):
    import json

    from kafka_detective_tools.patterns.dashboards import build_dashboards

    assert build_dashboards(library, library.config) == built
    for name, text in built.items():
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n", name


# --- datasource and variables ------------------------------------------------------------------------------------

def test_datasource_variable_is_used_by_every_panel_target_variable_and_annotation(dashboards):
    assert_none({name: datasource_problems(d) for name, d in each_dashboard(dashboards)})


def test_query_variables_use_label_values_of_labels_that_exist(dashboards):
    for name, d in each_dashboard(dashboards):
        for vname, var in variables(d).items():
            if var["type"] != "query":
                continue
            match = LABEL_VALUES.match(var["definition"])
            assert match, f"{name}: variable {vname}"
            assert var["query"] == var["definition"], f"{name}: variable {vname}"
            metric = SELECTOR.search(match.group("selector")) or re.match(r"\s*([A-Za-z_:][\w:]*)",
                                                                          match.group("selector"))
            spec = BY_NAME.get(metric.group(1))
            assert spec is not None, f"{name}: variable {vname}: {metric.group(1)} is not in the catalogue"
            assert match.group("label") in spec.labels, f"{name}: variable {vname}: {spec.name} has no label " \
                                                        f"{match.group('label')}"
            # Alerts link with var-<label>=<value>: a variable that lists a label's values is named after it.
            assert vname == match.group("label"), \
                f"{name}: variable {vname} lists {match.group('label')}; name it after the label"


def test_cluster_consumergroup_topic_variables(dashboards):
    required = {
        "kafka-detective-overview.json": {"datasource", "cluster"},
        "kafka-detective-consumer-groups.json": {"datasource", "cluster", "consumergroup", "topic"},
        "kafka-detective-cluster.json": {"datasource", "cluster", "broker_id", "topic"},
        "kafka-detective-detective.json": {"datasource", "cluster", "consumergroup", "topic"},
    }
    for name, d in each_dashboard(dashboards):
        assert required[name] <= set(variables(d)), name


def test_every_variable_used_is_defined(dashboards):
    assert_none({name: variable_problems(d) for name, d in each_dashboard(dashboards)})


# --- panels -----------------------------------------------------------------------------------------------------

def test_every_panel_has_a_unit_a_description_and_a_query_and_a_unique_id(dashboards):
    assert_none({name: panel_problems(d) for name, d in each_dashboard(dashboards)})


def test_grid_positions_fit_and_do_not_overlap(dashboards):
    assert_none({name: grid_problems(d) for name, d in each_dashboard(dashboards)})


def test_rows_group_panels(dashboards):
    for name, d in each_dashboard(dashboards):
        assert d["panels"][0]["type"] == "row", f"{name}: starts with a row"
        assert sum(p["type"] == "row" for p in d["panels"]) >= 3, name


def test_alert_annotations_from_alerts_series(dashboards):
    for name, d in each_dashboard(dashboards):
        annotations = [a for a in d["annotations"]["list"] if not a.get("builtIn")]
        assert annotations, f"{name}: no alert annotations"
        for a in annotations:
            assert a["enable"] and a["expr"].startswith("ALERTS{") and 'alertstate="firing"' in a["expr"], name


# --- PromQL -----------------------------------------------------------------------------------------------------

def test_rate_and_increase_use_rate_interval(dashboards):
    assert_none({name: rate_interval_problems(d) for name, d in each_dashboard(dashboards)})


def test_every_metric_and_label_exists(dashboards, recorded):
    assert_none({name: metric_problems(d, known_metrics(recorded)) for name, d in each_dashboard(dashboards)})


def test_catalogue_coverage(dashboards):
    """The dashboards show every family of the catalogue but a few identity/bookkeeping ones."""
    not_shown = {"kafka_topic_partition_leader_epoch", "kafka_consumergroup_current_offset_sum",
                 "kafka_detective_collection_cycles_total", "kafka_topic_partition_oldest_offset",
                 "kafka_topic_oldest_offset"}
    used = set()
    for _, d in each_dashboard(dashboards):
        for _, expr in expressions(d):
            used |= promql.metric_names(substitute(expr))
    missing = {spec.name for spec in BY_NAME.values()} - used - not_shown
    assert not missing, f"catalogue metrics no dashboard shows: {sorted(missing)}"


def test_every_expression_parses_with_promtool(dashboards):
    checks = [(f"{name}: {where}", expr) for name, d in each_dashboard(dashboards) for where, expr in expressions(d)]
    assert len(checks) > 100
    problems = promtool_problems(checks)
    assert not problems, "PromQL that promtool rejects:\n" + "\n".join(problems)


# --- links, runbooks and the pattern library ----------------------------------------------------------------------

def _runbook_url(library, pattern) -> str:
    url = getattr(pattern, "runbook_url", None)
    if url:
        return url
    from kafka_detective_tools.patterns import render

    return render.runbook_url(library, pattern)


def _runbook_panel(dashboards) -> dict:
    panels = [p for p in content_panels(dashboards[DETECTIVE]) if p["title"] == "Runbooks of every pattern"]
    assert len(panels) == 1
    return panels[0]


def test_detective_links_every_alert_to_its_runbook(library, dashboards):
    content = _runbook_panel(dashboards)["options"]["content"]
    patterns = list(library.patterns)
    assert patterns
    for pattern in patterns:
        url = _runbook_url(library, pattern)
        row = f"| [{pattern.alert}]({url}) | {pattern.severity} |"
        assert row in content, f"the Detective's runbook list has no row {row!r}"
    rows = [line for line in content.splitlines() if line.startswith("| [")]
    assert len(rows) == len(patterns), "one row per alert of the library"
    assert rows == sorted(rows), "rows sorted by alert name"


def test_firing_alert_tables_link_to_the_runbooks(library, dashboards):
    names = sorted(p.alert for p in library.patterns)
    for name, d in each_dashboard(dashboards):
        for panel in content_panels(d):
            for target in panel.get("targets") or []:
                if target["expr"].startswith("ALERTS{"):
                    # Only the library's alerts, never other alerts of the same Prometheus.
                    assert f'alertname=~"{"|".join(names)}"' in target["expr"], f"{name}: {panel['title']}"
            if panel["type"] != "table" or not panel["targets"][0]["expr"].startswith("ALERTS{"):
                continue
            links = [prop["value"] for o in panel["fieldConfig"]["overrides"]
                     if o["matcher"] == {"id": "byName", "options": "alertname"}
                     for prop in o["properties"] if prop["id"] == "links"]
            assert links and links[0], f"{name}: {panel['title']}: no runbook link on the alertname column"
            url = links[0][0]["url"]
            if "${__data.fields.alertname}" in url:
                for pattern in library.patterns:
                    assert url.replace("${__data.fields.alertname}", pattern.alert) == _runbook_url(library, pattern)
            else:
                assert "/d/kafka-detective-detective?" in url and "viewPanel=" in url, url
                assert f"viewPanel={_runbook_panel(dashboards)['id']}" in url


def test_pattern_dashboard_links_resolve(library, dashboards):
    """Every alert's dashboard_url (<grafana>/d/<dashboard>?var-<label>=...) opens a dashboard we ship, whose
    variables include the labels it passes."""
    by_uid = {d["uid"]: d for d in dashboards.values()}
    problems = []
    for pattern in library.patterns:
        where = f"{getattr(pattern, 'source', pattern.alert)}: dashboard: {pattern.dashboard}"
        if pattern.dashboard not in by_uid:
            problems.append(f"{where}: no dashboard has this uid")
            continue
        missing = set(pattern.dashboard_vars) - set(variables(by_uid[pattern.dashboard]))
        if missing:
            problems.append(f"{where}: dashboard_vars {sorted(missing)} are not variables of that dashboard")
    shipped = "\n".join(f"  {uid}: {d['title']} (variables: {', '.join(sorted(variables(d)))})"
                         for uid, d in sorted(by_uid.items()))
    assert not problems, "\n".join(problems) + f"\nthe dashboards are:\n{shipped}"


def test_links_between_dashboards_resolve(dashboards):
    import json

    by_uid = {d["uid"]: d for d in dashboards.values()}
    found = 0
    for name, d in each_dashboard(dashboards):
        for uid, query in re.findall(r"/d/([\w-]+)\?([^\"\s]*)", json.dumps(d)):
            found += 1
            assert uid in by_uid, f"{name}: link to unknown dashboard {uid}"
            for var in re.findall(r"var-(\w+)=", query):
                assert var in variables(by_uid[uid]), f"{name}: link to {uid} sets unknown variable {var}"
    assert found >= 5


def test_detective_explains_every_root_cause_and_scores_every_signal(dashboards):
    d = dashboards[DETECTIVE]
    causes = next(p for p in content_panels(d) if p["title"] == "Root causes")["options"]["content"]
    for cause in ROOT_CAUSES:
        assert f"| `{cause}` |" in causes
    titles = " ".join(p["title"] for p in content_panels(d))
    exprs = " ".join(expr for _, expr in expressions(d))
    for signal in ANOMALY_SIGNALS:
        assert f'signal="{signal}"' in exprs, signal
    assert "Anomaly score" in titles


def test_exporter_health_on_overview(dashboards):
    exprs = " ".join(expr for _, expr in expressions(dashboards["kafka-detective-overview.json"]))
    for metric in ("kafka_detective_collection_duration_seconds", "kafka_detective_collection_errors_total",
                   "kafka_detective_snapshot_age_seconds", "kafka_detective_cluster_up"):
        assert metric in exprs, metric


def test_committed_sources_are_the_ones_built():
    from kafka_detective_tools.patterns.dashboards import default_source_dir, output_name, sources

    directory = default_source_dir()
    assert {output_name(p) for p in sources(directory)} == set(EXPECTED)
    assert (directory / "lib" / "grafana.libsonnet").is_file()
    assert Path(directory).name == "dashboards"


def test_docs_name_every_dashboard():
    doc = Path(__file__).resolve().parents[3] / "docs" / "dashboards.md"
    text = doc.read_text(encoding="utf-8")
    for name, (uid, title) in EXPECTED.items():
        assert uid in text and title in text and name in text, name


# --- the checks catch what they are meant to catch -------------------------------------------------------------------

def test_checks_catch_a_broken_dashboard(dashboards):
    import copy

    d = copy.deepcopy(dashboards["kafka-detective-overview.json"])
    panel = next(p for p in d["panels"] if p["type"] == "timeseries")
    panel["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    panel["fieldConfig"]["defaults"].pop("unit")
    panel["description"] = ""
    panel["gridPos"] = dict(d["panels"][1]["gridPos"])
    panel["targets"][0]["expr"] = ('sum(rate(kafka_consumergroup_lagg{cluster=~"$cluster", group="x"}[5m]))'
                                   ' + on(cluster) $nosuchvar')
    assert any("datasource" in p for p in datasource_problems(d))
    assert any("no fieldConfig.defaults.unit" in p for p in panel_problems(d))
    other = next(p for p in d["panels"] if p["type"] == "stat")
    other["fieldConfig"]["defaults"]["unit"] = "secs"
    assert any("unit 'secs'" in p for p in panel_problems(d))
    assert any("no description" in p for p in panel_problems(d))
    assert any("overlaps" in p for p in grid_problems(d))
    assert any("must use [$__rate_interval]" in p for p in rate_interval_problems(d))
    assert any("unknown metric kafka_consumergroup_lagg" in p for p in metric_problems(d, known_metrics(set())))
    assert any("undefined variables ['nosuchvar']" in p for p in variable_problems(d))
    label = 'kafka_consumergroup_lag_sum{cluster=~"$cluster", group="x"}'
    assert any("has no label 'group'" in p
               for p in metric_problems({"panels": [{"id": 1, "title": "t", "targets": [{"expr": label}]}]}, set()))
    assert promtool_problems([("bad", 'sum by (topic) (rate(kafka_brokers[$__rate_interval])')])
    good = 'sum by (topic) (rate(kafka_brokers{cluster=~"$cluster|"}[$__rate_interval]))'
    assert not promtool_problems([("good", good)])
