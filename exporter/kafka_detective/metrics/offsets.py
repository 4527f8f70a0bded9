"""Log-end and log-start offsets per partition, and the produce rate per topic."""

from __future__ import annotations

from kafka_detective.metrics.family import Family, labelset
from kafka_detective.metrics.selection import partition_series
from kafka_detective.metrics.spec import PARTITION, TOPIC, MetricSpec
from kafka_detective.metrics.view import View

CURRENT_OFFSET = MetricSpec(
    "kafka_topic_partition_current_offset", "gauge", PARTITION,
    "Log-end offset of the partition (offset of the next message to be written).", "offsets", True)
OLDEST_OFFSET = MetricSpec(
    "kafka_topic_partition_oldest_offset", "gauge", PARTITION,
    "Log-start offset of the partition (oldest message still retained).", "offsets", True)
PRODUCE_RATE = MetricSpec(
    "kafka_topic_produce_rate_messages_per_second", "gauge", TOPIC,
    "Messages appended per second to the topic over the exporter's recent offset history.",
    "offsets")

TOPIC_CURRENT_OFFSET = MetricSpec(
    "kafka_topic_current_offset", "gauge", TOPIC,
    "Sum of the log-end offsets of the topic's partitions (its rate is the produce rate); rendered instead of "
    "kafka_topic_partition_current_offset at topic granularity.", "offsets",
    replaces=(CURRENT_OFFSET,))
TOPIC_OLDEST_OFFSET = MetricSpec(
    "kafka_topic_oldest_offset", "gauge", TOPIC,
    "Sum of the log-start offsets of the topic's partitions; rendered instead of "
    "kafka_topic_partition_oldest_offset at topic granularity.", "offsets",
    replaces=(OLDEST_OFFSET,))

SPECS = (CURRENT_OFFSET, OLDEST_OFFSET, PRODUCE_RATE, TOPIC_CURRENT_OFFSET, TOPIC_OLDEST_OFFSET)


def families(view: View) -> list[Family]:
    offsets = view.snapshot.offsets
    if offsets is None:
        return []
    c = view.cluster
    current, oldest = Family(CURRENT_OFFSET), Family(OLDEST_OFFSET)
    current_sums: dict[str, int] = {}
    oldest_sums: dict[str, int] = {}
    per_partition = partition_series(view.metrics, "topics")
    for (topic, partition) in sorted(offsets.log_end):
        end = offsets.log_end[(topic, partition)]
        current_sums[topic] = current_sums.get(topic, 0) + end
        start = offsets.log_start.get((topic, partition))
        if start is not None:
            oldest_sums[topic] = oldest_sums.get(topic, 0) + start
        if per_partition:
            labels = labelset(PARTITION, (c, topic, str(partition)))
            current.add(labels, end)
            if start is not None:
                oldest.add(labels, start)
    rate = Family(PRODUCE_RATE)
    for topic in sorted(view.derived.produce_rate):
        rate.add((c, topic), view.derived.produce_rate[topic])
    topic_current, topic_oldest = Family(TOPIC_CURRENT_OFFSET), Family(TOPIC_OLDEST_OFFSET)
    for topic in current_sums:   # already in topic order
        topic_current.add((c, topic), current_sums[topic])
    for topic in oldest_sums:
        topic_oldest.add((c, topic), oldest_sums[topic])
    return [current, oldest, rate, topic_current, topic_oldest]
