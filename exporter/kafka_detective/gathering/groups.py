"""Groups phase: list, describe and committed offsets of every consumer group, batched per coordinator.

A group never leaves `/metrics` because a broker did not answer. Three cases keep a group's previous data:

* ListGroups failed on some brokers: their groups are missing from the listing;
* a group known a moment ago is missing from a listing that looks complete: after a full restart the brokers
  that answer first do not report the groups of coordinators still registering or loading. It is located with
  FindCoordinator and described (`kafka.presence`): it stays if it exists or if that cannot be told, and leaves
  only when the cluster confirms it gone (GROUP_ID_NOT_FOUND from every describe API, or Dead);
* a listed group missing from the describe or offset answers: its coordinator failed or moved during the cycle.

Each of these makes the phase *partial* (`PartialResult`): the fresh data is used, the kept data keeps its
series (and the rebalance counter does not reset: a counter that drops to zero and comes back reads as a burst
of rebalances to `increase()`), and the phase counts an error, so its last-success timestamp and data age say
how old the groups data really is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from kafka.admin import KafkaAdminClient

from kafka_detective.config import NameFilter
from kafka_detective.gathering.sharding import Names
from kafka_detective.gathering.snapshot import Groups, PartialResult
from kafka_detective.kafka import groups as kafka_groups
from kafka_detective.kafka import presence


def _summary(names: Iterable[str], limit: int = 5) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def collect_groups(
    admin: KafkaAdminClient,
    group_filter: Names,
    topic_filter: NameFilter,
    previous: Groups | None = None,
    live_brokers: Iterable[int] | None = None,
) -> Groups:
    problems: list[str] = []
    causes: dict[Any, BaseException] = {}
    try:
        listing = kafka_groups.list_groups(admin, live_brokers)
    except kafka_groups.GroupListingIncomplete as incomplete:
        listing = incomplete.partial
        problems.append(str(incomplete))
        causes.update(incomplete.failed_brokers)
    listed = {g: c for g, c in listing.items() if group_filter.allows(g)}

    known = set(previous.descriptions) | set(previous.committed) if previous is not None else set()
    missing = {g for g in known - listed.keys() if group_filter.allows(g)}
    # A group whose coordinator just failed ListGroups cannot be confirmed either; asking that broker again would
    # only add a timeout to the cycle when it hangs.
    unconfirmed = {g for g in missing if previous is not None and g in previous.descriptions
                   and previous.descriptions[g].coordinator_id in causes}
    described: dict[str, kafka_groups.GroupDescription] = {}   # by the presence check: not asked again
    if missing - unconfirmed:
        located = presence.locate(admin, missing - unconfirmed)
        listed.update(located.found)
        described = located.described
        unconfirmed |= located.unknown
    if unconfirmed:
        problems.append(f"{len(unconfirmed)} group(s) known a moment ago are neither listed nor confirmed gone "
                        f"(kept with their previous data): {_summary(unconfirmed)}")

    descriptions = kafka_groups.describe_groups(admin, {g: c for g, c in listed.items() if g not in described})
    descriptions.update(described)
    committed_raw = kafka_groups.fetch_committed_offsets(admin, listed) if listed else {}
    committed = {
        group: {tp: offset for tp, offset in offsets.items() if topic_filter.allows(tp[0])}
        for group, offsets in committed_raw.items()
    }
    kept: set[str] = set()
    if previous is not None:
        for group in listed.keys() | unconfirmed:
            if group not in descriptions and group in previous.descriptions:
                descriptions[group] = previous.descriptions[group]
                kept.add(group)
            if group not in committed and group in previous.committed:
                committed[group] = previous.committed[group]
                kept.add(group)
    unanswered = kept - unconfirmed
    if unanswered:
        problems.append(f"{len(unanswered)} listed group(s) not described or without offsets this cycle "
                        f"(kept with their previous data): {_summary(unanswered)}")
    groups = Groups(descriptions=descriptions, committed=committed, collected_at=time.time())
    if problems:
        raise PartialResult("; ".join(problems), groups, causes)
    return groups
