"""Topic-configs phase: DescribeConfigs answers become the retention and min ISR settings per topic."""

from __future__ import annotations

import kafka.errors as Errors
import pytest

from kafka_detective.gathering.snapshot import TopicConfig
from kafka_detective.gathering.topic_configs import collect_topic_configs

from .kafka_fakes import FakeAdmin, FakeKafka


def test_settings_are_parsed_and_unlimited_values_are_none():
    kafka = FakeKafka(topic_configs={
        "orders": {"retention.ms": "604800000", "retention.bytes": "-1", "cleanup.policy": "delete",
                   "min.insync.replicas": "2"},
        "changelog": {"retention.ms": "-1", "retention.bytes": "1073741824", "cleanup.policy": "compact",
                      "min.insync.replicas": "3"},
    })
    configs = collect_topic_configs(FakeAdmin(kafka), {"orders", "changelog"}).topics
    assert configs == {
        "orders": TopicConfig(retention_ms=604_800_000, retention_bytes=None, cleanup_policy="delete",
                              min_insync_replicas=2),
        "changelog": TopicConfig(retention_ms=None, retention_bytes=1_073_741_824, cleanup_policy="compact",
                                 min_insync_replicas=3),
    }


def test_a_topic_answering_an_error_gets_the_defaults_and_the_others_their_settings():
    """kafka-python returns a topic whose DescribeConfigs result is an error without entries; the phase cannot
    tell it from a topic with no setting, so it reads as unlimited retention and min.insync.replicas 1."""
    kafka = FakeKafka(topic_configs={"orders": {"retention.ms": "60000", "min.insync.replicas": "2"},
                                     "secret": {"retention.ms": "1000", "min.insync.replicas": "3"}},
                      config_errors={"secret"})
    configs = collect_topic_configs(FakeAdmin(kafka), {"orders", "secret"}).topics
    assert configs["orders"] == TopicConfig(60_000, None, "delete", 2)
    assert configs["secret"] == TopicConfig(None, None, "delete", 1)


def test_no_topic_sends_no_request():
    kafka = FakeKafka(failing={"DescribeConfigsRequest"})
    assert collect_topic_configs(FakeAdmin(kafka), set()).topics == {}
    with pytest.raises(Errors.KafkaTimeoutError):
        collect_topic_configs(FakeAdmin(kafka), {"orders"})
