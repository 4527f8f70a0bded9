"""Cluster phase: brokers, controller and every partition's leadership and replicas (two requests)."""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient

from kafka_detective.config import NameFilter
from kafka_detective.gathering.snapshot import Broker, ClusterState, PartitionState
from kafka_detective.kafka import metadata


def collect_cluster(admin: KafkaAdminClient, topics: NameFilter) -> ClusterState:
    described = admin.describe_cluster()
    # A broker that died stays in DescribeCluster as fenced until it comes back; it is not serving anything, and
    # counting it would hide the loss from kafka_brokers and the alerts built on it.
    brokers = tuple(
        sorted(
            (Broker(b["broker_id"], b["host"], b["port"], b.get("rack"))
             for b in described["brokers"] if not b.get("is_fenced")),
            key=lambda b: b.broker_id,
        )
    )
    controller = described.get("controller_id")
    partitions: dict[tuple[str, int], PartitionState] = {}
    # One Metadata request for all topics; per-topic errors (e.g. a topic being deleted) drop only that topic.
    for topic in metadata.describe_topics(admin):
        name = topic.name
        if topic.error_code != 0 or not topics.allows(name):
            continue
        for p in topic.partitions:
            leader = p.leader_id
            partitions[(name, p.partition_index)] = PartitionState(
                topic=name,
                partition=p.partition_index,
                leader=leader if leader is not None else -1,
                leader_epoch=p.leader_epoch if p.leader_epoch is not None else -1,
                replicas=tuple(p.replica_nodes or ()),
                isr=tuple(p.isr_nodes or ()),
                offline_replicas=tuple(p.offline_replicas or ()),
            )
    return ClusterState(
        brokers=brokers,
        controller_id=controller if controller is not None and controller >= 0 else None,
        partitions=partitions,
        collected_at=time.time(),
    )
