"""Brokers, controller, partition leadership and replication."""

from __future__ import annotations

from collections import Counter

from kafka_detective.metrics.family import Family, labelset
from kafka_detective.metrics.selection import partition_series
from kafka_detective.metrics.spec import BROKER, PARTITION, TOPIC, C, MetricSpec
from kafka_detective.metrics.view import View

BROKERS = MetricSpec(
    "kafka_brokers", "gauge", C, "Number of live brokers in the cluster (fenced brokers excluded).",
    "cluster", True)
# `id` and `address` are kafka_exporter's labels for the same thing: both sets are carried so queries written
# for either exporter keep working.
BROKER_INFO = MetricSpec(
    "kafka_broker_info", "gauge", BROKER + ("host", "port", "rack", "id", "address"),
    "Identity of a live (unfenced) broker; always 1. `id` and `address` (host:port) repeat broker_id, "
    "host and port under kafka_exporter's label names.", "cluster", True)
BROKER_IS_CONTROLLER = MetricSpec(
    "kafka_broker_is_controller", "gauge", BROKER,
    "1 if this broker is the active controller reported by the cluster, else 0.", "cluster")
BROKER_LEADER_PARTITIONS = MetricSpec(
    "kafka_broker_leader_partitions", "gauge", BROKER,
    "Partitions this broker currently leads.", "cluster")
BROKER_PREFERRED_LEADER_PARTITIONS = MetricSpec(
    "kafka_broker_preferred_leader_partitions", "gauge", BROKER,
    "Partitions whose preferred (first) replica is this broker; the difference to "
    "kafka_broker_leader_partitions is the preferred-leader imbalance.", "cluster")
TOPIC_PARTITIONS = MetricSpec(
    "kafka_topic_partitions", "gauge", TOPIC, "Number of partitions of the topic.", "cluster", True)
LEADER = MetricSpec(
    "kafka_topic_partition_leader", "gauge", PARTITION,
    "Broker id of the partition leader (-1 when the partition has no leader).", "cluster", True)
LEADER_EPOCH = MetricSpec(
    "kafka_topic_partition_leader_epoch", "gauge", PARTITION,
    "Leader epoch of the partition.", "cluster")
REPLICAS = MetricSpec(
    "kafka_topic_partition_replicas", "gauge", PARTITION,
    "Number of replicas of the partition.", "cluster", True)
IN_SYNC_REPLICAS = MetricSpec(
    "kafka_topic_partition_in_sync_replica", "gauge", PARTITION,
    "Number of in-sync replicas of the partition.", "cluster", True)
OFFLINE_REPLICAS = MetricSpec(
    "kafka_topic_partition_offline_replicas", "gauge", PARTITION,
    "Number of offline replicas of the partition.", "cluster")
LEADER_IS_PREFERRED = MetricSpec(
    "kafka_topic_partition_leader_is_preferred", "gauge", PARTITION,
    "1 if the leader is the preferred (first) replica, else 0.", "cluster", True)
UNDER_REPLICATED = MetricSpec(
    "kafka_topic_partition_under_replicated_partition", "gauge", PARTITION,
    "1 if the partition has fewer in-sync replicas than replicas, else 0.", "cluster", True)
OFFLINE = MetricSpec(
    "kafka_topic_partition_offline", "gauge", PARTITION,
    "1 if the partition has no leader, else 0.", "cluster")
UNDER_MIN_ISR = MetricSpec(
    "kafka_topic_partition_under_min_isr", "gauge", PARTITION,
    "1 if the in-sync replicas are fewer than the topic's min.insync.replicas, else 0.", "cluster")
LEADER_CHANGES = MetricSpec(
    "kafka_topic_partition_leader_changes_total", "counter", PARTITION,
    "Leader changes seen since the exporter started (leader-epoch increase, or leader change "
    "between cycles).", "cluster")

# At topic granularity these per-topic counts are rendered instead of the per-partition flags they sum; the
# leader and leader epoch of a partition have no sum (kafka_broker_leader_partitions counts leadership).
TOPIC_PREFERRED_LEADERS = MetricSpec(
    "kafka_topic_preferred_leader_partitions", "gauge", TOPIC,
    "Partitions of the topic led by their preferred (first) replica; rendered instead of "
    "kafka_topic_partition_leader_is_preferred at topic granularity.", "cluster",
    replaces=(LEADER_IS_PREFERRED,))
TOPIC_UNDER_REPLICATED = MetricSpec(
    "kafka_topic_under_replicated_partitions", "gauge", TOPIC,
    "Partitions of the topic with fewer in-sync replicas than replicas; rendered instead of "
    "kafka_topic_partition_under_replicated_partition at topic granularity.", "cluster",
    replaces=(UNDER_REPLICATED,))
TOPIC_OFFLINE = MetricSpec(
    "kafka_topic_offline_partitions", "gauge", TOPIC,
    "Partitions of the topic without a leader; rendered instead of kafka_topic_partition_offline at topic "
    "granularity.", "cluster", replaces=(OFFLINE,))
TOPIC_UNDER_MIN_ISR = MetricSpec(
    "kafka_topic_under_min_isr_partitions", "gauge", TOPIC,
    "Partitions of the topic with fewer in-sync replicas than its min.insync.replicas; rendered instead of "
    "kafka_topic_partition_under_min_isr at topic granularity.", "cluster", replaces=(UNDER_MIN_ISR,))
