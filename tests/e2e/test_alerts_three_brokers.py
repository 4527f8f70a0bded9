"""End to end on the 3-broker cluster: a broker dies, and the cluster alerts silence the group symptoms they explain.

The topic has min.insync.replicas=3, so the killed broker also leaves every partition under min ISR. The example
Alertmanager configuration inhibits `scope=consumergroup` alerts (other than data loss) while
`KafkaBrokerMissing` or `KafkaUnderMinIsrPartitions` fires on the same cluster.

The symptom: just before the kill, group e2e-symptom falls 5000 messages behind. Its KafkaConsumerLagHigh has a
`for:` of 60 s in this module, so it turns firing in Prometheus only after the cluster alerts are active; the
test checks that the Alertmanager then holds it as suppressed and never delivers it.
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

from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.stack import COMPRESSED_TIME
from kafka_detective_tools.sandbox.traffic import SCENARIOS, Phase

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.cluster3]

BROKER_DOWN = replace(SCENARIOS["broker-down"], topic="e2e-replicated", group="e2e-replicated",
                      topic_configs={"min.insync.replicas": "3"}, phases=(
    Phase("normal", 5, 40, consumers=2),
    Phase("broker crashed", 600, 40, consumers=2, actions=("kill_broker",)),
))


SYMPTOM_TOPIC = SYMPTOM_GROUP = "e2e-symptom"
OVERRIDES = {**COMPRESSED_TIME, "lag_messages_for": "60s"}


@pytest.fixture(scope="module")
def env() -> Iterator[E2E]:
    with e2e_environment(brokers=3, overrides=OVERRIDES) as environment:
        wait_until(lambda: environment.prometheus.value(f'kafka_brokers{{cluster="{CLUSTER}"}}') == 3, 60,
                   "three brokers in Prometheus")
        # A group the exporter knows before the broker dies, 5000 messages behind just before the kill.
        bootstrap = environment.kafka.bootstrap_servers
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="e2e")
        try:
            admin.create_topics({SYMPTOM_TOPIC: {"num_partitions": 1, "replication_factor": 3}})
            wait_until(lambda: [p for p in admin.describe_topics([SYMPTOM_TOPIC])[0]["partitions"]
                                if p["leader_id"] >= 0], 30, "the symptom topic")
            kafka_tools.produce(bootstrap, SYMPTOM_TOPIC, 10, partition=0)
            wait_until(lambda: admin.alter_group_offsets(SYMPTOM_GROUP, {TopicPartition(SYMPTOM_TOPIC, 0):
                                                                         OffsetAndMetadata(0, "", None)}) or True,
                       60, "committing the symptom group's offset")
        finally:
            admin.close()
        lag = f'kafka_consumergroup_lag_sum{{consumergroup="{SYMPTOM_GROUP}"}}'
        wait_until(lambda: environment.prometheus.value(lag) == 10, 60, "the symptom group's lag")
        kafka_tools.produce(bootstrap, SYMPTOM_TOPIC, 5000, partition=0)
        wait_until(lambda: (environment.prometheus.value(lag) or 0) >= 5000, 30, "the symptom group 5000 behind")
        environment.play("down", BROKER_DOWN)
        yield environment


def test_cluster_alerts_inhibit_the_group_symptoms_they_explain(env):
    check_delivered(env, "KafkaUnderMinIsrPartitions", timeout=120, cluster=CLUSTER, topic="e2e-replicated")
    sources = {"KafkaBrokerMissing", "KafkaUnderMinIsrPartitions"}

    def symptom(state: str) -> list:
        return [a for a in env.prometheus.rule_alerts("KafkaConsumerLagHigh", state=state)
                if a["labels"]["consumergroup"] == SYMPTOM_GROUP]

    assert not symptom("firing"), "the symptom fired before the cluster alerts: the test cannot tell inhibition"
    # The lag must stay above its threshold all through lag_messages_window before the rule is even pending, which
    # may end after the cluster alert was delivered: wait for it. Whatever it does from here on, it does while
    # the cluster alerts are active.
    wait_until(lambda: symptom("pending") or symptom("firing"), 90,
               "the symptom group pending (lag above the threshold all through the window, for: 60s)")
    # The symptom turns firing in Prometheus while the cluster alerts are active ...
    wait_until(lambda: symptom("firing"), 90, "KafkaConsumerLagHigh of the symptom group firing in Prometheus")
    # ... the Alertmanager receives it and holds it as inhibited by the cluster alerts ...
    held = wait_until(lambda: env.alertmanager.alerts(alertname="KafkaConsumerLagHigh", consumergroup=SYMPTOM_GROUP),
                      30, "the symptom at the Alertmanager")
    assert all(a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"] for a in held), held
    # ... and never delivers it while they are active (group_wait 1s, group_interval 2s).
    time.sleep(10)
    active = {a["labels"]["alertname"] for a in env.alertmanager.alerts(cluster=CLUSTER)
              if a["status"]["state"] == "active"}
    assert active & sources, f"no inhibiting alert active any more: {active}"
    delivered = env.webhook.alerts("KafkaConsumerLagHigh", consumergroup=SYMPTOM_GROUP)
    assert delivered == [], delivered


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
