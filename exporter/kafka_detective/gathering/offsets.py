"""Offsets phase: log-end and log-start offsets of every partition.

kafka-python groups a ListOffsets call by partition leader, so this phase costs two requests per leader broker
(latest, then earliest), whatever the number of partitions. Offline partitions are not asked: they have no
leader.

kafka-python fails the whole call when any partition errors (a leader that just died and is not fenced yet, a
topic deleted since the metadata was read). Then the call is repeated leader by leader: the partitions of the
leaders that answer are fresh, those of a failing leader keep their previous offsets, and the phase still
counts as failed (the error counter and the log say which leader). Offline partitions keep their previous
offsets without failing the phase: nothing can change them until a leader is elected.
"""

from __future__ import annotations

import time
from collections import defaultdict

from kafka.admin import KafkaAdminClient
from kafka.structs import TopicPartition as KafkaTopicPartition

from kafka_detective.gathering.snapshot import ClusterState, Offsets, PartialResult, TopicPartition

LATEST = -1
EARLIEST = -2

# Log-end and log-start offsets by partition.
_OffsetPair = tuple[dict[TopicPartition, int], dict[TopicPartition, int]]


def _partial(offsets: Offsets, failures: dict[int, Exception]) -> PartialResult:
    leaders = ", ".join(f"{leader}: {error!r}" for leader, error in sorted(failures.items()))
    return PartialResult(f"ListOffsets failed for leader(s) {leaders}", offsets, failures)


def _query(admin: KafkaAdminClient, partitions: list[KafkaTopicPartition]) -> _OffsetPair:
    latest = admin.list_partition_offsets({tp: LATEST for tp in partitions})
    earliest = admin.list_partition_offsets({tp: EARLIEST for tp in partitions})
    return (
        {(tp.topic, tp.partition): o.offset for tp, o in latest.items() if o.offset >= 0},
        {(tp.topic, tp.partition): o.offset for tp, o in earliest.items() if o.offset >= 0},
    )


def collect_offsets(admin: KafkaAdminClient, state: ClusterState, previous: Offsets | None = None) -> Offsets:
    online = [KafkaTopicPartition(t, p) for (t, p), s in state.partitions.items() if s.leader >= 0]
    # An offline partition accepts no writes and deletes nothing, so its last offsets read are still its offsets:
    # they stay (with its lag series) instead of vanishing while a restarted cluster elects leaders.
    offline_end, offline_start = _previous(
        previous, [KafkaTopicPartition(t, p) for (t, p), s in state.partitions.items() if s.leader < 0])
    if not online:
        return Offsets(offline_end, offline_start, time.time())
    try:
        log_end, log_start = _query(admin, online)
        return Offsets(log_end={**offline_end, **log_end}, log_start={**offline_start, **log_start},
                       collected_at=time.time())
    except Exception as whole_call_error:
        by_leader: dict[int, list[KafkaTopicPartition]] = defaultdict(list)
        for tp in online:
            by_leader[state.partitions[(tp.topic, tp.partition)].leader].append(tp)
        log_end, log_start = dict(offline_end), dict(offline_start)
        failures: dict[int, Exception] = {}
        for leader, partitions in sorted(by_leader.items()):
            try:
                end, start = _query(admin, partitions)
            except Exception as error:
                failures[leader] = error
                end, start = _previous(previous, partitions)
            log_end.update(end)
            log_start.update(start)
        offsets = Offsets(log_end=log_end, log_start=log_start, collected_at=time.time())
        if failures:
            raise _partial(offsets, failures) from whole_call_error
        return offsets


def _previous(previous: Offsets | None, partitions: list[KafkaTopicPartition]) -> _OffsetPair:
    if previous is None:
        return {}, {}
    keys: list[TopicPartition] = [(tp.topic, tp.partition) for tp in partitions]
    return (
        {k: previous.log_end[k] for k in keys if k in previous.log_end},
        {k: previous.log_start[k] for k in keys if k in previous.log_start},
    )
