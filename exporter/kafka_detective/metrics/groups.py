"""Consumer-group identity, state, membership, rebalances and committed offsets."""

from __future__ import annotations

from kafka_detective.kafka.group_state import GroupState
from kafka_detective.metrics.family import Family, labelset
from kafka_detective.metrics.selection import partition_series
from kafka_detective.metrics.spec import GROUP, GROUP_PARTITION, GROUP_TOPIC, MetricSpec
from kafka_detective.metrics.view import View

# The state series, in GroupState's declaration order (the exposition order).
GROUP_STATES = tuple(GroupState)


INFO = MetricSpec(
    "kafka_consumergroup_info", "gauge", GROUP + ("protocol", "assignor", "coordinator_id"),
    "Group identity; always 1. protocol is `classic` or `consumer` (KIP-848).", "groups")
STATE = MetricSpec(
    "kafka_consumergroup_state", "gauge", GROUP + ("state",),
    "Group state as an enum: 1 for the current state, 0 for the others.", "groups")
MEMBERS = MetricSpec(
    "kafka_consumergroup_members", "gauge", GROUP, "Members of the group.", "groups", True)
EPOCH = MetricSpec(
    "kafka_consumergroup_epoch", "gauge", GROUP,
    "Group epoch of a KIP-848 consumer group.", "groups")
REBALANCES = MetricSpec(
    "kafka_consumergroup_rebalances_total", "counter", GROUP,
    "Rebalances seen since the exporter started (group-epoch increase for KIP-848 groups; state, "
    "membership or assignment change between cycles for classic groups).", "groups")
CURRENT_OFFSET = MetricSpec(
    "kafka_consumergroup_current_offset", "gauge", GROUP_PARTITION,
    "Committed offset of the group for the partition.", "groups", True)
CURRENT_OFFSET_SUM = MetricSpec(
    "kafka_consumergroup_current_offset_sum", "gauge", GROUP_TOPIC,
    "Sum of the group's committed offsets over the topic's partitions.", "groups", True)
UNCOMMITTED_PARTITIONS = MetricSpec(
    "kafka_consumergroup_uncommitted_partitions", "gauge", GROUP_TOPIC,
    "Partitions assigned to the group without a committed offset (they have no lag series).",
    "groups")

SPECS = (INFO, STATE, MEMBERS, EPOCH, REBALANCES, CURRENT_OFFSET, CURRENT_OFFSET_SUM, UNCOMMITTED_PARTITIONS)


def families(view: View) -> list[Family]:
    groups = view.snapshot.groups
    if groups is None:
        return []
    c = view.cluster
    info, state, members = Family(INFO), Family(STATE), Family(MEMBERS)
    epoch, rebalances = Family(EPOCH), Family(REBALANCES)
    for name in sorted(groups.descriptions):
        g = groups.descriptions[name]
        info.add((c, name, g.protocol, g.assignor or "", str(g.coordinator_id)), 1)
        current = g.state if g.state in GROUP_STATES else "Unknown"
        for s in GROUP_STATES:
            state.add((c, name, s), 1 if s == current else 0)
        members.add((c, name), len(g.members))
        if g.group_epoch is not None:
            epoch.add((c, name), g.group_epoch)
        rebalances.add((c, name), view.derived.rebalances_total.get(name, 0))

    d = view.derived
    offset, offset_sum = Family(CURRENT_OFFSET), Family(CURRENT_OFFSET_SUM)
    uncommitted = Family(UNCOMMITTED_PARTITIONS)
    sums: dict[tuple[str, str], int] = {}
    per_partition = partition_series(view.metrics, "groups")
    for key in sorted(d.committed):
        group, topic, partition = key
        if per_partition:
            offset.add(labelset(GROUP_PARTITION, (c, group, topic, str(partition))), d.committed[key])
        sums[(group, topic)] = sums.get((group, topic), 0) + d.committed[key]
    for group, topic in sorted(sums):
        offset_sum.add((c, group, topic), sums[(group, topic)])
    for group, topic in sorted(d.uncommitted):
        uncommitted.add((c, group, topic), d.uncommitted[(group, topic)])
    return [info, state, members, epoch, rebalances, offset, offset_sum, uncommitted]
