"""Derived signals of one cycle: lag, lag seconds, rates, lost messages, rebalances and leader changes.

`SignalState` holds what must survive between cycles (offset history, counters) for one cluster, and turns a
`Snapshot` into `Derived`. Correctness rules enforced here:

- lag is never negative: a committed offset ahead of the log-end offset read earlier in the cycle gives 0;
- partitions without a commit get no lag series (never -1 or NaN) and are counted per group/topic instead;
- Empty groups keep the lag of their committed offsets;
- state of deleted groups, topics and partitions is dropped in the same cycle, so their series disappear.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from kafka_detective.gathering.snapshot import Snapshot, TopicPartition
from kafka_detective.signals.lag_seconds import OffsetTimeTable
from kafka_detective.signals.leader_changes import LeaderChangeTracker
from kafka_detective.signals.lost_messages import LostMessagesTracker
from kafka_detective.signals.rebalances import RebalanceTracker

RATE_WINDOW_SECONDS = 120.0

GroupTopic = tuple[str, str]
GroupTopicPartition = tuple[str, str, int]


@dataclass
class Derived:
    lag: dict[GroupTopicPartition, int] = field(default_factory=dict)
    committed: dict[GroupTopicPartition, int] = field(default_factory=dict)
    lag_seconds: dict[GroupTopicPartition, float] = field(default_factory=dict)
    extrapolated: dict[GroupTopic, int] = field(default_factory=dict)
    uncommitted: dict[GroupTopic, int] = field(default_factory=dict)
    lost: dict[GroupTopicPartition, int] = field(default_factory=dict)
    lost_total: dict[GroupTopic, int] = field(default_factory=dict)
    consume_rate: dict[GroupTopic, float] = field(default_factory=dict)
    produce_rate: dict[str, float] = field(default_factory=dict)
    rebalances_total: dict[str, int] = field(default_factory=dict)
    leader_changes_total: dict[TopicPartition, int] = field(default_factory=dict)

    def group_topics(self) -> set[GroupTopic]:
        return {(g, t) for g, t, _ in self.committed} | set(self.uncommitted)


class SignalState:
    def __init__(self, table_size: int = 60) -> None:
        self._table_size = table_size
        self._tables: dict[TopicPartition, OffsetTimeTable] = {}
        self._consumed: dict[GroupTopic, deque[tuple[float, int]]] = {}
        self._rebalances = RebalanceTracker()
        self._leaders = LeaderChangeTracker()
        self._lost = LostMessagesTracker()

    def derive(self, snapshot: Snapshot) -> Derived:
        out = Derived()
        now = snapshot.timestamp
        if snapshot.state is not None:
            out.leader_changes_total = dict(self._leaders.update(snapshot.state.partitions))
        log_end = snapshot.offsets.log_end if snapshot.offsets else {}
        log_start = snapshot.offsets.log_start if snapshot.offsets else {}
        read_at = snapshot.offsets.collected_at if snapshot.offsets else now
        self._record_offsets(log_end, read_at, snapshot)
        out.produce_rate = self._produce_rates(log_end)

        if snapshot.groups is None:
            return out
        groups = snapshot.groups
        out.rebalances_total = dict(self._rebalances.update(groups.descriptions))
        live: set[GroupTopicPartition] = set()
        for group, offsets in groups.committed.items():
            for (topic, partition), committed in offsets.items():
                end = log_end.get((topic, partition))
                if end is None:
                    continue  # deleted topic, or an offline partition whose log-end is unknown this cycle
                key = (group, topic, partition)
                live.add(key)
                out.committed[key] = committed
                out.lag[key] = max(0, end - committed)
                start = log_start.get((topic, partition))
                if start is not None:
                    gap = self._lost.observe(key, committed, start)
                    if gap:
                        out.lost[key] = gap
                table = self._tables.get((topic, partition))
                estimate = table.lag_seconds(committed, now) if table is not None else None
                if estimate is not None:
                    out.lag_seconds[key] = 0.0 if out.lag[key] == 0 else estimate.seconds
                    if estimate.extrapolated and out.lag[key] > 0:
                        out.extrapolated[(group, topic)] = out.extrapolated.get((group, topic), 0) + 1
        self._lost.retain(live)
        out.lost_total = {k: v for k, v in self._lost.totals.items()}
        out.uncommitted = self._uncommitted(snapshot, log_end)
        out.consume_rate = self._consume_rates(out.committed, now)
        for pair in out.group_topics():
            out.extrapolated.setdefault(pair, 0)
            out.uncommitted.setdefault(pair, 0)
        return out

    def _record_offsets(self, log_end: dict[TopicPartition, int], read_at: float, snapshot: Snapshot) -> None:
        for key, offset in log_end.items():
            table = self._tables.get(key)
            if table is None:
                table = self._tables[key] = OffsetTimeTable(self._table_size)
            table.add(offset, read_at)
        if snapshot.state is not None:
            for gone in [k for k in self._tables if k not in snapshot.state.partitions]:
                del self._tables[gone]

    def _produce_rates(self, log_end: dict[TopicPartition, int]) -> dict[str, float]:
        rates: dict[str, float] = {}
        for (topic, _), table in self._tables.items():
            rate = table.produce_rate(RATE_WINDOW_SECONDS)
            if rate is not None:
                rates[topic] = rates.get(topic, 0.0) + rate
        return rates

    @staticmethod
    def _uncommitted(snapshot: Snapshot, log_end: dict[TopicPartition, int]) -> dict[GroupTopic, int]:
        assert snapshot.groups is not None
        counts: dict[GroupTopic, int] = {}
        for name, description in snapshot.groups.descriptions.items():
            committed = snapshot.groups.committed.get(name, {})
            for member in description.members:
                for topic, partition in member.assignment:
                    if (topic, partition) in log_end and (topic, partition) not in committed:
                        counts[(name, topic)] = counts.get((name, topic), 0) + 1
        return counts

    def _consume_rates(self, committed: dict[GroupTopicPartition, int], now: float) -> dict[GroupTopic, float]:
        sums: dict[GroupTopic, int] = {}
        for (group, topic, _), offset in committed.items():
            sums[(group, topic)] = sums.get((group, topic), 0) + offset
        rates: dict[GroupTopic, float] = {}
        for pair, total in sums.items():
            history = self._consumed.get(pair)
            if history is None:
                history = self._consumed[pair] = deque()
            if history and total < history[-1][1]:
                history.clear()  # offsets were reset backwards: the old history is not a rate any more
            history.append((now, total))
            while len(history) > 2 and now - history[1][0] >= RATE_WINDOW_SECONDS:
                history.popleft()
            if len(history) >= 2 and now > history[0][0]:
                rates[pair] = (history[-1][1] - history[0][1]) / (now - history[0][0])
        for gone in [p for p in self._consumed if p not in sums]:
            del self._consumed[gone]
        return rates
