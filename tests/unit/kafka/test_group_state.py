"""GroupState: one vocabulary of consumer-group states for the client, the signals, the metrics and the analysis."""

from __future__ import annotations

import pytest

from kafka_detective.analysis import online, rootcause
from kafka_detective.kafka.group_state import EMPTY_STATES, REBALANCING_STATES, GroupState, normalise_state
from kafka_detective.metrics import groups as group_metrics
from kafka_detective.signals import rebalances


def test_the_exposition_order_of_the_state_series_is_unchanged() -> None:
    assert group_metrics.GROUP_STATES == ("Stable", "PreparingRebalance", "CompletingRebalance", "Assigning",
                                          "Reconciling", "Empty", "Dead", "Unknown")


def test_the_online_state_codes_are_unchanged() -> None:
    # stored in the online engine's ring buffers: the codes are an encoding
    assert online.STATES == ("Unknown", "Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead",
                             "Assigning", "Reconciling", "NotReady")
    assert set(GroupState) <= set(online.STATES)


def test_groupings() -> None:
    assert {"PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling"} == REBALANCING_STATES
    assert {"Empty", "Dead"} == EMPTY_STATES
    assert not REBALANCING_STATES & EMPTY_STATES
    assert [s for s in GroupState if s.rebalancing] == sorted(REBALANCING_STATES, key=list(GroupState).index)
    assert [s for s in GroupState if s.empty] == [GroupState.EMPTY, GroupState.DEAD]
    # the signals and the analysis use these very sets
    assert rebalances.REBALANCING_STATES is REBALANCING_STATES
    assert rootcause.REBALANCING_STATES is REBALANCING_STATES and rootcause.EMPTY_STATES is EMPTY_STATES


@pytest.mark.parametrize(("raw", "state"), [("Stable", GroupState.STABLE), ("STABLE", GroupState.STABLE),
                                            ("PREPARING_REBALANCE", GroupState.PREPARING_REBALANCE),
                                            ("Completing-Rebalance", GroupState.COMPLETING_REBALANCE),
                                            ("", GroupState.UNKNOWN), (None, GroupState.UNKNOWN),
                                            ("NOT_READY", GroupState.UNKNOWN)])
def test_normalise_state(raw: str | None, state: GroupState) -> None:
    assert normalise_state(raw) is state


def test_states_are_plain_strings_where_they_leave_the_process() -> None:
    assert GroupState.STABLE == "Stable" and f"{GroupState.DEAD}" == "Dead" and str(GroupState.EMPTY) == "Empty"
    assert hash(GroupState.ASSIGNING) == hash("Assigning")
