"""Log-end and log-start offsets per partition, and the produce rate per topic."""

from __future__ import annotations

from kafka_detective.metrics.catalogue import PARTITION
from kafka_detective.metrics.exposition import Family, family, labelset
from kafka_detective.metrics.view import View


def families(view: View) -> list[Family]:
    offsets = view.snapshot.offsets
    if offsets is None:
        return []
    c = view.cluster
    current, oldest = family("kafka_topic_partition_current_offset"), family("kafka_topic_partition_oldest_offset")
    for (topic, partition) in sorted(offsets.log_end):
        labels = labelset(PARTITION, (c, topic, str(partition)))
        current.add(labels, offsets.log_end[(topic, partition)])
        start = offsets.log_start.get((topic, partition))
        if start is not None:
            oldest.add(labels, start)
    rate = family("kafka_topic_produce_rate_messages_per_second")
    for topic in sorted(view.derived.produce_rate):
        rate.add((c, topic), view.derived.produce_rate[topic])
    return [current, oldest, rate]