TOPIC_LEADER_CHANGES = MetricSpec(
    "kafka_topic_leader_changes_total", "counter", TOPIC,
    "Leader changes of the topic's partitions seen since the exporter started; rendered instead of "
    "kafka_topic_partition_leader_changes_total at topic granularity.", "cluster", replaces=(LEADER_CHANGES,))
PARTITION_SPECS = (LEADER, LEADER_EPOCH, REPLICAS, IN_SYNC_REPLICAS, OFFLINE_REPLICAS, LEADER_IS_PREFERRED,
                   UNDER_REPLICATED, OFFLINE, UNDER_MIN_ISR, LEADER_CHANGES)
TOPIC_SUMS = (TOPIC_PREFERRED_LEADERS, TOPIC_UNDER_REPLICATED, TOPIC_OFFLINE, TOPIC_UNDER_MIN_ISR,
              TOPIC_LEADER_CHANGES)

SPECS = (BROKERS, BROKER_INFO, BROKER_IS_CONTROLLER, BROKER_LEADER_PARTITIONS, BROKER_PREFERRED_LEADER_PARTITIONS,
         TOPIC_PARTITIONS, LEADER, LEADER_EPOCH, REPLICAS, IN_SYNC_REPLICAS, OFFLINE_REPLICAS, LEADER_IS_PREFERRED,
         UNDER_REPLICATED, OFFLINE, UNDER_MIN_ISR, LEADER_CHANGES, *TOPIC_SUMS)


def _address(host: str, port: int) -> str:
    """`host:port` as kafka_exporter prints it, with IPv6 literals bracketed so the port stays unambiguous."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def families(view: View) -> list[Family]:
    state = view.snapshot.state
    if state is None:
        return []
    c = view.cluster
    brokers, info, controller = Family(BROKERS), Family(BROKER_INFO), Family(BROKER_IS_CONTROLLER)
    led, preferred = Family(BROKER_LEADER_PARTITIONS), Family(BROKER_PREFERRED_LEADER_PARTITIONS)
    brokers.add((c,), len(state.brokers))
    preferred_counts = Counter(p.preferred_leader for p in state.partitions.values() if p.replicas)
    for b in state.brokers:
        bid = str(b.broker_id)
        info.add((c, bid, b.host, str(b.port), b.rack or "", bid, _address(b.host, b.port)), 1)
        controller.add((c, bid), 1 if b.broker_id == state.controller_id else 0)
        led.add((c, bid), state.leaderships[b.broker_id])
        preferred.add((c, bid), preferred_counts.get(b.broker_id, 0))

    topics = Counter(t for t, _ in state.partitions)
    topic_partitions = Family(TOPIC_PARTITIONS)
    for topic in sorted(topics):
        topic_partitions.add((c, topic), topics[topic])

    # The per-partition families share one list of label sets (under_min_isr has its own: it skips the topics
    # whose config is not read yet) and fill their value lists directly: ten families of every partition are
    # most of the render's samples.
    labels: list[str] = []
    min_isr_labels: list[str] = []
    columns: tuple[list[float], ...] = tuple([] for _ in range(10))
    (leader, epoch, replicas, isr, offline_replicas, is_preferred, under_replicated, offline, under_min_isr,
     changes) = columns
    configs = view.snapshot.topic_configs.topics if view.snapshot.topic_configs else {}
    leader_changes = view.derived.leader_changes_total
    totals: dict[str, list[int]] = {}   # topic -> the sums of TOPIC_SUMS, in that order
    per_partition = partition_series(view.metrics, "topics")
    for key in sorted(state.partitions):
        p = state.partitions[key]
        is_leader_preferred = 1 if p.leader >= 0 and p.leader == p.preferred_leader else 0
        is_under_replicated = 1 if len(p.isr) < len(p.replicas) else 0
        is_offline = 1 if p.leader < 0 else 0
        changed = leader_changes.get(key, 0)
        config = configs.get(p.topic)
        is_under_min_isr = 1 if config is not None and len(p.isr) < config.min_insync_replicas else 0
        row = totals.setdefault(p.topic, [0, 0, 0, 0, 0])
        row[0] += is_leader_preferred
        row[1] += is_under_replicated
        row[2] += is_offline
        row[3] += is_under_min_isr
        row[4] += changed
        if not per_partition:
            continue
        label = labelset(PARTITION, (c, p.topic, str(p.partition)))
        labels.append(label)
        leader.append(p.leader)
        epoch.append(p.leader_epoch)
        replicas.append(len(p.replicas))
        isr.append(len(p.isr))
        offline_replicas.append(len(p.offline_replicas))
        is_preferred.append(is_leader_preferred)
        under_replicated.append(is_under_replicated)
        offline.append(is_offline)
        if config is not None:
            min_isr_labels.append(label)
            under_min_isr.append(is_under_min_isr)
        changes.append(changed)
    fams = [Family(spec, min_isr_labels if spec is UNDER_MIN_ISR else labels, values)
            for spec, values in zip(PARTITION_SPECS, columns, strict=True)]
    topic_sums = [Family(spec) for spec in TOPIC_SUMS]
    for topic, row in totals.items():   # partitions were visited in topic order
        for index, family in enumerate(topic_sums):
            if family.spec is not TOPIC_UNDER_MIN_ISR or topic in configs:
                family.add((c, topic), row[index])
    return [brokers, info, controller, led, preferred, topic_partitions, *fams, *topic_sums]
