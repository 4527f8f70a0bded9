"""The metric catalogue: every series family the exporter exposes, in exposition order.

Each builder module declares the specs (name, type, labels, help text) of the families it fills, next to the
code that fills them; this module assembles them, concern by concern in the order `render` builds them, into
the single list the rest of the exporter reads. `docs/metrics.md` is generated from it, the rule and dashboard
generators check every metric they use against it, and an integration test checks it against a real `/metrics`
page.

Names shared with danielqsj/kafka_exporter keep its names and labels (`consumergroup`, `topic`, `partition`)
so existing dashboards keep working; every series also carries `cluster`.
"""

from __future__ import annotations

from kafka_detective.metrics import self_metrics
from kafka_detective.metrics.render import CONCERNS
from kafka_detective.metrics.spec import MetricSpec

# MetricSpec is re-exported: it was defined here before the specs moved beside their builders.
__all__ = ["BY_NAME", "CATALOGUE", "MetricSpec", "all_sample_names", "sample_names"]

CATALOGUE: tuple[MetricSpec, ...] = tuple(spec for concern in (*CONCERNS, self_metrics) for spec in concern.SPECS)

BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in CATALOGUE}


def sample_names(spec: MetricSpec) -> tuple[str, ...]:
    """Sample names a family may produce on /metrics."""
    return (spec.name,)


def all_sample_names() -> frozenset[str]:
    return frozenset(name for spec in CATALOGUE for name in sample_names(spec))
