"""All families of one cluster for one cycle, concern by concern."""

from __future__ import annotations

from kafka_detective.metrics import analysis, cluster, groups, lag, log_dirs, offsets, self_metrics, topic_configs
from kafka_detective.metrics.family import Family
from kafka_detective.metrics.view import View

CONCERNS = (cluster, offsets, topic_configs, log_dirs, groups, lag, analysis)


def cluster_families(view: View) -> list[Family]:
    result: list[Family] = []
    for concern in CONCERNS:
        result.extend(concern.families(view))
    series = sum(len(f.samples) for f in result)
    result.extend(self_metrics.families(view, series))
    return result
