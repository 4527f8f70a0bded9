"""What a metric family is, independently of its samples: name, type, labels, help text, concern.

Each builder module declares the specs of the families it fills next to the code that fills them;
`catalogue` assembles them in exposition order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter", "info"]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: MetricType
    labels: tuple[str, ...]
    help: str
    concern: str
    kafka_exporter_compatible: bool = False
    # A per-topic family that stands in for these per-partition ones at `topics: granularity: topic`: it is
    # rendered only when they are not (metrics/selection.py), and each of its values is the sum of theirs.
    replaces: tuple[MetricSpec, ...] = ()

    @property
    def exposed_name(self) -> str:
        """The sample name as it appears on /metrics (`_total` for counters is part of `name`)."""
        return self.name


C = ("cluster",)
BROKER = ("cluster", "broker_id")
TOPIC = ("cluster", "topic")
PARTITION = ("cluster", "topic", "partition")
GROUP = ("cluster", "consumergroup")
GROUP_TOPIC = ("cluster", "consumergroup", "topic")
GROUP_PARTITION = ("cluster", "consumergroup", "topic", "partition")
