"""Is a group that ListGroups no longer reports really gone? Ask its coordinator.

ListGroups only answers for the groups a broker coordinates *now*. After a restart, a broker that is not yet
registered, or that is still loading its share of ``__consumer_offsets``, reports none of its groups, and a listing
from the brokers that did answer looks complete while it misses them. So a group known a moment ago and missing
from the listing is located with FindCoordinator and described with both describe APIs (classic DescribeGroups and
KIP-848 ConsumerGroupDescribe), and sorted into:

* ``found``: some API describes it — it exists (at the coordinator given), keep collecting it; its description
  from that answer is in ``described``, so the cycle does not ask for it a second time;
* ``gone``: every API answers GROUP_ID_NOT_FOUND, or Dead without error (brokers before 4.0) — the cluster
  confirms the deletion;
* ``unknown``: no coordinator, a coordinator still loading, an error or no answer — nothing is confirmed, the
  caller keeps the group's previous data and says the cycle was partial.

Requests: one batched FindCoordinator plus at most two describes per coordinator, and only in cycles where a
known group went missing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import kafka.errors as Errors
from kafka.protocol.admin import DescribeGroupsRequest

from kafka_detective.kafka import groups as kafka_groups
from kafka_detective.kafka.protocol import ConsumerGroupDescribeRequest

log = logging.getLogger(__name__)

PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"


@dataclass
class Presence:
    found: dict[str, tuple[int, str]] = field(default_factory=dict)  # group -> (coordinator, group type)
    described: dict[str, kafka_groups.GroupDescription] = field(default_factory=dict)  # the found groups
    gone: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)


def verdict(error_code: int, state: str | None) -> str:
    """What one describe API says about one group."""
    if error_code == Errors.GroupIdNotFoundError.errno:
        return ABSENT  # 4.x: unknown group, or a group of the other protocol (the other API answers for it)
    if error_code == Errors.UnsupportedVersionError.errno:
        # 3.x with the consumer protocol off (its default) advertises ConsumerGroupDescribe but answers every
        # group so: that API holds no group there, and DescribeGroups' Dead alone confirms a deletion.
        return ABSENT
    if error_code == Errors.GroupAuthorizationFailedError.errno:
        return ABSENT  # a group the exporter may not describe is one ListGroups hides from it too
    if error_code:
        return UNKNOWN  # coordinator moved, loading or unavailable: not a confirmation of anything
    return ABSENT if kafka_groups.normalise_state(state) == "Dead" else PRESENT


def combine(group_id: str, coordinator: int | None, verdicts: dict[str, str], presence: Presence) -> None:
    """Sort one group by the verdicts of the describe APIs asked (``classic``/``consumer``)."""
    for group_type, said in verdicts.items():
        if said == PRESENT and coordinator is not None:
            presence.found[group_id] = (coordinator, group_type)
            return
    if verdicts and all(said == ABSENT for said in verdicts.values()):
        presence.gone.add(group_id)
    else:
        presence.unknown.add(group_id)


def _supports_consumer_groups(admin: Any) -> bool:
    try:
        admin._manager.broker_version_data.api_version(ConsumerGroupDescribeRequest)
    except Exception:  # IncompatibleBrokerVersion: a broker before KIP-848 has no consumer-protocol groups
        return False
    return True


async def _locate(admin: Any, group_ids: list[str]) -> Presence:
    presence = Presence()
    coordinators = await kafka_groups._find_coordinators(admin, group_ids)
    presence.unknown.update(g for g in group_ids if g not in coordinators)
    by_coordinator: dict[int, list[str]] = defaultdict(list)
    for group_id in sorted(coordinators):
        by_coordinator[coordinators[group_id]].append(group_id)
    apis = [kafka_groups.CLASSIC] + ([kafka_groups.CONSUMER] if _supports_consumer_groups(admin) else [])
    requests: list[tuple[int, str, Any]] = []
    for coordinator, ids in by_coordinator.items():
        for api in apis:
            request = (ConsumerGroupDescribeRequest(group_ids=ids, include_authorized_operations=False)
                       if api == kafka_groups.CONSUMER
                       else DescribeGroupsRequest(groups=ids, include_authorized_operations=False))
            requests.append((coordinator, api, request))
    responses = await kafka_groups._send_all(admin, [(c, r) for c, _, r in requests])
    # A group an API left out of its answer counts as unknown for that API, never as absent.
    verdicts = {g: dict.fromkeys(apis, UNKNOWN) for g in coordinators}
    descriptions: dict[tuple[str, str], kafka_groups.GroupDescription] = {}   # (group, api) -> as that API gave it
    for (coordinator, api, _), response in zip(requests, responses, strict=True):
        if isinstance(response, Exception):
            log.info("describing missing groups on broker %s failed: %r", coordinator, response)
            # kafka-python raises IncompatibleBrokerVersion (an UnsupportedVersionError) for an API the broker lacks.
            said = ABSENT if isinstance(response, Errors.UnsupportedVersionError) else UNKNOWN
            for group_id in by_coordinator[coordinator]:
                verdicts[group_id][api] = said
            continue
        for group in response.groups:
            if group.group_id in verdicts:
                verdicts[group.group_id][api] = verdict(group.error_code, group.group_state)
        parse = (kafka_groups.parse_consumer_group_describe if api == kafka_groups.CONSUMER
                 else kafka_groups.parse_describe_groups)
        descriptions.update(((g, api), d) for g, d in parse(response, coordinator).done.items())
    for group_id, coordinator in coordinators.items():
        combine(group_id, coordinator, verdicts[group_id], presence)
    presence.described = {g: descriptions[(g, api)] for g, (_, api) in presence.found.items()}
    return presence


def locate(admin: Any, group_ids: Iterable[str]) -> Presence:
    """Find out whether each group exists, is gone, or cannot be told this cycle. Never raises for a group."""
    ids = sorted(set(group_ids))
    if not ids:
        return Presence()
    return kafka_groups._run(admin, _locate, admin, ids)
