"""End to end on one broker: consumers down, a lag breach predicted from a producer burst, messages lost, and
every dashboard, recording-rule and runbook query on the live Prometheus.

The three scenarios run at the same time on their own topics and groups (one Kafka, one exporter, one
Prometheus, one Alertmanager for the module); each test waits for its own alert at the webhook.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_support import (
    CLUSTER,
    E2E,
    check_delivered,
    dashboard_queries,
    e2e_environment,
    recording_rules,
    runbook_promql,
    substitute_grafana,
    wait_until,
)

from kafka_detective_tools.sandbox.traffic import SCENARIOS, Phase, TrafficScenario

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

DOWN = replace(SCENARIOS["consumers-down"], topic="e2e-down", group="e2e-down", phases=(
    Phase("normal traffic", 20, 60, consumers=2),
    Phase("consumers crashed", 600, 60, consumers=0),
))
# The 3 AM mystery in fast forward: a quiet baseline, then a producer batch at 6x the rate the consumers can take.
BURST = replace(SCENARIOS["the-3am-mystery"], topic="e2e-orders", group="e2e-checkout", phases=(
    Phase("quiet night", 30, 30, consumers=2, consumer_rate=35),
    Phase("03:00 batch", 600, 200, consumers=2, consumer_rate=35),
))
# Slow consumers build a backlog; then retention (delete_records up to the log end) removes it unread.
LOST = TrafficScenario(
    name="e2e-vanishing", title="records deleted past the committed offset", story="", topic="e2e-payments",
    group="e2e-ledger", partitions=2, expected_cause="retention_loss", phases=(
        Phase("normal", 15, 50, consumers=1),
        Phase("slow consumer", 30, 50, consumers=1, consumer_rate=5),
        Phase("retention deletes the backlog", 600, 50, consumers=1, consumer_rate=5, actions=("delete_records",)),
    ))


@pytest.fixture(scope="module")
def env() -> Iterator[E2E]:
    with e2e_environment(brokers=1) as environment:
        environment.play("down", DOWN)
        environment.play("burst", BURST)
        environment.play("lost", LOST)
        yield environment


def test_consumers_down_pages_with_the_consumer_down_diagnosis(env):
    alert = check_delivered(env, "KafkaConsumerGroupEmpty", timeout=150, diagnosis="consumer_down",
                            cluster=CLUSTER, consumergroup="e2e-down", topic="e2e-down")
    assert alert["labels"]["severity"] == "critical"
    assert "consumer_down" in alert["annotations"]["probable_cause"]
    # the lag alerts carry the same diagnosis
    check_delivered(env, "KafkaConsumerLagSecondsHigh", timeout=60, diagnosis="consumer_down",
                    consumergroup="e2e-down")


def test_producer_burst_predicts_a_lag_breach_diagnosed_as_producer_spike(env):
    alert = check_delivered(env, "KafkaConsumerLagBreachPredicted", timeout=150, diagnosis="producer_spike",
                            cluster=CLUSTER, consumergroup="e2e-checkout", topic="e2e-orders")
    # The alert's value is the time left before the threshold, which the summary prints.
    assert "forecast to pass its threshold in" in alert["annotations"]["summary"]
    assert alert["labels"]["severity"] == "warning"


def test_records_deleted_past_the_committed_offset_page_as_messages_lost(env):
    alert = check_delivered(env, "KafkaConsumerMessagesLost", timeout=150, diagnosis="retention_loss",
                            cluster=CLUSTER, consumergroup="e2e-ledger", topic="e2e-payments")
    assert alert["labels"]["severity"] == "critical"
    lost = env.prometheus.value('sum(kafka_consumergroup_lost_messages_total{consumergroup="e2e-ledger"})')
    assert lost and lost > 0


def test_every_rule_evaluates_and_every_recording_rule_answers(env):
    wait_until(lambda: env.prometheus.value("count(ALERTS)"), 60, "some alert in Prometheus")
    assert env.prometheus.rule_health() == []
    for record, expr in recording_rules():
        env.prometheus.query(expr)   # raises on an error
        # The seasonal baselines compare with the same hour days ago: by design they have no data on a stack that
        # is minutes old. Everything else about rates must answer now.
        needs_days_of_history = record.endswith((":baseline", ":baseline_days", ":same_hour"))
        if record.startswith(("kafka:topic_produce_rate", "kafka:consumergroup_consume_rate")) \
                and not needs_days_of_history:
            assert env.prometheus.query(record), f"recording rule {record} has no data"


def test_every_dashboard_query_evaluates_and_core_panels_have_data(env):
    # rate(...[1m]) needs a minute of scrapes
    wait_until(lambda: env.prometheus.query('rate(kafka_topic_partition_current_offset{topic="e2e-orders"}[1m]) > 0'),
               90, "a minute of offsets")
    failures, empty = [], []
    for dashboard, title, expr in dashboard_queries():
        query = substitute_grafana(expr)
        try:
            result = env.prometheus.query(query)
        except Exception as error:
            failures.append(f"{dashboard} / {title}: {error}")
            continue
        if not result:
            empty.append((dashboard, title))
    assert failures == [], "\n".join(failures)
    core = {("kafka-detective-consumer-groups.json", "Lag (messages)"),
            ("kafka-detective-consumer-groups.json", "Lag (seconds)"),
            ("kafka-detective-consumer-groups.json", "Produce vs consume rate"),
            ("kafka-detective-overview.json", "Brokers"),
            ("kafka-detective-cluster.json", "Brokers"),
            ("kafka-detective-cluster.json", "Produce rate by topic (top 10)")}
    assert not core & set(empty), f"core panels without data: {sorted(core & set(empty))}"


def test_every_runbook_query_evaluates(env):
    values = {"cluster": CLUSTER, "consumergroup": "e2e-down", "topic": "e2e-down", "broker_id": "1",
              "namespace": "default", "deployment": "checkout"}
    snippets = runbook_promql()
    assert len(snippets) > 20
    failures = []
    for runbook, expr in snippets:
        try:
            env.prometheus.query(substitute_grafana(expr, values))
        except Exception as error:
            failures.append(f"{runbook}: {error}\n{expr}")
    assert failures == [], "\n\n".join(failures)
