"""Topic settings that matter for lag and data loss: retention and min.insync.replicas."""

from __future__ import annotations

from kafka_detective.metrics.family import Family
from kafka_detective.metrics.spec import TOPIC, MetricSpec
from kafka_detective.metrics.view import View

RETENTION_SECONDS = MetricSpec(
    "kafka_topic_retention_seconds", "gauge", TOPIC,
    "retention.ms of the topic in seconds; absent when retention is unlimited.", "topic_configs")
RETENTION_BYTES = MetricSpec(
    "kafka_topic_retention_bytes", "gauge", TOPIC,
    "retention.bytes of the topic per partition; absent when unlimited.", "topic_configs")
MIN_INSYNC_REPLICAS = MetricSpec(
    "kafka_topic_min_insync_replicas", "gauge", TOPIC,
    "min.insync.replicas of the topic.", "topic_configs")
TOPIC_INFO = MetricSpec(
    "kafka_topic_info", "gauge", TOPIC + ("cleanup_policy",),
    "Topic settings as labels; always 1.", "topic_configs")

SPECS = (RETENTION_SECONDS, RETENTION_BYTES, MIN_INSYNC_REPLICAS, TOPIC_INFO)


def families(view: View) -> list[Family]:
    configs = view.snapshot.topic_configs
    if configs is None:
        return []
    c = view.cluster
    retention, retention_bytes = Family(RETENTION_SECONDS), Family(RETENTION_BYTES)
    min_isr, info = Family(MIN_INSYNC_REPLICAS), Family(TOPIC_INFO)
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
