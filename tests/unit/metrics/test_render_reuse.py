"""A publish reuses the text and the gzip segment of every family that did not change since the last one.

The page must stay byte-for-byte what a full render gives. Each test publishes a sequence of cycles through a
reusing `Exposition` and compares every page with the one an `Exposition(reuse=False)` renders from the same
families from scratch: the text, the gzip bytes, and what the gzip decodes to.
"""

from __future__ import annotations

import gzip
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.gathering.snapshot import Broker, PartitionState, TopicConfig
from kafka_detective.kafka.groups import GroupDescription
from kafka_detective.metrics import render
from kafka_detective.metrics.catalogue import BY_NAME, CATALOGUE
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.metrics.family import Family, labelset
from kafka_detective.metrics.view import View

from .golden_fixture import CLUSTER, view

Cycle = dict[str, list[Family]]   # cluster -> the families it publishes this cycle


def full_page(cycle: Cycle) -> tuple[bytes, bytes]:
    """The text and gzip page of `cycle` rendered from scratch, every cluster published in order."""
    fresh = Exposition(reuse=False)
    for cluster, families in cycle.items():
        fresh.publish(cluster, families)
    return fresh.static_body(), fresh.static_body_gzip()


def assert_pages_match(cycles: Sequence[Cycle]) -> Exposition:
    """Publishes the cycles through one reusing exposition; every page must equal the full render's."""
    reusing = Exposition()
    for number, cycle in enumerate(cycles):
        for cluster, families in cycle.items():
            reusing.publish(cluster, families)
        text, gzipped = full_page(cycle)
        assert reusing.static_body() == text, f"cycle {number}: text differs from a full render"
        assert reusing.static_body_gzip() == gzipped, f"cycle {number}: gzip differs from a full render"
        assert gzip.decompress(reusing.static_body_gzip()) == text, f"cycle {number}: gzip does not decode to text"
    return reusing


def families_of(v: View) -> list[Family]:
    return render.cluster_families(v)


def cycles_from(first: View, then: View) -> list[Cycle]:
    """The first view twice (everything reused the second time), then the changed one."""
    return [{CLUSTER: families_of(first)}, {CLUSTER: families_of(first)}, {CLUSTER: families_of(then)}]


def sample_lines(page: bytes) -> set[str]:
    return {line for line in page.decode().splitlines() if line and not line.startswith("#")}


def test_an_unchanged_cycle_gives_the_full_render_and_reuses_every_family() -> None:
    reusing = assert_pages_match([{CLUSTER: families_of(view())} for _ in range(3)])
    # Reuse is what happened, not a re-render that happens to agree: the blocks are the very objects kept.
    before = dict(reusing._blocks[CLUSTER])
    reusing.publish(CLUSTER, families_of(view()))
    assert all(reusing._blocks[CLUSTER][name] is block for name, block in before.items())


def _with_derived(v: View, **changes: object) -> View:
    return replace(v, derived=replace(v.derived, **changes))


def _with_state(v: View, partitions: dict[tuple[str, int], PartitionState] | None = None,
                brokers: tuple[Broker, ...] | None = None) -> View:
    state = v.snapshot.state
    assert state is not None
    state = replace(state, partitions=state.partitions if partitions is None else partitions,
                    brokers=state.brokers if brokers is None else brokers)
    return replace(v, snapshot=replace(v.snapshot, state=state))


def _partitions(v: View) -> dict[tuple[str, int], PartitionState]:
    assert v.snapshot.state is not None
    return dict(v.snapshot.state.partitions)


def changed_lag(v: View) -> View:
    return _with_derived(v, lag={**v.derived.lag, ("billing", "orders", 0): 101})


def changed_leader(v: View) -> View:
    partitions = _partitions(v)
    partitions[("orders", 0)] = replace(partitions[("orders", 0)], leader=2, leader_epoch=6)
    return _with_state(v, partitions)


def removed_partition(v: View) -> View:
    """payments-2 is gone from the metadata, the offsets and the group reading it."""
    gone = ("payments", 2)
    partitions = _partitions(v)
    del partitions[gone]
    offsets = v.snapshot.offsets
    assert offsets is not None
    changed = _with_derived(_with_state(v, partitions),
                            lag={k: x for k, x in v.derived.lag.items() if k[1:] != gone},
                            committed={k: x for k, x in v.derived.committed.items() if k[1:] != gone})
    return replace(changed, snapshot=replace(changed.snapshot, offsets=replace(
        offsets, log_end={k: o for k, o in offsets.log_end.items() if k != gone})))


