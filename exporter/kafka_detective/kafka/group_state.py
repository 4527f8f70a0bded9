"""The consumer-group states, as the exporter names them (Kafka's ConsumerGroupState / GroupState spellings,
classic and KIP-848 groups together), and the groupings the signals and the analysis reason with."""

from __future__ import annotations

from enum import StrEnum


class GroupState(StrEnum):
    """A group's state. A StrEnum: members compare and hash equal to their names ('Stable'), so label values,
    traces and JSON carry plain strings. Declaration order is the order of `kafka_consumergroup_state` series
    on /metrics."""

    STABLE = "Stable"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    ASSIGNING = "Assigning"          # KIP-848
    RECONCILING = "Reconciling"      # KIP-848
    EMPTY = "Empty"
    DEAD = "Dead"
    UNKNOWN = "Unknown"              # a spelling the exporter does not know, or no state reported

    @property
    def rebalancing(self) -> bool:
        return self in REBALANCING_STATES

    @property
    def empty(self) -> bool:
        return self in EMPTY_STATES


# Members are moving partitions (classic: preparing/completing; KIP-848: assigning/reconciling).
REBALANCING_STATES: frozenset[GroupState] = frozenset({
    GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE, GroupState.ASSIGNING, GroupState.RECONCILING,
})
# No member consumes: the group exists without members, or is being removed.
EMPTY_STATES: frozenset[GroupState] = frozenset({GroupState.EMPTY, GroupState.DEAD})

_BY_KEY = {state.value.lower(): state for state in GroupState}


def normalise_state(raw: str | None) -> GroupState:
    """Map a broker's state spelling (``Stable``, ``STABLE``, ``PREPARING_REBALANCE``...) to a GroupState."""
    if not raw:
        return GroupState.UNKNOWN
    return _BY_KEY.get(raw.replace("_", "").replace("-", "").replace(" ", "").lower(), GroupState.UNKNOWN)
