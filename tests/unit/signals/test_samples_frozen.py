"""The per-partition summary of the samples the online analytics gets: frozen partitions, from real derived
signals over hand-built snapshots (a partition whose consumer stopped while the others move)."""

from kafka_detective.gathering.snapshot import ClusterState, Groups, Offsets, PartitionState, Snapshot
from kafka_detective.kafka.groups import GroupDescription, GroupMember
from kafka_detective.signals.derive import SignalState
from kafka_detective.signals.samples import FROZEN_SECONDS, group_topic_samples

PARTITIONS = 6


def _snapshot(ts: float, frozen_since: float | None) -> Snapshot:
    parts = [("t", p) for p in range(PARTITIONS)]
    log_end = {tp: int(ts * 10) for tp in parts}
    # the consumer is 1 s behind on every partition; partition 2 stops at `frozen_since`
    committed = {tp: max(0, int((ts - 1) * 10)) for tp in parts}
    if frozen_since is not None and ts > frozen_since:
        committed[("t", 2)] = int((frozen_since - 1) * 10)
    state = ClusterState(brokers=(), controller_id=1, collected_at=ts, partitions={
        tp: PartitionState(tp[0], tp[1], 1, 0, (1,), (1,), ()) for tp in parts})
    member = GroupMember("m", "c", "h", tuple(parts))
    desc = GroupDescription("g", "classic", "consumer", "Stable", "range", 1, (member,), None, None)
    return Snapshot(cluster="c", timestamp=ts, state=state, offsets=Offsets(log_end, dict.fromkeys(parts, 0), ts),
                    groups=Groups({"g": desc}, {"g": committed}, ts))


def _last_sample(frozen_since: float | None, until: float):
    signals = SignalState()
    sample = None
    t = 100.0
    while t <= until:
        snap = _snapshot(t, frozen_since)
        sample = group_topic_samples(snap, signals.derive(snap))[0]
        t += 15.0
    return sample


def test_one_stopped_partition_is_named_once_it_is_old_enough() -> None:
    young = _last_sample(frozen_since=400.0, until=400.0 + FROZEN_SECONDS - 60)
    assert young.partitions == PARTITIONS and young.frozen_partitions == 0
    old = _last_sample(frozen_since=400.0, until=400.0 + FROZEN_SECONDS + 60)
    assert old.frozen_partitions == 1 and old.frozen_partition_ids == (2,)


def test_no_stopped_partition_none_frozen() -> None:
    s = _last_sample(frozen_since=None, until=400.0 + FROZEN_SECONDS + 60)
    assert s.partitions == PARTITIONS and s.frozen_partitions == 0 and s.frozen_partition_ids == ()
