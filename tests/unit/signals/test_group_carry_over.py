"""A coordinator failing mid-cycle must not reset a group's counters or drop its series."""

from kafka_detective.config import NameFilter
from kafka_detective.gathering import groups as gathering
from kafka_detective.gathering.snapshot import Groups
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
    result = gathering.collect_groups(None, NameFilter(), NameFilter(), previous)
    assert set(result.descriptions) == {"a", "b"}
    assert result.committed == {"a": {("t", 0): 6}, "b": {("t", 0): 7}}


def test_group_no_longer_listed_is_gone(monkeypatch):
    previous = Groups({"a": describe("a")}, {"a": {("t", 0): 5}}, 0.0)
    monkeypatch.setattr(gathering.kafka_groups, "list_groups", lambda admin, live=None: {})
    result = gathering.collect_groups(None, NameFilter(), NameFilter(), previous)
    assert result.descriptions == {} and result.committed == {}
