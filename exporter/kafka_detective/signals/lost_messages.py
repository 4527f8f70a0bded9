"""Messages deleted by retention before a group consumed them ("the vanishing messages").

When a group's committed offset is below the partition's log-start offset, the messages in between are gone.
The gauge is that gap. The counter adds each lost offset once: it remembers, per partition, up to which offset
loss was already counted, so a gap that persists over many cycles (or grows) is not counted again, and a
group that is reset past the gap (auto.offset.reset) keeps its total.
"""

from __future__ import annotations

GroupTopicPartition = tuple[str, str, int]


class LostMessagesTracker:
    def __init__(self) -> None:
        self._counted_up_to: dict[GroupTopicPartition, int] = {}
        self.totals: dict[tuple[str, str], int] = {}

    def observe(self, key: GroupTopicPartition, committed: int, log_start: int) -> int:
        """The current gap for one partition; counts newly lost offsets."""
        group, topic, _ = key
        self.totals.setdefault((group, topic), 0)
        if committed >= log_start:
            return 0
        first_uncounted = max(committed, self._counted_up_to.get(key, committed))
        if log_start > first_uncounted:
            self.totals[(group, topic)] += log_start - first_uncounted
            self._counted_up_to[key] = log_start
        return log_start - committed

    def retain(self, live: set[GroupTopicPartition]) -> None:
        """Forget partitions of deleted groups or topics so memory stays bounded."""
        for key in [k for k in self._counted_up_to if k not in live]:
            del self._counted_up_to[key]
        live_pairs = {(g, t) for g, t, _ in live}
        for pair in [p for p in self.totals if p not in live_pairs]:
            del self.totals[pair]
