"""Consumer-group identity, state, membership, rebalances and committed offsets."""

from __future__ import annotations

from kafka_detective.metrics.catalogue import GROUP_PARTITION
from kafka_detective.metrics.exposition import Family, family, labelset
from kafka_detective.metrics.view import View

GROUP_STATES = ("Stable", "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling", "Empty", "Dead",
                "Unknown")


def families(view: View) -> list[Family]:
    groups = view.snapshot.groups
    if groups is None:
        return []
    c = view.cluster
    info, state, members = family("kafka_consumergroup_info"), family("kafka_consumergroup_state"), family(
        "kafka_consumergroup_members")
    epoch, rebalances = family("kafka_consumergroup_epoch"), family("kafka_consumergroup_rebalances_total")
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
    offset, offset_sum = family("kafka_consumergroup_current_offset"), family("kafka_consumergroup_current_offset_sum")
    uncommitted = family("kafka_consumergroup_uncommitted_partitions")
    sums: dict[tuple[str, str], int] = {}
    for key in sorted(d.committed):
        group, topic, partition = key
        offset.add(labelset(GROUP_PARTITION, (c, group, topic, str(partition))), d.committed[key])
        sums[(group, topic)] = sums.get((group, topic), 0) + d.committed[key]
    for group, topic in sorted(sums):
        offset_sum.add((c, group, topic), sums[(group, topic)])
    for group, topic in sorted(d.uncommitted):
        uncommitted.add((c, group, topic), d.uncommitted[(group, topic)])
    return [info, state, members, epoch, rebalances, offset, offset_sum, uncommitted]
