"""kafka-detective generate: error path, --check, overrides, learned patterns, determinism."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
import yaml

from kafka_detective import cli
from kafka_detective_tools.patterns import generator
from kafka_detective_tools.patterns.config import substitute
from kafka_detective_tools.patterns.loader import load_library
from kafka_detective_tools.patterns.promql import metric_names

ROOT = Path(__file__).resolve().parents[3]
PATTERN = "patterns/consumer-lag-messages.yaml"


@pytest.fixture
def repo(tmp_path) -> Path:
    """A throwaway repository root holding a copy of the pattern library."""
    shutil.copytree(ROOT / "patterns", tmp_path / "patterns", ignore=shutil.ignore_patterns("learned"))
    return tmp_path


@pytest.fixture
def no_dashboards(monkeypatch):
    """Skip the (slow, separately tested) Jsonnet dashboards: generator tests are about the generator."""
    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "kafka_detective_tools.patterns.dashboards":
            raise ModuleNotFoundError(name=name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(generator.importlib, "import_module", fake)


def _edit(repo: Path, change) -> None:
    path = repo / PATTERN
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _set(key, value):
    def change(doc):
        doc[key] = value
    return change


def _drop(key):
    return lambda doc: doc.pop(key)


BROKEN = [
    ("missing summary", _drop("summary"), "field 'summary': missing"),
    ("missing mitigation", _drop("mitigation"), "field 'mitigation': missing"),
    ("PromQL does not parse", _set("expr", "kafka_consumergroup_lag_sum >"), "field 'expr': PromQL does not parse"),
    ("unknown metric", _set("expr", "kafka_consumergroup_lagg > 5"),
     "field 'expr': unknown metric kafka_consumergroup_lagg"),
    ("placeholder not in config", _set("expr", "kafka_consumergroup_lag_sum > [[ nope ]]"),
     "field 'expr': placeholder [[ nope ]]"),
    ("multiplier not in config",
     _set("expr", "delta(kafka_consumergroup_lag_sum[[[ lag_messages_window * nope ]]]) > 0"),
     "field 'expr': placeholder [[ nope ]]"),
    ("bad severity", _set("severity", "page"), "field 'severity'"),
    ("bad alert name", _set("alert", "ConsumerLagHigh"), "field 'alert'"),
    ("unknown root cause", _set("root_causes", ["gremlins"]), "field 'root_causes'"),
    ("bad duration", _set("for", "ten minutes"), "field 'for'"),
    ("no near-miss case", lambda d: d.update(tests=[t for t in d["tests"] if t["kind"] == "firing"]),
     "field 'tests': needs at least one near_miss case"),
    ("runbook query does not parse", lambda d: d["diagnosis"][0].update(promql="sum(("),
     "field 'diagnosis[0].promql': PromQL does not parse"),
    ("unknown field", _set("severty", "warning"), "field 'severty': unknown field"),
]


@pytest.mark.parametrize(("change", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_pattern_stops_with_one_message_naming_file_and_field(repo, tmp_path, capsys, change, expected):
    _edit(repo, change)
    code = cli.main(["generate", "--root", str(repo), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert PATTERN in err and expected in err, err
    assert not (tmp_path / "out").exists(), "nothing is written when the library is invalid"


def test_invalid_yaml_names_the_file(repo, tmp_path, capsys):
    (repo / PATTERN).write_text("alert: [unclosed\n")
    assert cli.main(["generate", "--root", str(repo), "--output-dir", str(tmp_path / "out")]) == 2
    assert PATTERN in capsys.readouterr().err


def test_check_detects_changed_missing_and_stale_files(repo, tmp_path, capsys, no_dashboards):
    out = tmp_path / "out"
    args = ["generate", "--root", str(repo), "--output-dir", str(out)]
    assert cli.main(args) == 0
    assert cli.main([*args, "--check"]) == 0
    (out / "runbooks" / "KafkaGhostAlert.md").write_text("# stale\n")
    (out / "alert-rules" / "prometheus-rules.yaml").write_text("groups: []\n")
    (out / "docs" / "metrics.md").unlink()
    capsys.readouterr()
    assert cli.main([*args, "--check"]) == 1
    err = capsys.readouterr().err
    assert "stale:   runbooks/KafkaGhostAlert.md" in err
    assert "changed: alert-rules/prometheus-rules.yaml" in err
    assert "missing: docs/metrics.md" in err
    assert cli.main(args) == 0
    assert "removed runbooks/KafkaGhostAlert.md" in capsys.readouterr().out
    assert not (out / "runbooks" / "KafkaGhostAlert.md").exists()
    assert cli.main([*args, "--check"]) == 0


def test_removing_a_pattern_removes_its_runbook_and_test(repo, tmp_path, no_dashboards):
    out = tmp_path / "out"
    args = ["generate", "--root", str(repo), "--output-dir", str(out)]
    assert cli.main(args) == 0
    assert (out / "runbooks" / "KafkaConsumerLagHigh.md").exists()
    (repo / PATTERN).unlink()
    assert cli.main([*args, "--check"]) == 1
    assert cli.main(args) == 0
    assert not (out / "runbooks" / "KafkaConsumerLagHigh.md").exists()
    assert not (out / "tests" / "rules" / "generated" / "consumer-lag-messages.test.yaml").exists()


def _generate_with(repo: Path, tmp_path: Path, config: str) -> int:
    """`generate` into tmp_path/out with `config` (the lines under `_config:`) as the override file."""
    override = tmp_path / "override.yaml"
    override.write_text("_config:\n" + config)
    return cli.main(["generate", "--root", str(repo), "--config-override", str(override),
                     "--output-dir", str(tmp_path / "out")])


def test_config_override_changes_durations_and_rejects_unknown_keys(repo, tmp_path, capsys, no_dashboards):
    out = tmp_path / "out"
    assert _generate_with(repo, tmp_path, "  lag_seconds_for: 1m\n  exporter_job_selector: 'job=\"kd-e2e\"'\n") == 0
    rules = yaml.safe_load((out / "alert-rules" / "prometheus-rules.yaml").read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert alerts["KafkaConsumerLagSecondsHigh"]["for"] == "1m"
    assert 'up{job="kd-e2e"}' in alerts["KafkaDetectiveExporterDown"]["expr"]
    assert "1m" in (out / "runbooks" / "KafkaConsumerLagSecondsHigh.md").read_text()
    assert _generate_with(repo, tmp_path, "  lag_seconds_forr: 1m\n") == 2
    assert "field 'lag_seconds_forr': unknown key" in capsys.readouterr().err


def test_duration_products_follow_the_window_they_multiply(repo, tmp_path, no_dashboards):
    # KafkaConsumerDeathSpiral's baseline spans death_spiral_baseline_windows of death_spiral_window ([[ w * n ]]):
    # overriding the window moves the baseline's range and offsets with it.
    assert _generate_with(repo, tmp_path, "  death_spiral_window: 5m\n  death_spiral_baseline_windows: 4\n") == 0
    rules = yaml.safe_load((tmp_path / "out" / "alert-rules" / "prometheus-rules.yaml").read_text())
    expr = next(r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == "KafkaConsumerDeathSpiral")
    assert "kafka_consumergroup_lag_sum[20m] offset 5m" in expr
    assert "kafka_consumergroup_lag_sum[5m] offset 20m" in expr
    assert "/ 4" in expr and "10m" not in expr and "30m" not in expr


@pytest.mark.parametrize(("value", "expected"), [
    ("0", "config key death_spiral_baseline_windows (patterns/config.yaml): must be a positive integer"),
    ("'three'", "config key death_spiral_baseline_windows (patterns/config.yaml): must be a positive integer"),
])
def test_a_duration_multiplied_by_no_count_names_the_key(repo, tmp_path, capsys, no_dashboards, value, expected):
    assert _generate_with(repo, tmp_path, f"  death_spiral_baseline_windows: {value}\n") == 2
    err = capsys.readouterr().err
    assert "patterns/consumer-death-spiral.yaml" in err and expected in err, err


def test_a_count_multiplying_no_duration_names_the_key(repo, tmp_path, capsys, no_dashboards):
    assert _generate_with(repo, tmp_path, "  death_spiral_window: 600\n") == 2
    err = capsys.readouterr().err
    assert "config key death_spiral_window (patterns/config.yaml): must be a positive duration" in err, err


def test_a_literal_count_multiplies_a_duration_too():
    def missing(key):
        raise AssertionError(key)

    # 1h30m x 3 = 270 minutes (format_duration writes the largest whole unit); x 2 = 3h; a bare [[ n ]] is the count
    assert substitute("[[ w * 3 ]] [[w*n]] [[ n ]]", {"w": "1h30m", "n": 2}, missing) == "270m 3h 2"


def test_learned_patterns_are_picked_up(repo, no_dashboards):
    learned = repo / "patterns" / "learned"
    learned.mkdir()
    doc = yaml.safe_load((repo / PATTERN).read_text())
    doc["alert"] = "KafkaLearnedCheckoutStall"
    doc["group"] = "kafka-detective.learned"
    (learned / "checkout-stall.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    library = load_library(repo)
    outputs = generator.build_outputs(library)
    assert "runbooks/KafkaLearnedCheckoutStall.md" in outputs.files
    assert "tests/rules/generated/learned-checkout-stall.test.yaml" in outputs.files
    assert "KafkaLearnedCheckoutStall" in outputs.files["alert-rules/prometheus-rules.yaml"]
    assert any(p.learned for p in library.patterns)


def test_output_is_deterministic(no_dashboards):
    first = generator.build_outputs(load_library(ROOT)).files
    second = generator.build_outputs(load_library(ROOT)).files
    assert first == second
    assert all("\t" not in text for text in first.values())


def test_prometheus_templates_survive_placeholder_substitution():
    library = load_library(ROOT)
    rule_text = generator.render.prometheus_rules(library)
    assert "{{ $labels.consumergroup }}" in rule_text
    assert "{{ $value | humanizeDuration }}" in rule_text
    assert "[[" not in rule_text


@pytest.mark.parametrize(("expr", "expected"), [
    ("kafka_consumergroup_lag_sum > 5", {"kafka_consumergroup_lag_sum"}),
    ('sum by (cluster, topic) (rate(kafka_topic_partition_current_offset{topic="x"}[5m]))',
     {"kafka_topic_partition_current_offset"}),
    ("a / on (cluster) group_left kafka:broker_leader_partitions:fair_share > 1.5",
     {"a", "kafka:broker_leader_partitions:fair_share"}),
    ("rate(x[1h] offset 1d) and ignoring (horizon) y < 1e3", {"x", "y"}),
    ('label_replace(up{job="a"}, "d", "$1", "cause", "(.*)")', {"up"}),
    ("min_over_time((a - a offset 1m)[15m:1m]) >= 0", {"a"}),
])
def test_metric_names(expr, expected):
    assert metric_names(expr) == expected
