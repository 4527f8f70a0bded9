"""Rebalance counting per consumer group.

KIP-848 (`consumer` protocol) groups: the group epoch goes up by one for every membership or subscription
change (a join, a leave, partitions added to a subscribed topic; a consumer restart is two), each of which
makes the coordinator compute a new target assignment. The counter adds the epoch increase between cycles, so
it counts every reassignment, including those that start and finish between two cycles — more than a classic
group's counter would show for the same churn.

Classic groups expose no generation in DescribeGroups, so a rebalance is inferred between cycles from what
changed: the group entered PreparingRebalance/CompletingRebalance, or its member ids or assignment differ
from the previous cycle. What it cannot see: several rebalances within one interval count as one, and a
rebalance that ends with the same members and assignment (a static member rejoining) is invisible. A group's
first observation never counts as a rebalance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kafka_detective.kafka.group_state import REBALANCING_STATES
from kafka_detective.kafka.groups import GroupDescription


@dataclass(frozen=True, slots=True)
class _Seen:
    state: str
    epoch: int | None
    membership: frozenset[tuple[str, tuple[tuple[str, int], ...]]]


def _seen(group: GroupDescription) -> _Seen:
    return _Seen(
        state=group.state,
        epoch=group.group_epoch,
        membership=frozenset((m.member_id, m.assignment) for m in group.members),
    )


class RebalanceTracker:
    def __init__(self) -> None:
        self._last: dict[str, _Seen] = {}
        self.totals: dict[str, int] = {}

    def update(self, groups: Mapping[str, GroupDescription]) -> dict[str, int]:
        for name, group in groups.items():
            now = _seen(group)
            before = self._last.get(name)
            self.totals.setdefault(name, 0)
            if before is not None:
                self.totals[name] += self._rebalances(before, now)
            self._last[name] = now
        for gone in set(self._last) - set(groups):
            del self._last[gone]
            self.totals.pop(gone, None)
        return self.totals

    @staticmethod
    def _rebalances(before: _Seen, now: _Seen) -> int:
        if now.epoch is not None and before.epoch is not None:
            return max(0, now.epoch - before.epoch)
        entered = now.state in REBALANCING_STATES and before.state not in REBALANCING_STATES
        membership_changed = now.membership != before.membership and not (
            now.state == "Empty" and before.state == "Empty"
        )
        return 1 if entered or membership_changed else 0
