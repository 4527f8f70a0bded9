"""Log-end and log-start offsets per partition, and the produce rate per topic."""

from __future__ import annotations

from kafka_detective.metrics.family import Family, labelset
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

SPECS = (CURRENT_OFFSET, OLDEST_OFFSET, PRODUCE_RATE)


def families(view: View) -> list[Family]:
    offsets = view.snapshot.offsets
    if offsets is None:
        return []
    c = view.cluster
    current, oldest = Family(CURRENT_OFFSET), Family(OLDEST_OFFSET)
    for (topic, partition) in sorted(offsets.log_end):
        labels = labelset(PARTITION, (c, topic, str(partition)))
        current.add(labels, offsets.log_end[(topic, partition)])
        start = offsets.log_start.get((topic, partition))
        if start is not None:
            oldest.add(labels, start)
    rate = Family(PRODUCE_RATE)
    for topic in sorted(view.derived.produce_rate):
        rate.add((c, topic), view.derived.produce_rate[topic])
    return [current, oldest, rate]
