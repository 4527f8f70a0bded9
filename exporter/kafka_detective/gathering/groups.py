"""Groups phase: list, describe and committed offsets of every consumer group, batched per coordinator.

A listed group missing from the describe or offset answers was not deleted: its coordinator failed or moved
during the cycle. It keeps the previous cycle's description and offsets, so its series do not blink out and its
rebalance counter does not reset (a counter that drops to zero and comes back reads as a burst of rebalances
to `increase()`). A group leaves only when ListGroups, answered by every broker, no longer reports it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka.admin import KafkaAdminClient

from kafka_detective.config import NameFilter
from kafka_detective.gathering.snapshot import Groups
from kafka_detective.kafka import groups as kafka_groups


def collect_groups(
    admin: KafkaAdminClient,
    group_filter: NameFilter,
    topic_filter: NameFilter,
    previous: Groups | None = None,
    live_brokers: Iterable[int] | None = None,
) -> Groups:
    listed = {g: c for g, c in kafka_groups.list_groups(admin, live_brokers).items() if group_filter.allows(g)}
    descriptions = kafka_groups.describe_groups(admin, listed) if listed else {}
    committed_raw = kafka_groups.fetch_committed_offsets(admin, listed) if listed else {}
    committed = {
        group: {tp: offset for tp, offset in offsets.items() if topic_filter.allows(tp[0])}
        for group, offsets in committed_raw.items()
    }
    if previous is not None:
        for group in listed:
            if group not in descriptions and group in previous.descriptions:
                descriptions[group] = previous.descriptions[group]
            if group not in committed and group in previous.committed:
                committed[group] = previous.committed[group]
    return Groups(descriptions=descriptions, committed=committed, collected_at=time.time())
