"""Which families a cluster renders: the `metrics` block of its configuration (docs/configuration.md).

Granularity decides the per-partition families. At `partition` (the default, kafka_exporter's series) they are
rendered; at `topic` they are not: for consumer groups (`groups.granularity`) the families labelled by group
and partition (committed offset, lag, lag seconds, lost messages; their per-group/topic sums and maxima stay),
for topics (`topics.granularity`) the families labelled by topic and partition, whose per-topic sums
(`MetricSpec.replaces`) are rendered instead. Then the family allow/deny list (`include` / `exclude`, regular
expressions matched against the whole family name) drops what the user does not want.

The exporter's own health (the `self` concern: `kafka_detective_cluster_up`, the collection durations, errors and
last-success times, the series count) is never dropped, whatever the lists say: a page without it could not
tell a deliberate selection from a broken exporter, and the collection alerts read it. It costs a few dozen
series per cluster.
"""

from __future__ import annotations

import functools

from kafka_detective.config import MetricsConfig
from kafka_detective.metrics.spec import MetricSpec

ALWAYS_KEPT_CONCERN = "self"


def granularity_level(spec: MetricSpec) -> str | None:
    """`groups` or `topics`: the granularity switch that drops the family at `topic`; None if none does."""
    if "partition" not in spec.labels:
        return None
    return "groups" if "consumergroup" in spec.labels else "topics"


def _granularity(config: MetricsConfig, level: str) -> str:
    return config.group_granularity if level == "groups" else config.topic_granularity


def partition_series(config: MetricsConfig, level: str) -> bool:
    """Whether the per-partition families of `level` (`groups` or `topics`) are rendered: when they are not, their
    builders skip them (a third of a default render's work) and compute only the sums."""
    return _granularity(config, level) == "partition"


@functools.lru_cache(maxsize=1024)
def keeps(spec: MetricSpec, config: MetricsConfig) -> bool:
    """Whether the family is rendered under `config` (cached: asked once per family per cycle)."""
    if spec.concern == ALWAYS_KEPT_CONCERN:
        return True
    level = granularity_level(spec)
    if level is not None and _granularity(config, level) == "topic":
        return False
    if spec.replaces and not all(_granularity(config, granularity_level(r) or "") == "topic" for r in spec.replaces):
        return False
    return config.families.allows(spec.name)
