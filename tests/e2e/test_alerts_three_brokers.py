"""End to end on the 3-broker cluster: a broker dies, and the broker alert silences the group symptoms it explains.

The example Alertmanager configuration inhibits `scope=consumergroup` alerts (other than data loss) while
`KafkaBrokerMissing` fires on the same cluster. The test makes a consumer-group symptom fire in Prometheus *after*
the broker alert is active and checks that the Alertmanager holds it as suppressed and never delivers it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.structs import OffsetAndMetadata, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_support import CLUSTER, E2E, check_delivered, e2e_environment, wait_until

from kafka_detective.sandbox import kafka_tools
from kafka_detective.sandbox.traffic import SCENARIOS, Phase

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.cluster3]

BROKER_DOWN = replace(SCENARIOS["broker-down"], topic="e2e-replicated", group="e2e-replicated", phases=(
    Phase("normal", 15, 40, consumers=2),
    Phase("broker crashed", 600, 40, consumers=2, actions=("kill_broker",)),
))


@pytest.fixture(scope="module")
def env() -> Iterator[E2E]:
    with e2e_environment(brokers=3) as environment:
        wait_until(lambda: environment.prometheus.value(f'kafka_brokers{{cluster="{CLUSTER}"}}') == 3, 60,
                   "three brokers in Prometheus")
        environment.play("down", BROKER_DOWN)
        yield environment


def test_killed_broker_pages_and_shows_elections_and_under_replication(env):
    alert = check_delivered(env, "KafkaBrokerMissing", timeout=120, cluster=CLUSTER)
    assert alert["labels"]["severity"] == "critical"
    assert env.drivers["down"].killed_brokers, "the scenario killed a broker"
    check_delivered(env, "KafkaUnderReplicatedPartitions", timeout=60, cluster=CLUSTER, topic="e2e-replicated")
    check_delivered(env, "KafkaLeaderElections", timeout=60, cluster=CLUSTER)


def test_broker_alert_inhibits_the_group_symptoms_it_explains(env):
    check_delivered(env, "KafkaBrokerMissing", timeout=120, cluster=CLUSTER)
    # A group far behind appears while the broker is down: KafkaConsumerLagHigh fires in Prometheus ...
    bootstrap = ",".join(env.kafka.bootstrap_for(b) for b in env.kafka.live_broker_ids)
    topic = "e2e-symptom"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="e2e")
    try:
        admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 2}})
        wait_until(lambda: admin.describe_topics([topic])[0]["partitions"], 30, "the symptom topic")
        kafka_tools.produce(bootstrap, topic, 5000, partition=0)
        wait_until(lambda: admin.alter_group_offsets("e2e-symptom", {TopicPartition(topic, 0): OffsetAndMetadata(
            0, "", None)}) is not None or True, 60, "committing the symptom group's offset")
    finally:
        admin.close()
    firing = wait_until(lambda: env.prometheus.rule_alerts("KafkaConsumerLagHigh", state="firing"), 60,
                        "KafkaConsumerLagHigh firing in Prometheus")
    assert any(a["labels"]["consumergroup"] == "e2e-symptom" for a in firing)
    # ... the Alertmanager receives it and holds it as inhibited by the broker alert ...
    held = wait_until(lambda: env.alertmanager.alerts(alertname="KafkaConsumerLagHigh", consumergroup="e2e-symptom"),
                      30, "the symptom at the Alertmanager")
    assert all(a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"] for a in held), held
    # ... and never delivers it while the broker alert is active (group_wait 1s, group_interval 2s).
    time.sleep(10)
    assert env.alertmanager.alerts(alertname="KafkaBrokerMissing", cluster=CLUSTER)
    delivered = env.webhook.alerts("KafkaConsumerLagHigh", consumergroup="e2e-symptom")
    assert delivered == [], delivered
