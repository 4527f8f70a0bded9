"""Topic-configs phase: the settings that change what lag means (retention) and what healthy is (min ISR).

Refreshed every `config_refresh_seconds` rather than every cycle: one DescribeConfigs request covers all
topics, but its response is large and the values rarely change.
"""

from __future__ import annotations

import time

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from kafka_detective.gathering.snapshot import TopicConfig, TopicConfigs

KEYS = ["retention.ms", "retention.bytes", "cleanup.policy", "min.insync.replicas"]


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = int(raw)
    return value if value >= 0 else None


def collect_topic_configs(admin: KafkaAdminClient, topics: set[str]) -> TopicConfigs:
    if not topics:
        return TopicConfigs({}, time.time())
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, list(KEYS)) for name in sorted(topics)]
    described = admin.describe_configs(resources, config_filter="all").get("topic", {})
    configs = {}
    for name, entries in described.items():
        value = {key: (entries.get(key) or {}).get("value") for key in KEYS}
        configs[name] = TopicConfig(
            retention_ms=_limit(value["retention.ms"]),
            retention_bytes=_limit(value["retention.bytes"]),
            cleanup_policy=value["cleanup.policy"] or "delete",
            min_insync_replicas=int(value["min.insync.replicas"] or 1),
        )
    return TopicConfigs(configs, time.time())
