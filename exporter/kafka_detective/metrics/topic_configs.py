"""Topic settings that matter for lag and data loss: retention and min.insync.replicas."""

from __future__ import annotations

from kafka_detective.metrics.exposition import Family, family
from kafka_detective.metrics.view import View


def families(view: View) -> list[Family]:
    configs = view.snapshot.topic_configs
    if configs is None:
        return []
    c = view.cluster
    retention, retention_bytes = family("kafka_topic_retention_seconds"), family("kafka_topic_retention_bytes")
    min_isr, info = family("kafka_topic_min_insync_replicas"), family("kafka_topic_info")
    # Configs are refreshed less often than metadata: a topic deleted since then must not linger.
    live = view.snapshot.state.topics() if view.snapshot.state is not None else set(configs.topics)
    for topic in sorted(live & configs.topics.keys()):
        config = configs.topics[topic]
        if config.retention_ms is not None:
            retention.add((c, topic), config.retention_ms / 1000)
        if config.retention_bytes is not None:
            retention_bytes.add((c, topic), config.retention_bytes)
        min_isr.add((c, topic), config.min_insync_replicas)
        info.add((c, topic, config.cleanup_policy), 1)
    return [retention, retention_bytes, min_isr, info]
