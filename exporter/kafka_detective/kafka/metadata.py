"""Keeping kafka-python's view of the cluster in step with the cluster, without waiting for its timer.

kafka-python routes every request by node id through its own cached metadata (``admin._manager.cluster``),
refreshed every ``metadata_max_age_ms`` (5 minutes) or when a connection breaks. A client that bootstraps while a
restarted cluster is still coming up learns only the brokers registered at that moment; a request to any other
broker then fails with ``UnknownBrokerIdError`` — for every cycle, until the 5-minute refresh. The exporter knows
better after each cycle's DescribeCluster, so it refreshes the cached metadata itself:

* ``sync`` when DescribeCluster reports a live broker the client does not know (one Metadata request), and
  forgets the reconnect backoff of brokers that just came back (earned while they were down: up to 30 s of
  ``NodeNotReadyError`` for a broker the controller already reports live);
* ``refresh`` after a phase fails with an error that stale metadata explains (``stale_metadata``); the phase
  is tried again at once when the error is one that costs no wait (``retry_now``).

It also reads every topic's metadata for the cluster phase (``describe_topics``), without kafka-python's
conversion of the answer to dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import kafka.errors as Errors
from kafka.protocol.metadata import MetadataRequest

# Errors a metadata refresh can cure: a node id the client does not know, a broker in reconnect backoff, a
# leader or coordinator that moved, a broken connection (kafka-python's KafkaConnectionError is an
# InvalidMetadataError too).
_STALE = (
    Errors.UnknownBrokerIdError,
    Errors.NodeNotReadyError,
    Errors.InvalidMetadataError,
    Errors.NotCoordinatorError,
    Errors.CoordinatorNotAvailableError,
)
# Of those, the ones that fail at once rather than after a timeout: retrying them in the same cycle is cheap.
_SLOW = (Errors.KafkaConnectionError, Errors.KafkaTimeoutError, Errors.RequestTimedOutError, TimeoutError)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it was raised from, and the per-broker errors a partial failure carries."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(c for c in (current.__cause__, current.__context__) if c is not None)
        for attribute in ("failed_brokers", "failures"):
            nested = getattr(current, attribute, None)
            if isinstance(nested, dict):
                pending.extend(e for e in nested.values() if isinstance(e, BaseException))


def stale_metadata(error: BaseException) -> bool:
    """True when the error, or one it carries, is one that fresh metadata may cure."""
    return any(isinstance(e, _STALE) for e in _causes(error))


def retry_now(error: BaseException) -> bool:
    """True when every metadata-related cause failed fast, so trying again this cycle costs no timeout."""
    causes = [e for e in _causes(error) if isinstance(e, _STALE)]
    return bool(causes) and not any(isinstance(e, _SLOW) for e in _causes(error))


async def _all_topics(manager: Any) -> Any:
    request = MetadataRequest(topics=None, allow_auto_topic_creation=False)
    response = await manager.send(request)
    return response.topics


def describe_topics(admin: Any) -> list[Any]:
    """Every topic's metadata (one Metadata request), as the decoded answer: topics with ``name``,
    ``error_code`` and ``partitions`` (``partition_index``, ``leader_id``, ``leader_epoch``, ``replica_nodes``,
    ``isr_nodes``, ``offline_replicas``).

    kafka-python's ``admin.describe_topics`` turns the same answer into nested dicts on its IO thread first:
    at 10,000 partitions that conversion cost more CPU than the decoding, and blocked the IO thread for over
    0.1 s (its "Task ran for ... blocking the event loop" warning)."""
    manager = admin._manager
    topics: list[Any] = manager.run(_all_topics, manager)
    return topics


def known_brokers(admin: Any) -> set[int]:
    """Broker ids in kafka-python's cached metadata (the only ones it can send to)."""
    return {b.node_id for b in admin._manager.cluster.brokers() if isinstance(b.node_id, int)}


async def _refresh(manager: Any) -> None:
    await manager.cluster.refresh_metadata()


def refresh(admin: Any) -> None:
    """One Metadata request now, applied to the client's cached metadata. Raises when no broker answers."""
    manager = admin._manager
    manager.run(_refresh, manager)


def _forget_backoff(manager: Any, broker_ids: list[int]) -> None:
    for broker_id in broker_ids:
        manager.reset_backoff(broker_id)


def sync(admin: Any, live: Iterable[int], back: Iterable[int] = ()) -> bool:
    """Make the client able to reach every broker the cluster reports live; True when metadata was refreshed.

    ``back``: brokers that were not live in the previous cycle; their reconnect backoff is dropped.
    """
    manager = admin._manager
    returning = sorted(set(back))
    if returning:
        # On the client's I/O thread: the backoff table belongs to it.
        manager.run(_forget_backoff, manager, returning)
    if set(live) <= known_brokers(admin):
        return False
    refresh(admin)
    return True
