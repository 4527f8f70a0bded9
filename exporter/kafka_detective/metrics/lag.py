"""Lag in messages and seconds, consume rate and lost messages per group."""

from __future__ import annotations

from kafka_detective.metrics.family import Family, labelset
from kafka_detective.metrics.selection import partition_series
from kafka_detective.metrics.spec import GROUP_PARTITION, GROUP_TOPIC, MetricSpec
from kafka_detective.metrics.view import View

LAG = MetricSpec(
    "kafka_consumergroup_lag", "gauge", GROUP_PARTITION,
    "Messages between the committed offset and the log-end offset; never negative.", "lag", True)
LAG_SUM = MetricSpec(
    "kafka_consumergroup_lag_sum", "gauge", GROUP_TOPIC,
    "Sum of the group's lag over the topic's partitions.", "lag", True)
LAG_SECONDS = MetricSpec(
    "kafka_consumergroup_lag_seconds", "gauge", GROUP_PARTITION,
    "Age in seconds of the oldest unconsumed message, interpolated from the partition's "
    "offset history; 0 when caught up.", "lag")
MAX_LAG_SECONDS = MetricSpec(
    "kafka_consumergroup_max_lag_seconds", "gauge", GROUP_TOPIC,
    "Largest lag in seconds over the topic's partitions.", "lag")
EXTRAPOLATED_PARTITIONS = MetricSpec(
    "kafka_consumergroup_lag_seconds_extrapolated_partitions", "gauge", GROUP_TOPIC,
    "Partitions whose lag in seconds is extrapolated beyond the offset history (a lower-confidence "
    "estimate).", "lag")
CONSUME_RATE = MetricSpec(
    "kafka_consumergroup_consume_rate_messages_per_second", "gauge", GROUP_TOPIC,
    "Messages committed per second by the group on the topic over the recent history.", "lag")
LOST_MESSAGES = MetricSpec(
    "kafka_consumergroup_lost_messages", "gauge", GROUP_PARTITION,
    "Messages deleted by retention before the group consumed them: log-start offset minus "
    "committed offset, when positive.", "lag")
LOST_MESSAGES_TOTAL = MetricSpec(
    "kafka_consumergroup_lost_messages_total", "counter", GROUP_TOPIC,
    "Messages lost to retention before consumption, counted since the exporter started.", "lag")

SPECS = (LAG, LAG_SUM, LAG_SECONDS, MAX_LAG_SECONDS, EXTRAPOLATED_PARTITIONS, CONSUME_RATE, LOST_MESSAGES,
         LOST_MESSAGES_TOTAL)


def families(view: View) -> list[Family]:
    d = view.derived
    c = view.cluster
    lag, lag_sum = Family(LAG), Family(LAG_SUM)
    seconds, max_seconds = Family(LAG_SECONDS), Family(MAX_LAG_SECONDS)
    extrapolated = Family(EXTRAPOLATED_PARTITIONS)
    rate = Family(CONSUME_RATE)
    lost, lost_total = Family(LOST_MESSAGES), Family(LOST_MESSAGES_TOTAL)
    sums: dict[tuple[str, str], int] = {}
    maxima: dict[tuple[str, str], float] = {}
    per_partition = partition_series(view.metrics, "groups")
    for key in sorted(d.lag):
        group, topic, partition = key
        sums[(group, topic)] = sums.get((group, topic), 0) + d.lag[key]
        age = d.lag_seconds.get(key)
        if age is not None:
            maxima[(group, topic)] = max(maxima.get((group, topic), 0.0), age)
        if not per_partition:
            continue
        labels = labelset(GROUP_PARTITION, (c, group, topic, str(partition)))
        lag.add(labels, d.lag[key])
        if age is not None:
            seconds.add(labels, age)
        gap = d.lost.get(key)
        if gap:
            lost.add(labels, gap)
    for pair in sorted(sums):
        lag_sum.add((c, *pair), sums[pair])
    for pair in sorted(maxima):
        max_seconds.add((c, *pair), maxima[pair])
    for pair in sorted(d.extrapolated):
        extrapolated.add((c, *pair), d.extrapolated[pair])
    for pair in sorted(d.consume_rate):
        rate.add((c, *pair), d.consume_rate[pair])
    for pair in sorted(d.lost_total):
        lost_total.add((c, *pair), d.lost_total[pair])
    return [lag, lag_sum, seconds, max_seconds, extrapolated, rate, lost, lost_total]
