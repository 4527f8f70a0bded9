"""End to end on the 3-broker cluster: a broker dies, and the cluster alerts silence the group symptoms they explain.

The topic has min.insync.replicas=3, so the killed broker also leaves every partition under min ISR. The example
Alertmanager configuration inhibits `scope=consumergroup` alerts (other than data loss) while
`KafkaBrokerMissing` or `KafkaUnderMinIsrPartitions` fires on the same cluster. The test makes a consumer-group
symptom fire in Prometheus *after* those alerts are active and checks that the Alertmanager holds it as suppressed
and never delivers it.
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

BROKER_DOWN = replace(SCENARIOS["broker-down"], topic="e2e-replicated", group="e2e-replicated",
                      topic_configs={"min.insync.replicas": "3"}, phases=(
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


def test_killed_broker_shows_elections_under_replication_and_under_min_isr(env):
    check_delivered(env, "KafkaUnderReplicatedPartitions", timeout=120, cluster=CLUSTER, topic="e2e-replicated")
    assert env.drivers["down"].killed_brokers, "the scenario killed a broker"
    check_delivered(env, "KafkaLeaderElections", timeout=60, cluster=CLUSTER)
    alert = check_delivered(env, "KafkaUnderMinIsrPartitions", timeout=60, cluster=CLUSTER, topic="e2e-replicated")
    assert alert["labels"]["severity"] == "critical"


def test_killed_broker_pages_as_broker_missing(env):
    check_delivered(env, "KafkaUnderReplicatedPartitions", timeout=120, cluster=CLUSTER, topic="e2e-replicated")
    # The dead broker is fenced by the controller within seconds (broker.session.timeout.ms=6000).
    wait_until(lambda: env.prometheus.value(f'kafka_brokers{{cluster="{CLUSTER}"}}') == 2, 60,
               "kafka_brokers to drop to 2 after the kill (a fenced broker must not count: DescribeCluster lists "
               "fenced brokers with is_fenced=true)")
    alert = check_delivered(env, "KafkaBrokerMissing", timeout=60, cluster=CLUSTER)
    assert alert["labels"]["severity"] == "critical"


def test_cluster_alerts_inhibit_the_group_symptoms_they_explain(env):
    check_delivered(env, "KafkaUnderMinIsrPartitions", timeout=120, cluster=CLUSTER, topic="e2e-replicated")
    sources = {"KafkaBrokerMissing", "KafkaUnderMinIsrPartitions"}
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
    active = {a["labels"]["alertname"] for a in env.alertmanager.alerts(cluster=CLUSTER)
              if a["status"]["state"] == "active"}
    assert active & sources, f"no inhibiting alert active any more: {active}"
    delivered = env.webhook.alerts("KafkaConsumerLagHigh", consumergroup="e2e-symptom")
    assert delivered == [], delivered
