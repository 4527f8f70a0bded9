"""What one shard exposes of a cluster, so that the union of every shard's `/metrics` is one unsharded page.

A family's scope follows from its labels (gathering/sharding.py says who owns what):

* with `consumergroup`: the group's shard. Nothing to filter: a shard only ever describes its own groups.
* with `topic` (and no group): the topic's shard. A shard also holds the offsets of the topics its groups read,
  and every topic's partition state: those series are rendered from a view narrowed to the topics it owns.
* with neither (brokers, controller, per-broker leadership, log dirs): shard 0, rendered from the whole view
  since per-broker leadership counts the partitions of every topic.

The exporter's own health (`kafka_detective_*` from metrics/self_metrics.py) is every shard's, told apart by a
`shard` label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from types import ModuleType

from kafka_detective.gathering.sharding import Shard
from kafka_detective.metrics.family import Family
from kafka_detective.metrics.spec import MetricSpec
from kafka_detective.metrics.view import View

SHARD_LABEL = "shard"


def cluster_wide(spec: MetricSpec) -> bool:
    return "topic" not in spec.labels and "consumergroup" not in spec.labels


def shard_families(view: View, concerns: Sequence[ModuleType]) -> list[Family]:
    """The families of `concerns` (modules with `SPECS` and `families(view)`) this view's shard exposes."""
    shard = view.shard
    if not shard.sharded:
        return [f for concern in concerns for f in concern.families(view)]
    owned = owned_view(view)
    result: list[Family] = []
    for concern in concerns:
        whole: dict[str, Family] = {}
        if shard.cluster_wide and any(cluster_wide(spec) for spec in concern.SPECS):
            whole = {f.spec.name: f for f in concern.families(view) if cluster_wide(f.spec)}
        for family in concern.families(owned):
            if not cluster_wide(family.spec):
                result.append(family)
            elif family.spec.name in whole:
                result.append(whole[family.spec.name])
    return result


def owned_view(view: View) -> View:
    """`view` without the topics its shard does not own (their partitions, offsets, configs, produce rates)."""
    shard, snapshot = view.shard, view.snapshot
    owns = shard.owns
    state, offsets, configs = snapshot.state, snapshot.offsets, snapshot.topic_configs
    if state is not None:
        state = replace(state, partitions={k: p for k, p in state.partitions.items() if owns(k[0])})
    if offsets is not None:
        offsets = replace(offsets, log_end={k: o for k, o in offsets.log_end.items() if owns(k[0])},
                          log_start={k: o for k, o in offsets.log_start.items() if owns(k[0])})
    if configs is not None:
        configs = replace(configs, topics={t: c for t, c in configs.topics.items() if owns(t)})
    derived = replace(view.derived,
                      produce_rate={t: r for t, r in view.derived.produce_rate.items() if owns(t)},
                      leader_changes_total={k: n for k, n in view.derived.leader_changes_total.items() if owns(k[0])})
    return replace(view, snapshot=replace(snapshot, state=state, offsets=offsets, topic_configs=configs),
                   derived=derived)


def label_shard(families: Iterable[Family], shard: Shard) -> list[Family]:
    """The exporter's health families with a `shard` label when the exporter is sharded (unchanged otherwise)."""
    if not shard.sharded:
        return list(families)
    extra = f'{SHARD_LABEL}="{shard.index}"'
    labelled = []
    for family in families:
        spec = replace(family.spec, labels=(*family.spec.labels, SHARD_LABEL))
        labelled.append(Family(spec, [f"{labels},{extra}" if labels else extra for labels in family.labels],
                               list(family.values)))
    return labelled