def added_partition(v: View) -> View:
    partitions = _partitions(v)
    partitions[("payments", 3)] = PartitionState("payments", 3, 1, 0, (1, 2), (1, 2), ())
    return _with_state(v, partitions)


def changed_group_state(v: View) -> View:
    """The `state` label's 1 moves to another series; the group's info labels change too."""
    groups = v.snapshot.groups
    assert groups is not None
    billing = replace(groups.descriptions["billing"], state="PreparingRebalance", assignor="sticky")
    groups = replace(groups, descriptions={**groups.descriptions, "billing": billing})
    return replace(v, snapshot=replace(v.snapshot, groups=groups))


def changed_broker_host(v: View) -> View:
    assert v.snapshot.state is not None
    brokers = tuple(replace(b, host="kafka-1.moved") if b.broker_id == 1 else b for b in v.snapshot.state.brokers)
    return _with_state(v, brokers=brokers)


def changed_topic_config(v: View) -> View:
    configs = v.snapshot.topic_configs
    assert configs is not None
    orders = TopicConfig(retention_ms=None, retention_bytes=None, cleanup_policy="compact", min_insync_replicas=3)
    return replace(v, snapshot=replace(v.snapshot, topic_configs=replace(
        configs, topics={**configs.topics, "orders": orders})))


def renamed_group(v: View) -> View:
    """Every series of `shipping` becomes one of `shipping-v2`: none of the old ones may stay."""
    def rename(key: tuple[str, ...]) -> tuple[str, ...]:
        return ("shipping-v2", *key[1:]) if key[0] == "shipping" else key

    d = v.derived
    derived = replace(d, **{name: {rename(k): x for k, x in getattr(d, name).items()}
                            for name in ("lag", "committed", "lag_seconds", "lost", "consume_rate")},
                      rebalances_total={("shipping-v2" if g == "shipping" else g): n
                                        for g, n in d.rebalances_total.items()})
    groups = v.snapshot.groups
    assert groups is not None
    descriptions = {("shipping-v2" if g == "shipping" else g): (replace(x, group_id="shipping-v2")
                                                                 if g == "shipping" else x)
                    for g, x in groups.descriptions.items()}
    analysis = [replace(a, group="shipping-v2") if a.group == "shipping" else a for a in v.analysis]
    return replace(v, derived=derived, analysis=analysis,
                   snapshot=replace(v.snapshot, groups=replace(groups, descriptions=descriptions)))


def lost_diagnosis(v: View) -> View:
    """A family that had samples has none: its header and block must go."""
    return replace(v, analysis=[replace(a, diagnosis=None) for a in v.analysis])


def new_group(v: View) -> View:
    groups = v.snapshot.groups
    assert groups is not None
    audit = GroupDescription("auditor", "classic", "consumer", "Empty", "", 1, (), None, None)
    groups = replace(groups, descriptions={**groups.descriptions, "auditor": audit})
    return replace(_with_derived(v, committed={**v.derived.committed, ("auditor", "audit", 0): 40},
                                 lag={**v.derived.lag, ("auditor", "audit", 0): 0}),
                   analysis=[*v.analysis, GroupTopicAnalysis(CLUSTER, "auditor", "audit", predicted_lag={300: 0.0})],
                   snapshot=replace(v.snapshot, groups=groups))


