"""The rule evaluation on replayed traces queries each alert with its recording rules written out: the queries must
be valid PromQL (promtool parses them), and a recorded series read over a range must become a subquery."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from kafka_detective_tools.patterns.promql import check_expressions
from kafka_detective_tools.repo import find_root
from kafka_detective_tools.scenarios.promeval import _inline, evaluate_rules, rules_of


def test_a_recorded_series_over_a_range_becomes_a_subquery_at_the_step_or_144_points():
    records = {"kafka:rate:1h": "sum by (topic) (rate(x[1h]))"}
    query = _inline("kafka:rate:1h / avg_over_time(kafka:rate:1h[1d]) and kafka:rate:1h_other", records, 30.0)
    assert query.count("sum by (topic) (rate(x[1h]))") == 2
    assert query.endswith('"kd_noop", "")[1d:600s]) and kafka:rate:1h_other')   # 86,400 s / 144
    assert _inline("max_over_time(kafka:rate:1h[30m])", records, 30.0).endswith(")[30m:30s])")


def test_every_shipped_alert_with_its_recording_rules_inlined_parses():
    assert shutil.which("promtool"), "promtool is required for this test (.ci/run and scripts/setup.sh install it)"
    rules = yaml.safe_load((find_root() / "alert-rules" / "prometheus-rules.yaml").read_text())
    records = {r["record"]: r["expr"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    alerts = [r["expr"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert any("[" in body and name + "[" in "".join(alerts + list(records.values()))
               for name, body in records.items()), "no recorded series is read over a range: the test proves nothing"
    assert check_expressions([_inline(expr, records) for expr in alerts]) is None


def test_compared_rules_are_renamed_in_their_names_and_expressions_only():
    doc = {"groups": [{"name": "g", "rules": [
        {"record": "kafka:rate:5m", "expr": "sum(rate(x[5m]))"},
        {"record": "kafka:rate:5m_max", "expr": "max_over_time(kafka:rate:5m[1h])"},
        {"alert": "Busy", "expr": "kafka:rate:5m > 2 * kafka:rate:5m_max and x_kafka:rate:5m", "for": "2m"}]}]}
    records, alerts = rules_of(doc, "_before")
    assert records == {"kafka:rate:5m_before": "sum(rate(x[5m]))",
                       "kafka:rate:5m_max_before": "max_over_time(kafka:rate:5m_before[1h])"}
    # the longer name is not renamed through its prefix, and a metric that merely contains a name keeps its own
    assert alerts == [("Busy_before", "Busy", "kafka:rate:5m_before > 2 * kafka:rate:5m_max_before and x_kafka:rate:5m",
                       120.0, 0.0)]
    # without a suffix: the file as it is
    assert rules_of(doc)[1] == [("Busy", "Busy", doc["groups"][0]["rules"][2]["expr"], 120.0, 0.0)]


def test_the_shipped_rules_compared_with_themselves_inline_to_the_same_queries():
    rules = yaml.safe_load((find_root() / "alert-rules" / "prometheus-rules.yaml").read_text())
    records, alerts = rules_of(rules)
    before_records, before_alerts = rules_of(rules, "_before")
    assert len(before_alerts) == len(alerts) > 0
    pairs = zip(alerts, before_alerts, strict=True)
    for (name, _, expr, *timing), (before_name, base, before_expr, *before_timing) in pairs:
        assert (before_name, base, before_timing) == (name + "_before", name, timing)
        assert _inline(before_expr, before_records) == _inline(expr, records)


def test_every_recorded_series_is_written_out_however_deep_the_rules_nest():
    rules = yaml.safe_load((find_root() / "alert-rules" / "prometheus-rules.yaml").read_text())
    records, alerts = rules_of(rules)
    for name, _, expr, *_ in alerts:
        query = _inline(expr, records)
        left = [r for r in records if re.search(r"(?<![\w:])" + re.escape(r) + r"(?![\w:])", query)]
        assert left == [], (name, left)
    # deepest first: each pass over the rules writes out one level only
    chain = {"kafka:level:10": "up"} | {f"kafka:level:{i}": f"kafka:level:{i + 1} + 1" for i in reversed(range(10))}
    assert "kafka:level" not in _inline("kafka:level:0", chain)
    with pytest.raises(ValueError, match="cycle"):
        _inline("kafka:a", {"kafka:a": "kafka:b", "kafka:b": "kafka:a"})


def test_a_rule_file_whose_recording_rules_cycle_is_refused_before_any_block_is_built(tmp_path):
    assert shutil.which("promtool") and shutil.which("prometheus"), "promtool and prometheus are required"
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"record": "kafka:a", "expr": "kafka:b + 1"}, {"record": "kafka:b", "expr": "kafka:a + 1"},
        {"alert": "Loop", "expr": "kafka:a > 0"}]}]}))
    result = evaluate_rules(tmp_path, rules, {}, progress=False)
    assert result["error"].startswith("alert Loop: recording rules nest deeper than")
