"""What the HTTP endpoints read of a cluster's collector: a protocol, so serving needs no collection code.

The pipeline's `ClusterCollector` is the one implementation. Serving and the pipeline are independent layers of
the runtime (the import contract of `make lint`): a scrape only reads what the last cycle left behind, data
ages and the latest analysis, and must not pull the Kafka client in to do so.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.config import ClusterConfig


class Collector(Protocol):
    @property
    def cluster(self) -> ClusterConfig: ...

    @property
    def completed(self) -> threading.Event:
        """Set once the first cycle has ended, successful or not (/readyz)."""
        ...

    @property
    def analysis(self) -> Sequence[GroupTopicAnalysis]:
        """The latest cycle's results, replaced whole each cycle (the /detective pages)."""
        ...

    @property
    def analytics(self) -> OnlineAnalytics | None:
        """The online analytics engine, or None when analysis is off; read through its read-only accessors."""
        ...

    def data_ages(self, now: float | None = None) -> dict[str, float]: ...

    def snapshot_age(self, now: float | None = None) -> float: ...
