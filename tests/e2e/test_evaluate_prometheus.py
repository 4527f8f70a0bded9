"""`kafka-detective evaluate --prometheus`: the shipped alert rules, on a real Prometheus, over a few family traces.

Three short traces of the train split (a few hours each, `families.shortened`): a consumer group going down, a
broker failing and a quiet day. `evaluate` turns them into TSDB blocks with promtool, serves them with prometheus
and runs every alert of `alert-rules/prometheus-rules.yaml` over them. What a user relies on: the alert named for
each incident fires during it, soon after the onset, and nothing fires on the quiet trace. A rule whose expression
never fires (or fires all the time) fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from kafka_detective.cli import main
from kafka_detective_tools.scenarios import families, simulator
from kafka_detective_tools.scenarios.trace import write_trace, write_truth

pytestmark = [pytest.mark.e2e]

RULES = Path(__file__).resolve().parents[2] / "alert-rules" / "prometheus-rules.yaml"
# (family, the alert that must fire for its incident, the longest acceptable delay after the onset): the
# group's Empty state held for the rule's window, a broker gone from the metadata for its `for:`
INCIDENTS = (("consumer_down", "KafkaConsumerGroupEmpty", 15 * 60.0),
             ("broker_failure", "KafkaBrokerMissing", 10 * 60.0))


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> dict:
    assert shutil.which("promtool") and shutil.which("prometheus"), (
        "promtool and prometheus are required (scripts/setup.sh; PATH=$HOME/.cache/kafka-detective/bin:$PATH)")
    traces = tmp_path_factory.mktemp("traces")
    for family, _, _ in INCIDENTS:
        _write(traces, families.shortened(families.sample("train", family, 0)))
    _write(traces, families.shortened(families.sample("train", "quiet", 0), after=4 * simulator.HOUR))
    out = traces.parent / "evaluation.json"
    assert main(["evaluate", "--scenarios", str(traces), "--prometheus", "--rules", str(RULES), "--quiet",
                 "--compare-rules", str(_rules_before(traces.parent)), "--json", str(out)]) == 0
    return json.loads(out.read_text())


# The rules "before a change" for --compare-rules: the shipped file with KafkaConsumerGroupEmpty unable to fire.
CHANGED = "KafkaConsumerGroupEmpty"


def _rules_before(directory: Path) -> Path:
    rules = yaml.safe_load(RULES.read_text())
    changed = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == CHANGED]
    assert len(changed) == 1
    changed[0]["expr"] = "kafka_consumergroup_members < 0"
    path = directory / "rules-before.yaml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


def _write(directory: Path, sc: simulator.Scenario) -> None:
    series, truth = simulator.simulate(sc)
    families.expected_alerts(series, truth)
    write_trace(directory / f"{sc.name}.om.gz", series)
    write_truth(directory / f"{sc.name}.truth.yaml", truth)


def test_every_alert_query_runs(evaluation):
    prom = evaluation["prometheus"]
    assert "error" not in prom, prom
    assert {a: v["error"] for a, v in prom["alerts"].items() if "error" in v} == {}


@pytest.mark.parametrize(("family", "alert", "max_delay"), INCIDENTS)
def test_the_expected_alert_fires_for_the_incident(evaluation, family, alert, max_delay):
    stats = evaluation["prometheus"]["alerts"][alert]
    assert (stats["caught"], stats["incidents"]) == (1, 1), stats
    assert stats["delays"][0] <= max_delay, stats
    assert stats["fp"] == 0, stats["false_positives"]


def test_every_missed_incident_is_listed_with_its_trace(evaluation):
    # the alerts expected for an incident that did not fire (e.g. a lag alert on a short trace) are named with
    # the trace to open, one entry per miss
    traces = {families.sample("train", family, 0).name for family, _, _ in INCIDENTS}
    for alert, stats in evaluation["prometheus"]["alerts"].items():
        assert len(stats["missed"]) == stats["incidents"] - stats["caught"], (alert, stats)
        assert all(entry.split("@")[0] in traces for entry in stats["missed"]), (alert, stats["missed"])


def test_no_alert_fires_on_the_quiet_trace(evaluation):
    prom = evaluation["prometheus"]
    assert prom["quiet_false_alerts"] == {}
    assert prom["quiet_false_alerts_per_day"] == 0


def test_compared_rules_run_beside_the_shipped_ones(evaluation):
    # --compare-rules: the other file's alerts as <alert>_before, scored against the same incidents. The unchanged
    # alerts give the same episodes; the changed one misses the incident the shipped one catches.
    alerts = evaluation["prometheus"]["alerts"]
    shipped = [a for a in alerts if not a.endswith("_before")]
    assert sorted(a + "_before" for a in shipped) == sorted(a for a in alerts if a.endswith("_before"))
    keys = ("tp", "fp", "incidents", "caught", "delays", "false_positives")
    for alert in shipped:
        if alert != CHANGED:
            assert {k: alerts[alert][k] for k in keys} == {k: alerts[alert + "_before"][k] for k in keys}, alert
    assert (alerts[CHANGED]["caught"], alerts[CHANGED]["incidents"]) == (1, 1)
    before = alerts[CHANGED + "_before"]
    assert (before["caught"], before["incidents"], before["tp"] + before["fp"]) == (0, 1, 0)
    assert before["missed"][0].startswith(families.sample("train", "consumer_down", 0).name + "@")
    assert evaluation["prometheus"]["quiet_false_alerts_before"] == {}
    assert evaluation["prometheus"]["quiet_false_alerts_per_day_before"] == 0
