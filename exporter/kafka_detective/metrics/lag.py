"""Lag in messages and seconds, consume rate and lost messages per group."""

from __future__ import annotations

from kafka_detective.metrics.catalogue import GROUP_PARTITION
from kafka_detective.metrics.exposition import Family, family, labelset
from kafka_detective.metrics.view import View


def families(view: View) -> list[Family]:
    d = view.derived
    c = view.cluster
    lag, lag_sum = family("kafka_consumergroup_lag"), family("kafka_consumergroup_lag_sum")
    seconds, max_seconds = family("kafka_consumergroup_lag_seconds"), family("kafka_consumergroup_max_lag_seconds")
    extrapolated = family("kafka_consumergroup_lag_seconds_extrapolated_partitions")
    rate = family("kafka_consumergroup_consume_rate_messages_per_second")
    lost, lost_total = family("kafka_consumergroup_lost_messages"), family("kafka_consumergroup_lost_messages_total")
    sums: dict[tuple[str, str], int] = {}
    maxima: dict[tuple[str, str], float] = {}
    for key in sorted(d.lag):
        group, topic, partition = key
        labels = labelset(GROUP_PARTITION, (c, group, topic, str(partition)))
        lag.add(labels, d.lag[key])
        sums[(group, topic)] = sums.get((group, topic), 0) + d.lag[key]
        age = d.lag_seconds.get(key)
        if age is not None:
            seconds.add(labels, age)
            maxima[(group, topic)] = max(maxima.get((group, topic), 0.0), age)
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
