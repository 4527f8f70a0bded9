"""Leader-change counting per partition.

The leader epoch increases with every leader election, so its increase between cycles counts elections that
happened between two cycles too; a change of leader id without a visible epoch change still counts one.
"""

from __future__ import annotations

from collections.abc import Mapping

from kafka_detective.gathering.snapshot import PartitionState, TopicPartition


class LeaderChangeTracker:
    def __init__(self) -> None:
        self._last: dict[TopicPartition, tuple[int, int]] = {}
        self.totals: dict[TopicPartition, int] = {}

    def update(self, partitions: Mapping[TopicPartition, PartitionState]) -> dict[TopicPartition, int]:
        for key, p in partitions.items():
            before = self._last.get(key)
            total = self.totals.get(key, 0)
            if before is not None:
                leader, epoch = before
                changes = max(0, p.leader_epoch - epoch) if p.leader_epoch >= 0 and epoch >= 0 else 0
                if changes == 0 and p.leader != leader:
                    changes = 1
                total += changes
            self.totals[key] = total
            self._last[key] = (p.leader, p.leader_epoch)
        for gone in set(self._last) - set(partitions):
            del self._last[gone]
            self.totals.pop(gone, None)
        return self.totals
