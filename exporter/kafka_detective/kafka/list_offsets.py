"""ListOffsets sent straight to the partition leaders the cluster phase already knows, all requests at once.

kafka-python's ``admin.list_partition_offsets`` looks the leaders up with a Metadata request of its own before
every call (two per cycle for the latest and the earliest offsets: at 10,000 partitions, decoding those two
answers and turning them into dicts was a fifth of the exporter's CPU), sends one call's requests one after the
other, and builds a ``TopicPartition`` and an ``OffsetAndTimestamp`` per partition on its IO thread. Here the
requests are built in the caller's thread from the leaders of this cycle's metadata, every request (each leader,
each offset spec) is sent before any answer is awaited, and the answers are read in the caller's thread into
plain ``{(topic, partition): offset}`` dicts — the IO thread only moves bytes and decodes.

A partition the leader answers with an error (NOT_LEADER_OR_FOLLOWER after a leader moved, UNKNOWN_TOPIC after a
deletion) fails its leader's answer, as kafka-python fails the whole call: the caller keeps that leader's previous
offsets and reports the error, which the cycle treats like any other stale-metadata error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import kafka.errors as Errors
from kafka.protocol.consumer import ListOffsetsRequest

LATEST = -1    # log-end offset: the offset of the next message to be written
EARLIEST = -2  # log-start offset: the oldest message still retained

TopicPartition = tuple[str, int]
_Topic = ListOffsetsRequest.ListOffsetsTopic
_Partition = _Topic.ListOffsetsPartition


@dataclass
class LeaderOffsets:
    """One leader's answer for one offset spec: the offsets, or the error that failed them."""

    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    error: BaseException | None = None


def _request(partitions: Iterable[TopicPartition], spec: int) -> Any:
    by_topic: dict[str, list[Any]] = defaultdict(list)
    for topic, partition in partitions:
        by_topic[topic].append(_Partition(partition_index=partition, timestamp=spec))
    return ListOffsetsRequest(isolation_level=0, topics=[_Topic(name=t, partitions=p) for t, p in by_topic.items()],
                              min_version=0)


def _read(response: Any) -> dict[TopicPartition, int]:
    """The offsets of an answer; raises the first partition error (the whole answer is then the leader's error)."""
    offsets: dict[TopicPartition, int] = {}
    for topic in response.topics:
        name = topic.name
        for p in topic.partitions:
            if p.error_code:
                raise Errors.for_code(p.error_code)(f"ListOffsets failed for {name}-{p.partition_index}")
            if p.offset >= 0:  # -1: no such offset (a leader answering for a log it does not have yet)
                offsets[(name, p.partition_index)] = p.offset
    return offsets


async def _send_all(manager: Any, requests: list[tuple[int, Any]]) -> list[Any]:
    """Send every request before awaiting any; an error is returned in place of its answer."""
    pending: list[Any] = []
    for leader, request in requests:
        try:
            pending.append(manager.send(request, node_id=leader))
        except Exception as error:  # an unknown broker id is raised at send time, not through the future
            pending.append(error)
    answers: list[Any] = []
    for future in pending:
        if isinstance(future, Exception):
            answers.append(future)
            continue
        try:
            answers.append(await future)
        except Exception as error:
            answers.append(error)
    return answers


def list_offsets(admin: Any, asks: Mapping[int, Mapping[int, list[TopicPartition]]]
                 ) -> dict[int, dict[int, LeaderOffsets]]:
    """``asks``: offset spec -> leader -> partitions. Returns spec -> leader -> `LeaderOffsets`, one request per
    (spec, leader), all in flight together (one round trip to the slowest leader)."""
    keys = [(spec, leader) for spec, by_leader in asks.items() for leader, partitions in by_leader.items()
            if partitions]
    requests = [(leader, _request(asks[spec][leader], spec)) for spec, leader in keys]
    manager = admin._manager
    answers = manager.run(_send_all, manager, requests) if requests else []
    out: dict[int, dict[int, LeaderOffsets]] = {spec: {} for spec in asks}
    for (spec, leader), answer in zip(keys, answers, strict=True):
        if isinstance(answer, BaseException):
            out[spec][leader] = LeaderOffsets(error=answer)
            continue
        try:
            out[spec][leader] = LeaderOffsets(_read(answer))
        except Errors.KafkaError as error:
            out[spec][leader] = LeaderOffsets(error=error)
    return out
