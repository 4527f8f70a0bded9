"""All families of one cluster for one cycle, concern by concern, as the cluster's `metrics` block selects them."""

from __future__ import annotations

from dataclasses import replace

from kafka_detective.config import MetricsConfig
from kafka_detective.metrics import analysis, cluster, groups, lag, log_dirs, offsets, self_metrics, topic_configs
from kafka_detective.metrics.family import Family
from kafka_detective.metrics.selection import keeps
from kafka_detective.metrics.sharding import label_shard, shard_families
from kafka_detective.metrics.view import View

CONCERNS = (cluster, offsets, topic_configs, log_dirs, groups, lag, analysis)
DEFAULT_METRICS = MetricsConfig()


def cluster_families(view: View, metrics: MetricsConfig = DEFAULT_METRICS) -> list[Family]:
    view = replace(view, metrics=metrics)   # the builders skip the per-partition families it drops
    result = [f for f in shard_families(view, CONCERNS) if keeps(f.spec, metrics)]
    series = sum(len(f.values) for f in result)
    result.extend(label_shard(self_metrics.families(view, series), view.shard))
    return result
