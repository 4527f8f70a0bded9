"""The rule evaluation on replayed traces queries each alert with its recording rules written out: the queries must
be valid PromQL (promtool parses them), and a recorded series read over a range must become a subquery."""

from __future__ import annotations

import shutil

import yaml

from kafka_detective_tools.patterns.promql import check_expressions
from kafka_detective_tools.repo import find_root
from kafka_detective_tools.scenarios.promeval import _inline


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
