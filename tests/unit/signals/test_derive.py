"""Correctness rules of the derived signals, on hand-built snapshots."""

from kafka_detective.gathering.snapshot import ClusterState, Groups, Offsets, PartitionState, Snapshot
from kafka_detective.kafka.groups import GroupDescription, GroupMember
from kafka_detective.signals.derive import SignalState


def state(partitions):
    return ClusterState(brokers=(), controller_id=1, collected_at=0.0, partitions={
        (t, p): PartitionState(t, p, 1, 0, (1,), (1,), ()) for t, p in partitions})


def describe(name, state_name="Stable", assignment=()):
    members = (GroupMember("m", "c", "h", tuple(assignment)),) if state_name != "Empty" else ()
    return GroupDescription(name, "classic", "consumer", state_name, "range", 1, members, None, None)


def snapshot(ts, log_end, committed, descriptions, log_start=None):
    parts = set(log_end)
    return Snapshot(
        cluster="c", timestamp=ts, state=state(parts),
        offsets=Offsets(log_end, log_start or dict.fromkeys(log_end, 0), ts),
        groups=Groups(descriptions, committed, ts),
    )


def test_lag_never_negative_and_uncommitted_partitions_have_no_lag_series():
    signals = SignalState()
    snap = snapshot(
        10.0,
        log_end={("t", 0): 100, ("t", 1): 50},
        committed={"g": {("t", 0): 120}},  # committed read after log-end: ahead of it
        descriptions={"g": describe("g", assignment=[("t", 0), ("t", 1)])},
    )
    d = signals.derive(snap)
    assert d.lag == {("g", "t", 0): 0}
    assert ("g", "t", 1) not in d.lag
    assert d.uncommitted[("g", "t")] == 1
    assert all(v >= 0 for v in d.lag.values())


def test_empty_group_keeps_its_lag_and_lag_seconds_grow():
    signals = SignalState()
    for ts, end in ((0.0, 0), (10.0, 100), (20.0, 200)):
        d = signals.derive(snapshot(ts, {("t", 0): end}, {"g": {("t", 0): 0}}, {"g": describe("g", "Empty")}))
    assert d.lag[("g", "t", 0)] == 200
    assert d.lag_seconds[("g", "t", 0)] == 20.0


def test_deleted_group_and_topic_leave_the_derived_signals():
    signals = SignalState()
    signals.derive(snapshot(0.0, {("t", 0): 10, ("u", 0): 5}, {"g": {("t", 0): 1}, "h": {("u", 0): 1}},
                            {"g": describe("g"), "h": describe("h")}))
    d = signals.derive(snapshot(10.0, {("t", 0): 20}, {"g": {("t", 0): 1}}, {"g": describe("g")}))
    assert set(d.lag) == {("g", "t", 0)}
    assert set(d.rebalances_total) == {"g"}
    assert set(d.leader_changes_total) == {("t", 0)}


def test_commit_below_log_start_reports_lost_messages():
    signals = SignalState()
    d = signals.derive(snapshot(0.0, {("t", 0): 100}, {"g": {("t", 0): 10}}, {"g": describe("g", "Empty")},
                                log_start={("t", 0): 40}))
    assert d.lost[("g", "t", 0)] == 30
    assert d.lost_total[("g", "t")] == 30


def test_consume_and_produce_rates():
    signals = SignalState()
    for ts in (0.0, 10.0, 20.0):
        d = signals.derive(snapshot(ts, {("t", 0): int(ts * 10)}, {"g": {("t", 0): int(ts * 5)}},
                                    {"g": describe("g")}))
    assert d.produce_rate["t"] == 10.0
    assert d.consume_rate[("g", "t")] == 5.0
