"""Consumer-group client logic without a broker: parsing, dedup, state names, batching and retries.

The batching/retry tests drive the real request code through a fake ``admin._manager`` whose ``send`` answers
synchronously with real kafka-python response objects, so the request counts asserted here are the ones the
exporter would send.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from kafka.future import Future
from kafka.protocol.admin import DescribeGroupsRequest, DescribeGroupsResponse, ListGroupsRequest, ListGroupsResponse
from kafka.protocol.broker_version_data import BrokerVersionData
from kafka.protocol.consumer import OffsetFetchRequest, OffsetFetchResponse
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment
from kafka.protocol.metadata import FindCoordinatorRequest, FindCoordinatorResponse

from kafka_detective.kafka import groups as G
from kafka_detective.kafka.protocol import ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse

NOT_COORDINATOR = 16
GROUP_ID_NOT_FOUND = 69

# --- response builders ------------------------------------------------------------------------------------

DG = DescribeGroupsResponse.DescribedGroup
DGMember = DG.DescribedGroupMember
CG = ConsumerGroupDescribeResponse.DescribedGroup
CGMember = CG.Member
OFG = OffsetFetchResponse.OffsetFetchResponseGroup


def classic_assignment(pairs: dict[str, list[int]]) -> bytes:
    tp = ConsumerProtocolAssignment.TopicPartition
    return bytes(ConsumerProtocolAssignment(
        version=0, assigned_partitions=[tp(version=0, topic=t, partitions=p) for t, p in pairs.items()],
        user_data=b"").encode(version=0))


def classic_group(group_id: str, state: str = "Stable", error: int = 0,
                  members: dict[str, dict[str, list[int]]] | None = None, protocol_type: str = "consumer") -> Any:
    return DG(version=5, error_code=error, group_id=group_id, group_state=state, protocol_type=protocol_type,
              protocol_data="range" if members else "",
              members=[DGMember(version=5, member_id=m, group_instance_id=None, client_id=f"c-{m}",
                                client_host="/10.0.0.1", member_metadata=b"",
                                member_assignment=classic_assignment(a))
                       for m, a in (members or {}).items()])


def consumer_group(group_id: str, state: str = "Stable", error: int = 0, epoch: int = 3,
                   members: dict[str, dict[str, list[int]]] | None = None) -> Any:
    assignment_cls = CGMember.Assignment
    tps_cls = assignment_cls.TopicPartitions

    def assignment(a: dict[str, list[int]]) -> Any:
        return assignment_cls(version=1, topic_partitions=[
            tps_cls(version=1, topic_id=uuid.uuid4(), topic_name=t, partitions=p) for t, p in a.items()])

    return CG(version=1, error_code=error, error_message=None, group_id=group_id, group_state=state,
              group_epoch=epoch, assignment_epoch=epoch, assignor_name="uniform" if not error else "",
              members=[CGMember(version=1, member_id=m, instance_id=None, rack_id=None, member_epoch=epoch,
                                client_id=f"c-{m}", client_host="/10.0.0.2", subscribed_topic_names=list(a),
                                subscribed_topic_regex=None, assignment=assignment(a),
                                target_assignment=assignment(a), member_type=1)
                       for m, a in (members or {}).items()],
              authorized_operations=-2147483648)


def roundtrip(response: Any, version: int) -> Any:
    """Encode and decode, so parsing sees exactly what the wire format yields."""
    return type(response).decode(response.encode(version=version), version=version)


# --- pure logic -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("Stable", "Stable"), ("STABLE", "Stable"), ("stable", "Stable"), ("Empty", "Empty"),
    ("PREPARING_REBALANCE", "PreparingRebalance"), ("PreparingRebalance", "PreparingRebalance"),
    ("COMPLETING_REBALANCE", "CompletingRebalance"), ("ASSIGNING", "Assigning"), ("RECONCILING", "Reconciling"),
    ("Dead", "Dead"), ("", "Unknown"), (None, "Unknown"), ("NOT_READY", "Unknown"),
])
def test_normalise_state(raw: str | None, expected: str) -> None:
    assert G.normalise_state(raw) == expected


def test_group_types_share_and_streams_are_dropped_pre_kip848_is_classic() -> None:
    assert G.normalise_group_type("consumer") == "consumer"
    assert G.normalise_group_type("Classic") == "classic"
    assert G.normalise_group_type("") == "classic"
    assert G.normalise_group_type("share") is None
    assert G.normalise_group_type("streams") is None


def test_merge_listings_dedups_and_reports_conflicts() -> None:
    unique, conflicts = G.merge_listings({
        1: [("a", "classic"), ("moving", "consumer"), ("s", "share")],
        2: [("b", "consumer"), ("moving", "consumer")],
        3: [("moving", "consumer")],
    })
    assert unique == {"a": (1, "classic"), "b": (2, "consumer")}
    assert conflicts == {"moving": {1: "consumer", 2: "consumer", 3: "consumer"}}


def test_resolve_conflicts_prefers_current_coordinator_then_lowest_id() -> None:
    conflicts = {"x": {2: "classic", 3: "classic"}, "y": {2: "consumer", 3: "consumer"},
                 "z": {3: "classic", 2: "classic"}}
    # x: FindCoordinator says 3; y: lookup failed; z: coordinator is a broker that did not list it.
    assert G.resolve_conflicts(conflicts, {"x": 3, "z": 1}) == {
        "x": (3, "classic"), "y": (2, "consumer"), "z": (2, "classic")}


def test_parse_describe_groups_classic() -> None:
    response = roundtrip(DescribeGroupsResponse(version=5, throttle_time_ms=0, groups=[
        classic_group("g", members={"m2": {"t": [3, 1]}, "m1": {"t": [0, 2], "u": [0]}}),
        classic_group("moved", error=NOT_COORDINATOR),
        classic_group("kip848", state="Dead", error=GROUP_ID_NOT_FOUND),
        classic_group("dead-old-broker", state="Dead"),
        classic_group("connect", members={"w": {}}, protocol_type="connect"),
    ]), 5)
    out = G.parse_describe_groups(response, coordinator_id=7)
    g = out.done["g"]
    assert (g.protocol, g.protocol_type, g.state, g.assignor, g.coordinator_id) == (
        "classic", "consumer", "Stable", "range", 7)
    assert (g.group_epoch, g.assignment_epoch) == (None, None)
    assert [m.member_id for m in g.members] == ["m1", "m2"]
    assert g.members[0].assignment == (("t", 0), ("t", 2), ("u", 0))
    assert g.members[1].assignment == (("t", 1), ("t", 3))
    assert g.members[0].client_id == "c-m1" and g.members[0].host == "/10.0.0.1"
    assert out.done["connect"].members[0].assignment == ()
    assert "dead-old-broker" not in out.done
    assert out.relocate == {"moved"} and out.other_api == {"kip848"}


def test_parse_consumer_group_describe_v0_and_v1() -> None:
    for version in (0, 1):
        response = roundtrip(ConsumerGroupDescribeResponse(version=version, throttle_time_ms=0, groups=[
            consumer_group("g", state="Reconciling", epoch=5, members={"b": {"t": [1]}, "a": {"t": [2, 0]}}),
            consumer_group("classic-one", state="", error=GROUP_ID_NOT_FOUND),
            consumer_group("moved", state="", error=NOT_COORDINATOR),
            consumer_group("empty", state="EMPTY", epoch=9),
        ]), version)
        out = G.parse_consumer_group_describe(response, coordinator_id=2)
        g = out.done["g"]
        assert (g.protocol, g.protocol_type, g.state, g.assignor) == ("consumer", "consumer", "Reconciling", "uniform")
        assert (g.group_epoch, g.assignment_epoch, g.coordinator_id) == (5, 5, 2)
        assert [(m.member_id, m.assignment) for m in g.members] == [("a", (("t", 0), ("t", 2))), ("b", (("t", 1),))]
        assert out.done["empty"].state == "Empty" and out.done["empty"].members == ()
        assert out.other_api == {"classic-one"} and out.relocate == {"moved"}


def test_consumer_group_describe_request_encoding() -> None:
    request = ConsumerGroupDescribeRequest(group_ids=["a", "b"], include_authorized_operations=False)
    assert ConsumerGroupDescribeRequest.API_KEY == 69
    # flexible v0+: compact array (n+1), compact strings (len+1), bool, empty tagged fields.
    assert bytes(request.encode(version=1)) == b"\x03\x02a\x02b\x00\x00"


def offset_fetch_response(groups: dict[str, dict[tuple[str, int], int] | int]) -> Any:
    topic_cls = OFG.OffsetFetchResponseTopics
    part_cls = topic_cls.OffsetFetchResponsePartitions
    out = []
    for group_id, offsets in groups.items():
        if isinstance(offsets, int):
            out.append(OFG(version=8, group_id=group_id, topics=[], error_code=offsets))
            continue
        by_topic: dict[str, list[Any]] = {}
        for (t, p), o in offsets.items():
            by_topic.setdefault(t, []).append(part_cls(version=8, partition_index=p, committed_offset=o,
                                                       committed_leader_epoch=-1, metadata="", error_code=0))
        out.append(OFG(version=8, group_id=group_id, error_code=0,
                       topics=[topic_cls(version=8, name=t, partitions=ps) for t, ps in by_topic.items()]))
    return OffsetFetchResponse(version=8, throttle_time_ms=0, groups=out)


def test_parse_offset_fetch_omits_uncommitted_and_isolates_group_errors() -> None:
    response = roundtrip(offset_fetch_response({
        "g": {("t", 0): 5, ("t", 1): -1, ("u", 0): 0},
        "moved": NOT_COORDINATOR,
        "denied": 30,  # GROUP_AUTHORIZATION_FAILED
        "none": {},
    }), 8)
    out = G.parse_offset_fetch(response)
    assert out.done == {"g": {("t", 0): 5, ("u", 0): 0}, "none": {}}
    assert out.relocate == {"moved"}


def test_parse_offset_fetch_names_the_partition_errors_it_leaves_out(caplog: pytest.LogCaptureFixture) -> None:
    topic_cls = OFG.OffsetFetchResponseTopics
    part_cls = topic_cls.OffsetFetchResponsePartitions
    parts = [part_cls(version=8, partition_index=0, committed_offset=7, committed_leader_epoch=-1, metadata="",
                      error_code=0),
             part_cls(version=8, partition_index=1, committed_offset=-1, committed_leader_epoch=-1, metadata="",
                      error_code=88)]   # UNSTABLE_OFFSET_COMMIT
    response = roundtrip(OffsetFetchResponse(version=8, throttle_time_ms=0, groups=[
        OFG(version=8, group_id="g", error_code=0, topics=[topic_cls(version=8, name="t", partitions=parts)]),
        OFG(version=8, group_id="quiet", error_code=0, topics=[])]), 8)
    with caplog.at_level(logging.WARNING, logger=G.log.name):
        out = G.parse_offset_fetch(response)
    assert out.done == {"g": {("t", 0): 7}, "quiet": {}}
    assert [r.getMessage() for r in caplog.records] == [
        "OffsetFetch g: partitions left out on UnstableOffsetCommitError"]


# --- batching and retries through a fake admin --------------------------------------------------------------


class FakeCluster:
    def __init__(self, broker_ids: list[int]):
        self._ids = broker_ids

    def brokers(self) -> list[Any]:
        return [type("B", (), {"node_id": b})() for b in self._ids]


class FakeManager:
    """Answers each request synchronously from ``handler(node_id, request)``; records what was sent."""

    def __init__(self, broker_ids: list[int], handler: Callable[[int, Any], Any]):
        self.cluster = FakeCluster(broker_ids)
        self.broker_version_data = BrokerVersionData((4, 1))
        self.handler = handler
        self.sent: list[tuple[int, Any]] = []

    def least_loaded_node(self) -> int:
        return self.cluster._ids[0]

    def send(self, request: Any, node_id: int | None = None) -> Future:
        self.sent.append((node_id, request))
        answer = self.handler(node_id, request)
        future = Future()
        return future.failure(answer) if isinstance(answer, Exception) else future.success(answer)

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        coro = fn(*args)
        try:
            coro.send(None)
        except StopIteration as stop:
            return stop.value
        raise AssertionError("coroutine waited on something the fake does not answer")

    def count(self, request_cls: type) -> int:
        return sum(isinstance(r, request_cls) for _, r in self.sent)


class FakeAdmin:
    def __init__(self, manager: FakeManager):
        self._manager = manager


def cluster(state: dict[int, dict[str, str]], coordinator_of: dict[str, int] | None = None,
            failing: frozenset[int] | set[int] = frozenset()) -> Any:
    """A fake cluster: ``state[broker][group] = type`` is what each broker coordinates.

    Like Kafka 4.x, a broker answers NOT_COORDINATOR for a group ``coordinator_of`` places elsewhere and
    GROUP_ID_NOT_FOUND for any other group it does not hold (a group of the other type included).
    """
    coordinator_of = coordinator_of or {}

    def error_for(node_id: int, group_id: str) -> int:
        moved = coordinator_of.get(group_id, node_id) != node_id
        return NOT_COORDINATOR if moved else GROUP_ID_NOT_FOUND

    def handler(node_id: int, request: Any) -> Any:
        if node_id in failing:
            return ConnectionError(f"broker {node_id} down")
        owned = state.get(node_id, {})
        if isinstance(request, ListGroupsRequest):
            return ListGroupsResponse(version=5, throttle_time_ms=0, error_code=0, groups=[
                ListGroupsResponse.ListedGroup(version=5, group_id=g, protocol_type="consumer", group_state="Stable",
                                               group_type=t) for g, t in owned.items()])
        if isinstance(request, DescribeGroupsRequest):
            return DescribeGroupsResponse(version=5, throttle_time_ms=0, groups=[
                classic_group(g, members={"m": {"t": [0]}}) if owned.get(g) == "classic"
                else classic_group(g, state="Dead", error=error_for(node_id, g))
                for g in request.groups])
        if isinstance(request, ConsumerGroupDescribeRequest):
            return ConsumerGroupDescribeResponse(version=1, throttle_time_ms=0, groups=[
                consumer_group(g, members={"m": {"t": [0]}}) if owned.get(g) == "consumer"
                else consumer_group(g, state="", error=error_for(node_id, g))
                for g in request.group_ids])
        if isinstance(request, OffsetFetchRequest):
            return offset_fetch_response({
                # An unknown group has no commits: 4.x answers it without an error.
                grp.group_id: {("t", 0): 42} if grp.group_id in owned
                else {} if error_for(node_id, grp.group_id) == GROUP_ID_NOT_FOUND else NOT_COORDINATOR
                for grp in request.groups})
        if isinstance(request, FindCoordinatorRequest):
            coord_cls = FindCoordinatorResponse.Coordinator
            return FindCoordinatorResponse(version=4, throttle_time_ms=0, coordinators=[
                coord_cls(version=4, key=k, node_id=coordinator_of.get(k, -1), host="h", port=1,
                          error_code=0 if k in coordinator_of else 15, error_message=None)
                for k in request.coordinator_keys])
        raise AssertionError(f"unexpected {request}")

    return FakeAdmin(FakeManager(sorted(state), handler))


@pytest.mark.parametrize("n_groups", [1, 10, 200])
def test_request_count_does_not_grow_with_groups(n_groups: int) -> None:
    owned = {f"c{i}": "classic" for i in range(n_groups)} | {f"k{i}": "consumer" for i in range(n_groups)}
    admin = cluster({1: owned})
    listed = G.list_groups(admin)
    assert len(listed) == 2 * n_groups
    described = G.describe_groups(admin, listed)
    offsets = G.fetch_committed_offsets(admin, listed)
    assert len(described) == len(offsets) == 2 * n_groups
    m = admin._manager
    assert (m.count(ListGroupsRequest), m.count(DescribeGroupsRequest), m.count(ConsumerGroupDescribeRequest),
            m.count(OffsetFetchRequest), m.count(FindCoordinatorRequest)) == (1, 1, 1, 1, 0)


def test_one_request_per_coordinator_and_api() -> None:
    admin = cluster({1: {"a": "classic", "b": "consumer"}, 2: {"c": "classic", "d": "classic"}, 3: {}})
    listed = G.list_groups(admin)
    assert listed == {"a": (1, "classic"), "b": (1, "consumer"), "c": (2, "classic"), "d": (2, "classic")}
    G.describe_groups(admin, listed)
    G.fetch_committed_offsets(admin, listed)
    sent = [(n, type(r).__name__) for n, r in admin._manager.sent]
    assert sorted(sent) == sorted([
        (1, "ListGroupsRequest"), (2, "ListGroupsRequest"), (3, "ListGroupsRequest"),
        (1, "DescribeGroupsRequest"), (1, "ConsumerGroupDescribeRequest"), (2, "DescribeGroupsRequest"),
        (1, "OffsetFetchRequest"), (2, "OffsetFetchRequest")])


def test_group_listed_by_two_brokers_appears_once_at_current_coordinator() -> None:
    admin = cluster({1: {"moving": "classic"}, 2: {"moving": "classic", "x": "consumer"}},
                    coordinator_of={"moving": 2})
    assert G.list_groups(admin) == {"moving": (2, "classic"), "x": (2, "consumer")}
    assert admin._manager.count(FindCoordinatorRequest) == 1


def test_list_groups_with_a_broker_down_raises_with_partial_result() -> None:
    admin = cluster({1: {"a": "classic"}, 2: {"b": "classic"}}, failing={2})
    with pytest.raises(G.GroupListingIncomplete) as info:
        G.list_groups(admin)
    assert info.value.partial == {"a": (1, "classic")}
    assert set(info.value.failed_brokers) == {2}


def test_moved_group_is_retried_once_via_find_coordinator() -> None:
    # "moved" was listed on broker 1 but now lives on 2; "gone" vanished everywhere.
    admin = cluster({1: {"a": "classic"}, 2: {"moved": "classic", "moved848": "consumer"}},
                    coordinator_of={"moved": 2, "moved848": 2})
    groups = {"a": (1, "classic"), "moved": (1, "classic"), "moved848": (1, "consumer"), "gone": (1, "classic")}
    described = G.describe_groups(admin, groups)
    assert set(described) == {"a", "moved", "moved848"}
    assert described["moved"].coordinator_id == 2 and described["moved848"].protocol == "consumer"
    m = admin._manager
    # round 1: DescribeGroups + CGD on broker 1; "gone" -> other API (CGD on 1); moved -> FindCoordinator once,
    # then DescribeGroups + CGD on broker 2.
    assert m.count(FindCoordinatorRequest) == 1
    assert m.count(DescribeGroupsRequest) == 2 and m.count(ConsumerGroupDescribeRequest) == 3

    offsets = G.fetch_committed_offsets(admin, groups)
    assert offsets["moved"] == {("t", 0): 42} and offsets["a"] == {("t", 0): 42}
    assert offsets["gone"] == {}
    assert m.count(OffsetFetchRequest) == 2 and m.count(FindCoordinatorRequest) == 2


def test_group_that_changed_protocol_is_described_with_the_other_api() -> None:
    admin = cluster({1: {"upgraded": "consumer", "downgraded": "classic"}})
    described = G.describe_groups(
        admin, {"upgraded": (1, "classic"), "downgraded": (1, "consumer")})
    assert described["upgraded"].protocol == "consumer" and described["downgraded"].protocol == "classic"
    assert admin._manager.count(FindCoordinatorRequest) == 0


def test_unreachable_coordinator_drops_its_groups_only() -> None:
    admin = cluster({1: {"a": "classic"}, 2: {"b": "classic"}}, coordinator_of={"b": 2}, failing={2})
    groups = {"a": (1, "classic"), "b": (2, "classic")}
    assert set(G.describe_groups(admin, groups)) == {"a"}
    assert set(G.fetch_committed_offsets(admin, groups)) == {"a"}


def test_empty_input_sends_nothing() -> None:
    admin = cluster({1: {}})
    assert G.describe_groups(admin, {}) == {}
    assert G.fetch_committed_offsets(admin, {}) == {}
    assert admin._manager.sent == []


def test_protocol_schemas_are_declared_as_package_data() -> None:
    """kafka-python reads the ConsumerGroupDescribe schemas as package resources at import time; a wheel
    (the Docker image runs `pip install .`) only carries them if pyproject.toml declares them, otherwise
    importing kafka_detective.kafka.groups fails with FileNotFoundError in the image."""
    import fnmatch
    import tomllib
    from pathlib import Path

    import kafka_detective

    package_dir = Path(kafka_detective.__file__).parent
    pyproject = package_dir.parent.parent / "pyproject.toml"
    patterns = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"].get("kafka_detective", [])
    schemas = sorted(p.relative_to(package_dir).as_posix() for p in (package_dir / "kafka" / "protocol").glob("*.json"))
    assert schemas, "no schema files found"
    missing = [s for s in schemas if not any(fnmatch.fnmatch(s, pat) for pat in patterns)]
    assert not missing, (f"add \"kafka/protocol/*.json\" to [tool.setuptools.package-data] kafka_detective in "
                         f"pyproject.toml; not shipped: {missing}")
