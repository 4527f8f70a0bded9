"""Horizontal sharding: which consumer groups and topics one exporter process of `total` collects.

The scheme is kube-state-metrics' (`--shard`, `--total-shards`, the shard of a StatefulSet pod from its ordinal):
every object has one owner, chosen by a stable hash of its name, so `total` processes each list everything but
describe, fetch and expose only their part, and the union of their `/metrics` is one unsharded exporter's page.

* a consumer group belongs to `shard_of(group)`, with everything that hangs on it: committed offsets, lag,
  members, rebalances, forecasts, anomaly scores and diagnoses (group x topic x partition series);
* a topic belongs to `shard_of(topic)`: partition state, log offsets, produce rate, topic configs;
* what belongs to neither (brokers, controller, per-broker leadership, log dirs) is exposed by shard 0 only.

The hash must give the same answer in every process, so Python's `hash()` (salted per process) is out: the
name's 64-bit BLAKE2b digest goes through Lamping and Veach's jump consistent hash, as kube-state-metrics does
with FNV-64a, so that going from n to n+1 shards moves only about 1/(n+1) of the groups instead of most of them.

A shard still needs the log-end offsets of every topic its groups read, whoever owns the topic: lag is log-end
minus committed. Those offsets are fetched but not exposed (`offset_topics`, `missing_offset_topics`).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from typing import Protocol

from kafka_detective.gathering.snapshot import ClusterState, Groups, Offsets


class Names(Protocol):
    """What the groups phase filters group names with: a `config.NameFilter`, or `OwnedNames` of a shard."""

    def allows(self, name: str) -> bool: ...


def jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash (Lamping and Veach, 2014): a bucket in [0, buckets) for a 64-bit key."""
    bucket, candidate = -1, 0
    while candidate < buckets:
        bucket = candidate
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        candidate = int((bucket + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return bucket


# Cached: ownership is asked for every listed group and every topic on every cycle, and names rarely change.
@functools.lru_cache(maxsize=1 << 17)
def shard_of(name: str, total: int) -> int:
    """The shard in [0, total) that owns the group or topic `name`; the same in every process and version."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return jump_hash(int.from_bytes(digest, "big"), total)


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `total`; `Shard()` (0 of 1) is an unsharded exporter, which owns everything."""

    index: int = 0
    total: int = 1

    @property
    def sharded(self) -> bool:
        return self.total > 1

    @property
    def cluster_wide(self) -> bool:
        """Whether this shard exposes what belongs to no group or topic (brokers, controller, log dirs)."""
        return self.index == 0

    def owns(self, name: str) -> bool:
        """Whether this shard owns the consumer group or topic `name`."""
        return not self.sharded or shard_of(name, self.total) == self.index

    def groups(self, names: Names) -> Names:
        """The group filter of the groups phase: a shard does not describe, nor fetch offsets of, others' groups."""
        return OwnedNames(names, self) if self.sharded else names

    def offset_topics(self, state: ClusterState, groups: Groups | None) -> set[str]:
        """Topics whose log offsets this shard needs: its own, and those its groups read (known from `groups`,
        the previous cycle's: the offsets phase runs before the groups phase)."""
        if not self.sharded:
            return state.topics()
        return {t for t in state.topics() if self.owns(t)} | (read_topics(groups) & state.topics())

    def missing_offset_topics(self, state: ClusterState, groups: Groups | None, fetched: set[str]) -> set[str]:
        """Topics this cycle's groups read whose offsets were not fetched: a group started reading a topic (or this
        is the first cycle). Fetched right after the groups phase so that its lag is there in the same cycle."""
        if not self.sharded:
            return set()
        return (read_topics(groups) & state.topics()) - fetched


UNSHARDED = Shard()


@dataclass(frozen=True)
class OwnedNames:
    """The configured group filter, narrowed to the groups of one shard."""

    names: Names
    shard: Shard

    def allows(self, name: str) -> bool:
        return self.shard.owns(name) and self.names.allows(name)


def read_topics(groups: Groups | None) -> set[str]:
    """Topics the groups have committed offsets on or are assigned partitions of."""
    if groups is None:
        return set()
    topics = {topic for offsets in groups.committed.values() for topic, _ in offsets}
    topics.update(topic for g in groups.descriptions.values() for m in g.members for topic, _ in m.assignment)
    return topics


def restrict(state: ClusterState, topics: set[str]) -> ClusterState:
    """The cluster state of `topics` only, for the phases that send one request per partition's leader."""
    if topics >= state.topics():
        return state
    return replace(state, partitions={k: p for k, p in state.partitions.items() if k[0] in topics})


def merge(offsets: Offsets, more: Offsets) -> Offsets:
    """`offsets` with the partitions of `more` added (fetched later in the same cycle), at `offsets`' read times."""
    return replace(offsets, log_end={**offsets.log_end, **more.log_end},
                   log_start={**offsets.log_start, **more.log_start})
