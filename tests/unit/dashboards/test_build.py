"""`build_dashboards`: what it accepts from the pattern library and how it fails."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from kafka_detective.errors import UserError
from kafka_detective_tools.patterns import dashboards as builder

ALERTS = [
    {"alert": "KafkaB", "severity": "warning", "summary": "B | with a pipe\nand a newline",
     "runbook_url": "https://runbooks.example/KafkaB.md"},
    {"alert": "KafkaA", "severity": "critical", "summary": "A", "runbook_url": "https://runbooks.example/KafkaA.md"},
]


def detective(built: dict[str, str]) -> dict:
    return json.loads(built["kafka-detective-detective.json"])


def runbook_content(built: dict[str, str]) -> str:
    panel = next(p for p in detective(built)["panels"] if p["title"] == "Runbooks of every pattern")
    return panel["options"]["content"]


def alertname_link(built: dict[str, str]) -> str:
    table = next(p for p in detective(built)["panels"] if p["title"].startswith("Active patterns"))
    override = next(o for o in table["fieldConfig"]["overrides"] if o["matcher"]["options"] == "alertname")
    return override["properties"][0]["value"][0]["url"]


def test_accepts_a_list_of_mappings_sorted_and_escaped():
    built = builder.build_dashboards(ALERTS, {})
    content = runbook_content(built)
    a = content.index("| [KafkaA](https://runbooks.example/KafkaA.md) | critical | A |")
    b = content.index("| [KafkaB](https://runbooks.example/KafkaB.md) | warning | B \\| with a pipe and a newline |")
    assert a < b
    assert alertname_link(built) == "https://runbooks.example/${__data.fields.alertname}.md"
    overview = json.loads(built["kafka-detective-overview.json"])
    exprs = [t["expr"] for p in overview["panels"] for t in p.get("targets", [])]
    assert any('alertname=~"KafkaA|KafkaB"' in e for e in exprs)


def test_accepts_objects_with_patterns_and_the_config_runbook_base():
    library = SimpleNamespace(
        config={"runbook_url_base": "https://rb.example/base/"},
        patterns=[SimpleNamespace(alert="KafkaX", severity="info", summary="x", dashboard="kafka-detective-overview")],
    )
    built = builder.build_dashboards(library, library.config)
    assert "| [KafkaX](https://rb.example/base/KafkaX.md) | info | x |" in runbook_content(built)


def test_config_defaults_to_the_library_config_and_thresholds_reach_the_panels():
    library = SimpleNamespace(config={"runbook_url_base": "https://rb", "lag_seconds_warning": 123,
                                      "lag_seconds_critical": 456}, patterns=[])
    built = builder.build_dashboards(library)
    group = json.loads(built["kafka-detective-consumer-groups.json"])
    panel = next(p for p in group["panels"] if p["title"] == "Lag (seconds)")
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 123, 456]


def test_runbooks_without_a_common_scheme_link_to_the_detective_list():
    alerts = [dict(ALERTS[0]), dict(ALERTS[1], runbook_url="https://wiki.example/pages/42")]
    built = builder.build_dashboards(alerts, {})
    link = alertname_link(built)
    assert link.startswith("/d/kafka-detective-detective?") and "viewPanel=1000" in link
    assert "| [KafkaA](https://wiki.example/pages/42) |" in runbook_content(built)


def test_empty_library_still_compiles():
    built = builder.build_dashboards([], {})
    assert sorted(built) == sorted(f"kafka-detective-{n}.json" for n in
                                   ("overview", "consumer-groups", "cluster", "detective"))
    assert "defines no alerts" in runbook_content(built)
    exprs = [t["expr"] for p in detective(built)["panels"] for t in p.get("targets", [])]
    assert any(e.startswith('ALERTS{alertstate="firing", alertname=~".+"') for e in exprs)


def test_duplicate_alert_is_refused():
    with pytest.raises(UserError, match="KafkaA is defined twice"):
        builder.build_dashboards([ALERTS[1], ALERTS[1]], {})


def test_alert_without_runbook_and_without_base_url_is_refused():
    with pytest.raises(UserError, match="KafkaZ: no runbook_url"):
        builder.build_dashboards([{"alert": "KafkaZ", "severity": "info", "summary": "z"}], {})


def test_missing_jsonnet_binding_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "_jsonnet", None)
    with pytest.raises(UserError, match=r"_jsonnet.*kafka-detective\[generate\]"):
        builder.build_dashboards(ALERTS, {})


def _copy_sources(tmp_path: Path) -> Path:
    target = tmp_path / "dashboards"
    shutil.copytree(builder.default_source_dir() / "lib", target / "lib")
    (target / "src").mkdir()
    return target


def test_jsonnet_error_names_the_source(tmp_path):
    directory = _copy_sources(tmp_path)
    (directory / "src" / "broken.jsonnet").write_text("function(params={}) { uid: error 'boom' }\n")
    with pytest.raises(UserError, match=r"broken\.jsonnet: RUNTIME ERROR: boom"):
        builder.build_dashboards(ALERTS, {}, directory=directory)


def test_uid_must_name_the_file(tmp_path):
    directory = _copy_sources(tmp_path)
    shutil.copy(builder.default_source_dir() / "src" / "overview.jsonnet", directory / "src" / "other.jsonnet")
    with pytest.raises(UserError, match="uid 'kafka-detective-overview' must be 'kafka-detective-other'"):
        builder.build_dashboards(ALERTS, {}, directory=directory)


def test_sources_compile_without_the_generator():
    """`jsonnet -J dashboards/lib dashboards/src/x.jsonnet` works too (empty library)."""
    import _jsonnet

    for path in builder.sources():
        dashboard = json.loads(_jsonnet.evaluate_file(str(path), jpathdir=[str(builder.default_source_dir() / "lib")]))
        assert dashboard["uid"] == f"kafka-detective-{path.stem}"


def test_dashboards_fit_a_configmap_and_kubectl_apply():
    """The chart ships each dashboard in a ConfigMap; client-side `kubectl apply` copies it into a 256 KiB
    annotation."""
    for name, text in builder.build_dashboards(ALERTS * 1 + [
            {"alert": f"KafkaPattern{i}", "severity": "warning", "summary": "s" * 200,
             "runbook_url": f"https://runbooks.example/KafkaPattern{i}.md"} for i in range(60)], {}).items():
        assert len(text.encode()) < 200_000, name


def test_summaries_lose_their_templating():
    summary = "Group {{ $labels.consumergroup }} is {{ $value | humanizeDuration }} behind {{ if true }}x{{ end }}."
    assert builder.plain_summary(summary) == "Group `<consumergroup>` is `<value>` behind …x…."


def test_unknown_metric_is_refused_at_generation(tmp_path):
    directory = _copy_sources(tmp_path)
    (directory / "src" / "x.jsonnet").write_text(
        "local kd = import 'kd.libsonnet';\n"
        "function(params={}) kd.dashboard({uid: 'kafka-detective-x', title: 'X'}, 'x', [], kd.params(params))\n"
        "+ kd.g.dashboard.withPanels([kd.g.panel.stat.new('S', 'short', 'a description of the panel')\n"
        "  + kd.g.panel.withTargets([kd.g.target.new('sum(kafka_consumer_lagg{cluster=~\"$cluster\"})')])])\n"
    )
    with pytest.raises(UserError, match=r"kafka-detective-x\.json: panel 'S': unknown metric kafka_consumer_lagg"):
        builder.build_dashboards(ALERTS, {}, directory=directory)
