"""Who owns a consumer group or topic when the exporter is sharded (gathering/sharding.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from kafka_detective.config import NameFilter
from kafka_detective.gathering.sharding import Shard, jump_hash, read_topics, restrict, shard_of
from kafka_detective.gathering.snapshot import ClusterState, Groups, PartitionState
from kafka_detective.kafka.groups import GroupDescription, GroupMember

NAMES = [f"group-{i}" for i in range(2000)] + ["orders", "payments", "ünïcødé-topic", ""]


def test_every_name_has_exactly_one_owner() -> None:
    for total in (1, 2, 3, 7):
        shards = [Shard(i, total) for i in range(total)]
        for name in NAMES:
            assert sum(s.owns(name) for s in shards) == 1, (name, total)


def test_an_unsharded_exporter_owns_everything() -> None:
    shard = Shard()
    assert not shard.sharded and shard.cluster_wide
    assert all(shard.owns(name) for name in NAMES)


def test_groups_spread_evenly_over_the_shards() -> None:
    counts = Counter(shard_of(f"group-{i}", 4) for i in range(4000))
    assert sorted(counts) == [0, 1, 2, 3]
    assert all(800 <= n <= 1200 for n in counts.values()), counts


def test_one_more_shard_moves_only_the_groups_it_takes() -> None:
    """Jump hashing: from 3 to 4 shards a group either stays or moves to the new shard, and about 1/4 move."""
    moved = 0
    for i in range(4000):
        before, after = shard_of(f"group-{i}", 3), shard_of(f"group-{i}", 4)
        assert after in (before, 3)
        moved += after != before
    assert 800 <= moved <= 1200, moved


def test_jump_hash_matches_the_published_algorithm() -> None:
    # Computed with the C++ of Lamping and Veach's paper ("A Fast, Minimal Memory, Consistent Hash Algorithm").
    expected = {1: [0, 0, 6, 549], 42: [1, 2, 2, 571], 0xDEAD10CC: [1, 1, 5, 361],
                0xFFFFFFFFFFFFFFFF: [1, 2, 9, 313], 123456789012345: [0, 2, 7, 76]}
    for key, buckets in expected.items():
        assert [jump_hash(key, n) for n in (2, 3, 10, 1000)] == buckets, hex(key)


OWNERS_SCRIPT = """
import json, sys
from kafka_detective.gathering.sharding import shard_of
print(json.dumps({name: shard_of(name, 5) for name in json.loads(sys.stdin.read())}))
"""


@pytest.mark.parametrize("seed", ["0", "12345"])
def test_ownership_is_the_same_in_another_process_with_another_hash_seed(seed: str) -> None:
    """Python's str hash is salted per process; the shards of one exporter must agree whatever their seed."""
    names = NAMES[:300] + NAMES[-4:]
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", OWNERS_SCRIPT], input=json.dumps(names), env=env,
                         capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == {name: shard_of(name, 5) for name in names}
    assert len(set(json.loads(out.stdout).values())) == 5


def test_the_group_filter_keeps_the_configured_filter_and_adds_ownership() -> None:
    configured = NameFilter(exclude=(re.compile("^skip-.*"),))
    shard = Shard(1, 3)
    owned = shard.groups(configured)
    for name in NAMES[:500] + ["skip-" + n for n in NAMES[:50]]:
        assert owned.allows(name) == (configured.allows(name) and shard_of(name, 3) == 1)
    assert Shard().groups(configured) is configured


def _state(*topics: str) -> ClusterState:
    partitions = {(t, p): PartitionState(t, p, 1, 0, (1,), (1,), ()) for t in topics for p in range(2)}
    return ClusterState(brokers=(), controller_id=None, partitions=partitions, collected_at=0.0)


def _groups() -> Groups:
    member = GroupMember("m", "c", "/h", (("assigned-only", 0),))
    return Groups(
        descriptions={"g": GroupDescription("g", "classic", "consumer", "Stable", "range", 1, (member,), None, None)},
        committed={"g": {("committed", 0): 5}},
        collected_at=0.0,
    )


def test_a_shard_fetches_the_offsets_of_its_topics_and_of_the_topics_its_groups_read() -> None:
    topics = [f"t{i}" for i in range(30)]
    state = _state(*topics, "committed", "assigned-only", "deleted-since")
    shard = Shard(2, 3)
    own = {t for t in state.topics() if shard_of(t, 3) == 2}
    assert read_topics(_groups()) == {"committed", "assigned-only"}
    assert shard.offset_topics(state, None) == own
    assert shard.offset_topics(state, _groups()) == own | {"committed", "assigned-only"}
    # The first cycle knows no groups yet: the groups phase names what is still missing.
    assert shard.missing_offset_topics(state, _groups(), own) == {"committed", "assigned-only"} - own
    assert Shard().offset_topics(state, None) == state.topics()
    assert Shard().missing_offset_topics(state, _groups(), set()) == set()


def test_restrict_keeps_the_partitions_of_the_topics_asked_for() -> None:
    state = _state("a", "b", "c")
    assert set(restrict(state, {"a", "c"}).partitions) == {("a", 0), ("a", 1), ("c", 0), ("c", 1)}
    assert restrict(state, {"a", "b", "c", "x"}) is state
