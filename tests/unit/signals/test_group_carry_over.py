"""A coordinator failing mid-cycle must not reset a group's counters or drop its series; a group leaves /metrics
only when the cluster confirms it is gone."""

import pytest

from kafka_detective.config import NameFilter
from kafka_detective.gathering import groups as gathering
from kafka_detective.gathering.snapshot import Groups, PartialResult
from kafka_detective.kafka import presence
from kafka_detective.kafka.groups import GroupDescription


def describe(name):
    return GroupDescription(name, "classic", "consumer", "Stable", "range", 1, (), None, None)


def test_listed_group_missing_from_describe_keeps_previous_data(monkeypatch):
    previous = Groups({"a": describe("a"), "b": describe("b")}, {"a": {("t", 0): 5}, "b": {("t", 0): 7}}, 0.0)
    monkeypatch.setattr(gathering.kafka_groups, "list_groups", lambda admin, live=None: {"a": (1, "classic"),
                                                                                "b": (2, "classic")})
    # coordinator 2 failed this cycle: b is listed but neither described nor fetched
    monkeypatch.setattr(gathering.kafka_groups, "describe_groups", lambda admin, g: {"a": describe("a")})
    monkeypatch.setattr(gathering.kafka_groups, "fetch_committed_offsets", lambda admin, g: {"a": {("t", 0): 6}})
    # The phase is partial (counted and logged as such), and its value carries b's previous data.
    with pytest.raises(PartialResult) as partial:
        gathering.collect_groups(None, NameFilter(), NameFilter(), previous)
    result = partial.value.value
    assert set(result.descriptions) == {"a", "b"}
    assert result.committed == {"a": {("t", 0): 6}, "b": {("t", 0): 7}}


def _unlisted(monkeypatch, verdict: presence.Presence) -> None:
    monkeypatch.setattr(gathering.kafka_groups, "list_groups", lambda admin, live=None: {})
    monkeypatch.setattr(gathering.presence, "locate", lambda admin, ids: verdict)


def test_group_confirmed_gone_leaves(monkeypatch):
    previous = Groups({"a": describe("a")}, {"a": {("t", 0): 5}}, 0.0)
    _unlisted(monkeypatch, presence.Presence(gone={"a"}))
    result = gathering.collect_groups(None, NameFilter(), NameFilter(), previous)
    assert result.descriptions == {} and result.committed == {}


def test_group_missing_from_the_listing_but_not_confirmed_gone_stays(monkeypatch):
    previous = Groups({"a": describe("a")}, {"a": {("t", 0): 5}}, 0.0)
    _unlisted(monkeypatch, presence.Presence(unknown={"a"}))
    with pytest.raises(PartialResult) as partial:
        gathering.collect_groups(None, NameFilter(), NameFilter(), previous)
    assert partial.value.value.committed == {"a": {("t", 0): 5}}
