"""Consumer groups: listing, describing (classic and KIP-848) and committed offsets, batched per coordinator.

Every request goes through ``admin._manager.send`` (looked up at call time, so a wrapper installed by the
exporter to count requests sees all of them) inside one ``admin._manager.run`` per public call. Requests to
different brokers are all sent before any reply is awaited, so a call costs one round trip per phase, not one
per broker.

Request budget per call (B brokers, C coordinators; independent of the number of groups):

* ``list_groups``: B ListGroups; plus one batched FindCoordinator only when two brokers report the same group.
* ``describe_groups``: at most one DescribeGroups and one ConsumerGroupDescribe per coordinator; a retry round
  (one batched FindCoordinator plus at most one request per coordinator and API) only when some group failed.
* ``fetch_committed_offsets``: one OffsetFetch (v8+, KIP-709, many groups per request) per coordinator, same
  retry round. kafka-python's ``admin.list_group_offsets`` also sends one OffsetFetch per coordinator, but it
  first sends FindCoordinator for groups it has not cached (we already know the coordinators from ListGroups)
  and raises on the first group or partition error, which would let one broken group hide all the others.

Findings against Kafka 4.1.1 and 4.4.0 (real brokers; see tests/integration/test_groups.py):

* ListGroups reports KIP-848 groups. From v5 on each entry carries ``GroupType``: ``"consumer"`` for KIP-848
  groups, ``"classic"`` for classic ones; ``ProtocolType`` is ``"consumer"`` for both, so only ``GroupType``
  tells them apart. Brokers without ListGroups v5 have no KIP-848 groups, so everything is ``classic`` there.
  A group that only has offsets committed by an admin client (no members ever) is a classic group with
  protocol type ``""`` in state Empty. Share and streams groups (``"share"``/``"streams"``) are left out:
  neither DescribeGroups nor ConsumerGroupDescribe describes them.
* DescribeGroups on a KIP-848 group does not describe it: the group comes back with error
  GROUP_ID_NOT_FOUND ("Group X is not a classic group."), state Dead and no members. ConsumerGroupDescribe on
  a classic group answers the same way ("... is not a consumer group."), and so do both for an unknown group
  (4.x no longer answers Dead/no-error for an unknown group). A GROUP_ID_NOT_FOUND therefore gets one retry
  with the other API: that also follows a group converted between protocols (KIP-848 online migration)
  between listing and describing.
* ConsumerGroupDescribe returns the members with their current assignment (and their target assignment,
  which they converge to while the group is Reconciling); we report the current assignment, i.e. what each
  member owns now. During reconciliation a partition can be in nobody's current assignment for a moment.
* The KIP-848 group epoch is bumped by every change of membership, subscription or subscribed-topic metadata:
  a member joining is +1, a member leaving is +1 (a consumer restart is therefore +2), the last member
  leaving is +1 as well (the group then shows Empty with the assignment epoch one behind), and adding
  partitions to a subscribed topic is +1. So counting epoch increases counts every reassignment, not only
  consumer churn. The epoch never decreases while the group exists; it starts again if the group is deleted
  and re-created. A classic group converted to a consumer group does not start at epoch 1.
* Online migration (``group.consumer.migration.policy``, default bidirectional): a consumer-protocol member
  joining a non-empty classic group turns it into a ``consumer`` group; ConsumerGroupDescribe then lists the
  classic members too, with their assignments. When the last consumer-protocol member leaves, the group is
  ``classic`` again. The exporter sees the group's type flip between cycles (and ``group_epoch`` appear or
  disappear); a type flip is itself a rebalance.
* Failures seen on a 3-broker cluster (tests/integration/test_groups_cluster3.py): on a freshly started
  broker ListGroups answers COORDINATOR_LOAD_IN_PROGRESS for a few seconds; after a coordinator is killed,
  ListGroups to it fails and FindCoordinator keeps naming it until the controller fences it (broker session
  timeout, 6-9 s), so for those seconds ``list_groups`` raises ``GroupListingIncomplete`` and
  ``describe_groups``/``fetch_committed_offsets`` leave its groups out; then the groups show up at their new
  coordinator, offsets intact. A group listed but missing from a describe/fetch result is therefore
  "unknown this cycle", not "gone".
* States are reported in CamelCase by 4.1 (Stable, Empty, Assigning, Reconciling, Dead); ``normalise_state``
  also accepts the enum spellings (STABLE, PREPARING_REBALANCE, ...) that other brokers and tools use.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple

import kafka.errors as Errors
from kafka.protocol.admin import DescribeGroupsRequest, ListGroupsRequest
from kafka.protocol.consumer import OffsetFetchRequest
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment
from kafka.protocol.metadata import FindCoordinatorRequest

from kafka_detective.kafka.group_state import GroupState, normalise_state
from kafka_detective.kafka.protocol import ConsumerGroupDescribeRequest

if TYPE_CHECKING:
    from kafka import KafkaAdminClient

log = logging.getLogger(__name__)

CLASSIC = "classic"
CONSUMER = "consumer"
GROUP_TYPES = (CLASSIC, CONSUMER)


# Group-level errors after which the group is looked up again with FindCoordinator: the coordinator moved,
# is starting up, or is unreachable.
_COORDINATOR_ERRORS = frozenset({
    Errors.NotCoordinatorError.errno,
    Errors.CoordinatorNotAvailableError.errno,
    Errors.CoordinatorLoadInProgressError.errno,
})
_GROUP_ID_NOT_FOUND = Errors.GroupIdNotFoundError.errno

# OffsetFetch v10 identifies topics by id only; v9 still returns names, which is what the exporter keys on.
_OFFSET_FETCH_MAX_VERSION = 9
_OFFSET_FETCH_MULTI_GROUP_VERSION = 8


@dataclass(frozen=True, slots=True)
class GroupMember:
    member_id: str
    client_id: str
    host: str
    assignment: tuple[tuple[str, int], ...]  # (topic, partition), sorted


@dataclass(frozen=True, slots=True)
class GroupDescription:
    group_id: str
    protocol: str  # "classic" or "consumer" (KIP-848)
    protocol_type: str  # "consumer", "" (simple/admin-only groups), "connect", ...
    state: GroupState
    assignor: str  # classic: protocol name (range, cooperative-sticky...); consumer: server assignor
    coordinator_id: int
    members: tuple[GroupMember, ...]
    group_epoch: int | None  # KIP-848 only
    assignment_epoch: int | None  # KIP-848 only


class GroupListingIncomplete(Exception):
    """Some brokers did not answer ListGroups; their groups are missing from ``partial``.

    Raised instead of returning a short list because the caller cannot tell a missing group from a deleted
    one: it should keep the previous cycle's groups (or knowingly use ``partial``).
    """

    def __init__(self, partial: dict[str, tuple[int, str]], failed_brokers: dict[int, Exception]):
        super().__init__(f"ListGroups failed on brokers {sorted(failed_brokers)}: "
                         + "; ".join(f"{b}: {e!r}" for b, e in sorted(failed_brokers.items())))
        self.partial = partial
        self.failed_brokers = failed_brokers


# --- pure logic (unit-tested without a broker) -----------------------------------------------------------


def normalise_group_type(raw: str | None) -> str | None:
    """``classic``/``consumer`` for groups we can describe; None for share/streams/unknown groups.

    An empty type comes from ListGroups < v5, i.e. a broker that predates KIP-848 groups: classic.
    """
    if not raw:
        return CLASSIC
    lowered = raw.lower()
    return lowered if lowered in GROUP_TYPES else None


def merge_listings(
    per_broker: Mapping[int, Iterable[tuple[str, str]]],
) -> tuple[dict[str, tuple[int, str]], dict[str, dict[int, str]]]:
    """Merge (group_id, group_type) lists from several brokers.

    Returns the groups reported by exactly one broker and, separately, the groups reported by several (a
    coordinator move in progress: the old coordinator still unloading while the new one loads) with the
    type each broker gave. Groups of types we cannot describe are dropped here.
    """
    seen: dict[str, dict[int, str]] = defaultdict(dict)
    for broker_id, listing in per_broker.items():
        for group_id, raw_type in listing:
            group_type = normalise_group_type(raw_type)
            if group_type is not None:
                seen[group_id][broker_id] = group_type
    unique = {g: next(iter(b.items())) for g, b in seen.items() if len(b) == 1}
    conflicts = {g: b for g, b in seen.items() if len(b) > 1}
    return unique, conflicts


def resolve_conflicts(
    conflicts: Mapping[str, Mapping[int, str]], coordinators: Mapping[str, int],
) -> dict[str, tuple[int, str]]:
    """Pick one broker per group reported by several.

    The broker FindCoordinator names wins (it is where the next requests must go); if it names none of the
    reporting brokers or the lookup failed, the lowest broker id wins so the choice is stable across cycles.
    """
    resolved: dict[str, tuple[int, str]] = {}
    for group_id, brokers in conflicts.items():
        coordinator = coordinators.get(group_id)
        broker_id = coordinator if coordinator is not None and coordinator in brokers else min(brokers)
        resolved[group_id] = (broker_id, brokers[broker_id])
    return resolved


def _sorted_assignment(pairs: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(set(pairs)))


def _decode_classic_assignment(protocol_type: str, raw: bytes | None) -> tuple[tuple[str, int], ...]:
    # Only the "consumer" protocol type has a known assignment layout; connect and others are opaque.
    if protocol_type != "consumer" or not raw:
        return ()
    try:
        decoded = ConsumerProtocolAssignment.decode(bytes(raw))
    except Exception:  # a client with a custom embedded protocol: report the member without partitions
        log.debug("undecodable classic member assignment (%d bytes)", len(raw))
        return ()
    return _sorted_assignment((tp.topic, p) for tp in decoded.assigned_partitions for p in tp.partitions)


@dataclass(slots=True)
class _Outcome:
    """What one round of describe/fetch produced: results, and the groups to try again and how."""

    done: dict[str, Any]
    relocate: set[str]  # coordinator moved/unavailable: FindCoordinator, then retry
    other_api: set[str]  # GROUP_ID_NOT_FOUND from one describe API: retry with the other one


def _describable(group: Any, out: _Outcome, api: str) -> bool:
    """Sort one described group by its error, the same for both describe APIs; True when it can be parsed."""
    if group.error_code in _COORDINATOR_ERRORS:
        out.relocate.add(group.group_id)
    elif group.error_code == _GROUP_ID_NOT_FOUND:
        out.other_api.add(group.group_id)
    elif group.error_code:
        log.warning("%s %s: %s %s", api, group.group_id, Errors.for_code(group.error_code).__name__,
                    getattr(group, "error_message", None) or "")
    else:
        # Pre-4.0 brokers answer an unknown or just-deleted group with Dead and no error.
        return normalise_state(group.group_state) != GroupState.DEAD
    return False


def parse_describe_groups(response: Any, coordinator_id: int) -> _Outcome:
    """Parse a DescribeGroups (classic) response."""
    out = _Outcome({}, set(), set())
    for group in response.groups:
        if _describable(group, out, "DescribeGroups"):
            members = tuple(sorted(
                (GroupMember(member_id=m.member_id, client_id=m.client_id, host=m.client_host,
                             assignment=_decode_classic_assignment(group.protocol_type, m.member_assignment))
                 for m in group.members),
                key=lambda m: m.member_id))
            out.done[group.group_id] = GroupDescription(
                group_id=group.group_id, protocol=CLASSIC, protocol_type=group.protocol_type,
                state=normalise_state(group.group_state), assignor=group.protocol_data or "",
                coordinator_id=coordinator_id, members=members, group_epoch=None, assignment_epoch=None)
    return out


def parse_consumer_group_describe(response: Any, coordinator_id: int) -> _Outcome:
    """Parse a ConsumerGroupDescribe (KIP-848) response."""
    out = _Outcome({}, set(), set())
    for group in response.groups:
        if _describable(group, out, "ConsumerGroupDescribe"):
            members = tuple(sorted(
                (GroupMember(member_id=m.member_id, client_id=m.client_id, host=m.client_host,
                             assignment=_sorted_assignment(
                                 (tp.topic_name, p) for tp in m.assignment.topic_partitions for p in tp.partitions))
                 for m in group.members),
                key=lambda m: m.member_id))
            out.done[group.group_id] = GroupDescription(
                group_id=group.group_id, protocol=CONSUMER, protocol_type="consumer",
                state=normalise_state(group.group_state), assignor=group.assignor_name or "",
                coordinator_id=coordinator_id, members=members, group_epoch=group.group_epoch,
                assignment_epoch=group.assignment_epoch)
    return out


def _parse_offset_group(group: Any, group_id: str, out: _Outcome) -> None:
    if group.error_code in _COORDINATOR_ERRORS:
        out.relocate.add(group_id)
        return
    if group.error_code:
        # GROUP_ID_NOT_FOUND (deleted meanwhile), authorization...: this group only, the others stand.
        log.warning("OffsetFetch %s: %s", group_id, Errors.for_code(group.error_code).__name__)
        return
    offsets: dict[tuple[str, int], int] = {}
    errors: set[int] = set()
    for topic in group.topics:
        for partition in topic.partitions:
            # -1 is "no commit"; a partition error (e.g. UNSTABLE_OFFSET_COMMIT) leaves that partition out.
            if partition.error_code == 0 and partition.committed_offset >= 0:
                offsets[(topic.name, partition.partition_index)] = partition.committed_offset
            elif partition.error_code:
                errors.add(partition.error_code)
    if errors:
        # the group's lag loses these partitions for this cycle: say why
        log.warning("OffsetFetch %s: partitions left out on %s", group_id,
                    ", ".join(sorted(Errors.for_code(code).__name__ for code in errors)))
    out.done[group_id] = offsets


def parse_offset_fetch(response: Any, group_id: str | None = None) -> _Outcome:
    """Parse an OffsetFetch response: v8+ carries many groups; older ones the single ``group_id`` asked for."""
    out = _Outcome({}, set(), set())
    if response.API_VERSION >= _OFFSET_FETCH_MULTI_GROUP_VERSION:
        for group in response.groups:
            _parse_offset_group(group, group.group_id, out)
    else:
        assert group_id is not None
        _parse_offset_group(response, group_id, out)
    return out


# --- requests ---------------------------------------------------------------------------------------------


async def _send_all(admin: KafkaAdminClient, requests: list[tuple[int, Any]]) -> list[Any]:
    """Send every request before awaiting any, so brokers work in parallel; exceptions are returned."""
    futures: list[Any] = []
    for node_id, request in requests:
        try:
            futures.append(admin._manager.send(request, node_id=node_id))
        except Exception as exc:  # unknown broker id and the like are raised, not returned as a failed future
            futures.append(exc)
    results: list[Any] = []
    for future in futures:
        if isinstance(future, Exception):
            results.append(future)
            continue
        try:
            results.append(await future)
        except Exception as exc:
            results.append(exc)
    return results


async def _find_coordinators(admin: KafkaAdminClient, group_ids: Iterable[str]) -> dict[str, int]:
    """Current coordinator of each group, bypassing kafka-python's coordinator cache (it is what went stale).

    One batched FindCoordinator (v4+, KIP-699); groups whose lookup fails are missing from the result.
    """
    keys = sorted(set(group_ids))
    if not keys:
        return {}
    found: dict[str, int] = {}
    if admin._manager.broker_version_data.api_version(FindCoordinatorRequest) >= 4:
        request = FindCoordinatorRequest(key_type=0, coordinator_keys=keys, min_version=4)
        [response] = await _send_all(admin, [(admin._manager.least_loaded_node(), request)])
        if isinstance(response, Exception):
            log.warning("FindCoordinator failed: %r", response)
            return {}
        for coordinator in response.coordinators:
            if coordinator.error_code == 0:
                found[coordinator.key] = coordinator.node_id
        return found
    # Pre-3.0 brokers take one key per request; this only runs on retries, for the few groups that failed.
    requests = [(admin._manager.least_loaded_node(), FindCoordinatorRequest(key=k, key_type=0, max_version=3))
                for k in keys]
    for key, response in zip(keys, await _send_all(admin, requests), strict=True):
        if not isinstance(response, Exception) and response.error_code == 0:
            found[key] = response.node_id
    return found


_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")


def _run(admin: KafkaAdminClient, coro: Callable[[*_Args], Awaitable[_T]], *args: *_Args) -> _T:
    result: _T = admin._manager.run(coro, *args)  # kafka-python is untyped; run() returns what `coro` returns
    return result


def list_groups(admin: KafkaAdminClient, broker_ids: Iterable[int] | None = None) -> dict[str, tuple[int, str]]:
    """group_id -> (coordinator broker id, "classic"/"consumer"), from one ListGroups per broker.

    ``broker_ids``: the live brokers to ask (the exporter passes those of its own fresh DescribeCluster, fenced
    ones excluded). Without it, kafka-python's cached metadata is used, which keeps a dead broker listed for as
    long as the client lives — every listing would then fail for the whole outage.

    A group reported by two brokers (coordinator moving) appears once: the broker FindCoordinator names,
    else the lowest broker id (see ``resolve_conflicts``). Raises ``GroupListingIncomplete`` (with the
    partial result) if some broker did not answer.
    """
    return _run(admin, _list_groups, admin, None if broker_ids is None else sorted(broker_ids))


async def _list_groups(admin: KafkaAdminClient, live: list[int] | None = None) -> dict[str, tuple[int, str]]:
    broker_ids = live if live is not None else sorted(b.node_id for b in admin._manager.cluster.brokers())
    # One request object per broker: kafka-python pins the negotiated version on the request when sending.
    responses = await _send_all(admin, [(b, ListGroupsRequest()) for b in broker_ids])
    per_broker: dict[int, list[tuple[str, str]]] = {}
    failed: dict[int, Exception] = {}
    for broker_id, response in zip(broker_ids, responses, strict=True):
        if isinstance(response, Exception):
            failed[broker_id] = response
        elif response.error_code:
            failed[broker_id] = Errors.for_code(response.error_code)(f"ListGroups on broker {broker_id}")
        else:
            per_broker[broker_id] = [(g.group_id, getattr(g, "group_type", None) or "") for g in response.groups]
    groups, conflicts = merge_listings(per_broker)
    if conflicts:
        groups.update(resolve_conflicts(conflicts, await _find_coordinators(admin, conflicts)))
    if failed:
        raise GroupListingIncomplete(groups, failed)
    return groups


def describe_groups(admin: KafkaAdminClient, groups: Mapping[str, tuple[int, str]]) -> dict[str, GroupDescription]:
    """Describe groups: one DescribeGroups (classic) and one ConsumerGroupDescribe (KIP-848) per coordinator.

    A group whose coordinator moved or is unavailable is retried once after FindCoordinator; one reported as
    not found by the API its listed type implies is retried once with the other API (type changed, or
    deleted); anything still failing is left out of the result. Never raises for a group or a coordinator.
    """
    if not groups:
        return {}
    return _run(admin, _describe_groups, admin, dict(groups))


def _describe_request(group_type: str, group_ids: list[str]) -> Any:
    if group_type == CONSUMER:
        return ConsumerGroupDescribeRequest(group_ids=group_ids, include_authorized_operations=False)
    return DescribeGroupsRequest(groups=group_ids, include_authorized_operations=False)


async def _describe_round(
    admin: KafkaAdminClient, groups: Mapping[str, tuple[int, str]],
) -> _Outcome:
    buckets: dict[tuple[int, str], list[str]] = defaultdict(list)
    for group_id, (coordinator, group_type) in sorted(groups.items()):
        buckets[(coordinator, group_type)].append(group_id)
    keys = list(buckets)
    responses = await _send_all(admin, [(c, _describe_request(t, buckets[(c, t)])) for c, t in keys])
    total = _Outcome({}, set(), set())
    for (coordinator, group_type), response in zip(keys, responses, strict=True):
        if isinstance(response, Exception):
            log.warning("describe %s groups on broker %s failed: %r", group_type, coordinator, response)
            total.relocate.update(buckets[(coordinator, group_type)])
            continue
        parse = parse_consumer_group_describe if group_type == CONSUMER else parse_describe_groups
        outcome = parse(response, coordinator)
        total.done.update(outcome.done)
        total.relocate |= outcome.relocate
        total.other_api |= outcome.other_api
    return total


async def _describe_groups(
    admin: KafkaAdminClient, groups: dict[str, tuple[int, str]],
) -> dict[str, GroupDescription]:
    first = await _describe_round(admin, groups)
    result: dict[str, GroupDescription] = dict(first.done)
    retry: dict[str, tuple[int, str]] = {}
    for group_id in first.other_api:
        coordinator, group_type = groups[group_id]
        retry[group_id] = (coordinator, CLASSIC if group_type == CONSUMER else CONSUMER)
    if first.relocate:
        coordinators = await _find_coordinators(admin, first.relocate)
        for group_id in first.relocate:
            if group_id in coordinators:
                retry[group_id] = (coordinators[group_id], groups[group_id][1])
            else:
                log.warning("dropping group %s: no coordinator found", group_id)
    if retry:
        second = await _describe_round(admin, retry)
        result.update(second.done)
        for group_id in (second.relocate | second.other_api) - second.done.keys():
            log.info("dropping group %s: still not describable after one retry", group_id)
    return result


def fetch_committed_offsets(
    admin: KafkaAdminClient, groups: Mapping[str, tuple[int, str]],
) -> dict[str, dict[tuple[str, int], int]]:
    """Committed offsets of every partition each group has committed; uncommitted (-1) partitions omitted.

    One OffsetFetch per coordinator for all its groups (v8+), with the same single FindCoordinator retry as
    ``describe_groups``. A group with an error is left out (a known group without commits maps to {}).
    """
    if not groups:
        return {}
    return _run(admin, _fetch_committed_offsets, admin, dict(groups))


def _offset_fetch_requests(admin: KafkaAdminClient, coordinator: int, group_ids: list[str]
                           ) -> list[tuple[int, str | None, Any]]:
    if admin._manager.broker_version_data.api_version(OffsetFetchRequest) >= _OFFSET_FETCH_MULTI_GROUP_VERSION:
        group_cls = OffsetFetchRequest.OffsetFetchRequestGroup
        # topics=None asks for every partition the group has committed.
        request = OffsetFetchRequest(groups=[group_cls(group_id=g, topics=None) for g in group_ids],
                                     require_stable=False, min_version=_OFFSET_FETCH_MULTI_GROUP_VERSION,
                                     max_version=_OFFSET_FETCH_MAX_VERSION)
        return [(coordinator, None, request)]
    # Brokers before 3.0 (no KIP-709): one request per group is all they accept.
    return [(coordinator, g, OffsetFetchRequest(group_id=g, topics=None, min_version=2, max_version=7))
            for g in group_ids]


async def _offsets_round(admin: KafkaAdminClient, coordinators: Mapping[str, int]) -> _Outcome:
    buckets: dict[int, list[str]] = defaultdict(list)
    for group_id, coordinator in sorted(coordinators.items()):
        buckets[coordinator].append(group_id)
    requests = [r for c, ids in buckets.items() for r in _offset_fetch_requests(admin, c, ids)]
    responses = await _send_all(admin, [(c, req) for c, _, req in requests])
    total = _Outcome({}, set(), set())
    for (coordinator, single_group, _), response in zip(requests, responses, strict=True):
        if isinstance(response, Exception):
            log.warning("OffsetFetch on broker %s failed: %r", coordinator, response)
            total.relocate.update([single_group] if single_group else buckets[coordinator])
            continue
        if getattr(response, "error_code", 0) in _COORDINATOR_ERRORS:
            # v8+ puts coordinator errors at top level only when the whole request failed.
            total.relocate.update([single_group] if single_group else buckets[coordinator])
            continue
        outcome = parse_offset_fetch(response, single_group)
        total.done.update(outcome.done)
        total.relocate |= outcome.relocate
    return total


async def _fetch_committed_offsets(
    admin: KafkaAdminClient, groups: dict[str, tuple[int, str]],
) -> dict[str, dict[tuple[str, int], int]]:
    first = await _offsets_round(admin, {g: c for g, (c, _) in groups.items()})
    result = dict(first.done)
    if first.relocate:
        found = await _find_coordinators(admin, first.relocate)
        for group_id in first.relocate - found.keys():
            log.warning("dropping offsets of group %s: no coordinator found", group_id)
        if found:
            second = await _offsets_round(admin, found)
            result.update(second.done)
            for group_id in second.relocate:
                log.info("dropping offsets of group %s: coordinator still failing after one retry", group_id)
    return result


__all__ = [
    "CLASSIC",
    "CONSUMER",
    "GroupDescription",
    "GroupListingIncomplete",
    "GroupMember",
    "GroupState",
    "describe_groups",
    "fetch_committed_offsets",
    "list_groups",
    "normalise_state",
]
