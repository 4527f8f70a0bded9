"""Groups phase: list, describe and committed offsets of every consumer group, batched per coordinator."""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient

from kafka_detective.config import NameFilter
from kafka_detective.gathering.snapshot import Groups
from kafka_detective.kafka import groups as kafka_groups


def collect_groups(admin: KafkaAdminClient, group_filter: NameFilter, topic_filter: NameFilter) -> Groups:
    listed = {g: c for g, c in kafka_groups.list_groups(admin).items() if group_filter.allows(g)}
    descriptions = kafka_groups.describe_groups(admin, listed) if listed else {}
    committed_raw = kafka_groups.fetch_committed_offsets(admin, listed) if listed else {}
    committed = {
        group: {tp: offset for tp, offset in offsets.items() if topic_filter.allows(tp[0])}
        for group, offsets in committed_raw.items()
    }
    return Groups(descriptions=descriptions, committed=committed, collected_at=time.time())