CHANGES: dict[str, Callable[[View], View]] = {
    "a changed value": changed_lag,
    "a new leader": changed_leader,
    "a removed partition": removed_partition,
    "an added partition": added_partition,
    "a changed group state and assignor (labels)": changed_group_state,
    "a changed broker host (labels)": changed_broker_host,
    "a changed topic config (values and labels)": changed_topic_config,
    "a renamed group": renamed_group,
    "a family left without samples": lost_diagnosis,
    "a new group": new_group,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_shows_exactly_as_a_full_render_shows_it(change: str) -> None:
    first, then = view(), CHANGES[change](view())
    reusing = assert_pages_match(cycles_from(first, then))
    # The change is real (the page moved) and nothing of the first page lingers that the full render dropped.
    old, new = sample_lines(full_page({CLUSTER: families_of(first)})[0]), sample_lines(reusing.static_body())
    assert old != new
    assert new == sample_lines(full_page({CLUSTER: families_of(then)})[0])


def test_changes_that_come_and_go_over_several_cycles() -> None:
    """Back and forth: a family reused after a change must be the current one, not the one before it."""
    views = [view(), changed_lag(view()), view(), removed_partition(view()), removed_partition(view()),
             added_partition(view()), view(), renamed_group(view()), view()]
    assert_pages_match([{CLUSTER: families_of(v)} for v in views])


def test_another_clusters_publish_neither_keeps_nor_drops_this_clusters_changes() -> None:
    other = replace(view(), cluster="staging")
    cycles = [
        {CLUSTER: families_of(view()), "staging": families_of(other)},
        {CLUSTER: families_of(changed_leader(view())), "staging": families_of(other)},
        {CLUSTER: families_of(changed_leader(view())), "staging": families_of(renamed_group(other))},
        {CLUSTER: families_of(view()), "staging": families_of(renamed_group(other))},
    ]
    assert_pages_match(cycles)


def _one(name: str, samples: list[tuple[tuple[str, ...], float]]) -> Family:
    family = Family(BY_NAME[name])
    for labels, value in samples:
        family.add(labels, value)
    return family


LAG = "kafka_consumergroup_lag"
KEY = ("c", "g", "t", "0")


@pytest.mark.parametrize(("before", "after"), [
    (10**15, 1e15),            # equal, but an int prints all its digits and this float prints 1e+15
    (1e15, 10**15),
    (0.0, -0.0),               # equal, and both print 0
    (math.nan, math.nan),      # never equal to another NaN
    (math.inf, math.inf),
    (0.1 + 0.2, 0.3),          # not equal, though close
])
def test_equal_values_of_another_type_or_nans_render_as_a_full_render(before: float, after: float) -> None:
    assert_pages_match([{"c": [_one(LAG, [(KEY, before)])]}, {"c": [_one(LAG, [(KEY, after)])]}])


def test_a_reused_family_is_compared_with_a_copy_of_what_was_rendered() -> None:
    """A builder that kept its lists and changed them in place must not see its old text reused."""
    family = _one(LAG, [(KEY, 1)])
    reusing = Exposition()
    reusing.publish("c", [family])
    family.values[0] = 2
    family.labels[0] = labelset(BY_NAME[LAG].labels, ("c", "g", "t", "1"))
    reusing.publish("c", [family])
    assert reusing.static_body() == full_page({"c": [family]})[0]


def test_random_edits_over_many_cycles_always_give_the_full_render() -> None:
    """Families appear, vanish, repeat a name, change labels, values and value types, in any order."""
    rng = random.Random(14)
    specs = [spec for spec in CATALOGUE if spec.name in {
        "kafka_consumergroup_lag", "kafka_topic_partition_leader", "kafka_consumergroup_state",
        "kafka_broker_info", "kafka_detective_anomaly_score"}]
    values: list[float] = [0, 1, 2, 1.0, 2.5, -0.0, 10**15, 1e15, math.inf, 7]

    def random_family(spec_index: int) -> list[tuple[tuple[str, ...], float]]:
        spec = specs[spec_index]
        return [(tuple(rng.choice(["a", "b", 'q"x']) for _ in spec.labels), rng.choice(values))
                for _ in range(rng.randint(0, 4))]

    state: dict[str, list[tuple[int, list[tuple[tuple[str, ...], float]]]]] = {
        cluster: [(i, random_family(i)) for i in range(len(specs))] for cluster in ("x", "y")}
    cycles: list[Cycle] = []
    for _ in range(300):
        for entries in state.values():
            for _edit in range(rng.randint(0, 3)):
                what = rng.random()
                if what < 0.3 and entries:                     # a value (or its type) changes
                    index, samples = rng.choice(entries)
                    if samples:
                        k = rng.randrange(len(samples))
                        samples[k] = (samples[k][0], rng.choice(values))
                elif what < 0.45 and entries:                  # a sample's labels change
                    index, samples = rng.choice(entries)
                    if samples:
                        k = rng.randrange(len(samples))
                        samples[k] = (tuple(rng.choice(["a", "b", "c"]) for _ in samples[k][0]), samples[k][1])
                elif what < 0.6 and entries:                   # a sample goes
                    index, samples = rng.choice(entries)
                    if samples:
                        samples.pop(rng.randrange(len(samples)))
                elif what < 0.75:                              # a sample comes
                    index, samples = rng.choice(entries) if entries else (0, [])
                    samples.extend(random_family(index)[:1])
                elif what < 0.85 and entries:                  # a family goes
                    entries.pop(rng.randrange(len(entries)))
                else:                                          # a family comes, perhaps a second of its name
                    index = rng.randrange(len(specs))
                    entries.insert(rng.randrange(len(entries) + 1), (index, random_family(index)))
        cycles.append({cluster: [_one(specs[i].name, list(samples)) for i, samples in entries]
                       for cluster, entries in state.items()})
    assert_pages_match(cycles)
