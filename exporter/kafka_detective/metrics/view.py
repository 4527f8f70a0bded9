"""Everything the metric builders of one cluster read for one cycle."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.gathering.snapshot import Snapshot
from kafka_detective.signals.derive import Derived


@dataclass(frozen=True)
class CollectionStats:
    up: bool
    phase_seconds: dict[str, float]
    phase_errors_total: dict[str, int]
    cycles_total: int
    last_success_timestamp: float | None
    requests_total: dict[str, int]


@dataclass(frozen=True)
class View:
    cluster: str
    snapshot: Snapshot
    derived: Derived
    stats: CollectionStats
    analysis: list[GroupTopicAnalysis] = field(default_factory=list)
