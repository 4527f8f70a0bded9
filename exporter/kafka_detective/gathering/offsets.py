"""Offsets phase: log-end and log-start offsets of every partition.

kafka-python groups a ListOffsets call by partition leader, so this phase costs two requests per leader broker
(latest, then earliest), whatever the number of partitions. Offline partitions are left out: they have no
leader to ask, and their last known offsets stay with the previous snapshot's history.
"""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient
from kafka.structs import TopicPartition as KafkaTopicPartition

from kafka_detective.gathering.snapshot import ClusterState, Offsets

LATEST = -1
EARLIEST = -2


def collect_offsets(admin: KafkaAdminClient, state: ClusterState) -> Offsets:
    online = [KafkaTopicPartition(t, p) for (t, p), s in state.partitions.items() if s.leader >= 0]
    if not online:
        return Offsets({}, {}, time.time())
    latest = admin.list_partition_offsets({tp: LATEST for tp in online})
    earliest = admin.list_partition_offsets({tp: EARLIEST for tp in online})
    log_end = {(tp.topic, tp.partition): o.offset for tp, o in latest.items() if o.offset >= 0}
    log_start = {(tp.topic, tp.partition): o.offset for tp, o in earliest.items() if o.offset >= 0}
    return Offsets(log_end=log_end, log_start=log_start, collected_at=time.time())
