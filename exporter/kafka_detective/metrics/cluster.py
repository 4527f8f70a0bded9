"""Brokers, controller, partition leadership and replication."""

from __future__ import annotations

from collections import Counter

from kafka_detective.metrics.catalogue import PARTITION
from kafka_detective.metrics.exposition import Family, family, labelset
from kafka_detective.metrics.view import View


def _address(host: str, port: int) -> str:
    """`host:port` as kafka_exporter prints it, with IPv6 literals bracketed so the port stays unambiguous."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def families(view: View) -> list[Family]:
    state = view.snapshot.state
    if state is None:
        return []
    c = view.cluster
    brokers, info, controller = family("kafka_brokers"), family("kafka_broker_info"), family(
        "kafka_broker_is_controller")
    led, preferred = family("kafka_broker_leader_partitions"), family("kafka_broker_preferred_leader_partitions")
    brokers.add((c,), len(state.brokers))
    leaders = Counter(p.leader for p in state.partitions.values() if p.leader >= 0)
    preferred_counts = Counter(p.preferred_leader for p in state.partitions.values() if p.replicas)
    for b in state.brokers:
        bid = str(b.broker_id)
        info.add((c, bid, b.host, str(b.port), b.rack or "", bid, _address(b.host, b.port)), 1)
        controller.add((c, bid), 1 if b.broker_id == state.controller_id else 0)
        led.add((c, bid), leaders.get(b.broker_id, 0))
        preferred.add((c, bid), preferred_counts.get(b.broker_id, 0))

    topics = Counter(t for t, _ in state.partitions)
    topic_partitions = family("kafka_topic_partitions")
    for topic in sorted(topics):
        topic_partitions.add((c, topic), topics[topic])

    names = ("kafka_topic_partition_leader", "kafka_topic_partition_leader_epoch",
             "kafka_topic_partition_replicas", "kafka_topic_partition_in_sync_replica",
             "kafka_topic_partition_offline_replicas", "kafka_topic_partition_leader_is_preferred",
             "kafka_topic_partition_under_replicated_partition", "kafka_topic_partition_offline",
             "kafka_topic_partition_under_min_isr", "kafka_topic_partition_leader_changes_total")
    fams = [family(n) for n in names]
    (leader, epoch, replicas, isr, offline_replicas, is_preferred, under_replicated, offline, under_min_isr,
     changes) = fams
    configs = view.snapshot.topic_configs.topics if view.snapshot.topic_configs else {}
    leader_changes = view.derived.leader_changes_total
    for key in sorted(state.partitions):
        p = state.partitions[key]
        labels = labelset(PARTITION, (c, p.topic, str(p.partition)))
        leader.add(labels, p.leader)
        epoch.add(labels, p.leader_epoch)
        replicas.add(labels, len(p.replicas))
        isr.add(labels, len(p.isr))
        offline_replicas.add(labels, len(p.offline_replicas))
        is_preferred.add(labels, 1 if p.leader >= 0 and p.leader == p.preferred_leader else 0)
        under_replicated.add(labels, 1 if len(p.isr) < len(p.replicas) else 0)
        offline.add(labels, 1 if p.leader < 0 else 0)
        config = configs.get(p.topic)
        if config is not None:
            under_min_isr.add(labels, 1 if len(p.isr) < config.min_insync_replicas else 0)
        changes.add(labels, leader_changes.get(key, 0))
    return [brokers, info, controller, led, preferred, topic_partitions, *fams]
