from kafka_detective.gathering.snapshot import PartitionState
from kafka_detective.kafka.groups import GroupDescription, GroupMember
from kafka_detective.signals.leader_changes import LeaderChangeTracker
from kafka_detective.signals.lost_messages import LostMessagesTracker
from kafka_detective.signals.rebalances import RebalanceTracker


def group(state="Stable", members=(("m1", (("t", 0),)),), epoch=None, protocol="classic"):
    return GroupDescription(
        group_id="g", protocol=protocol, protocol_type="consumer", state=state, assignor="range",
        coordinator_id=1, members=tuple(GroupMember(m, "c", "h", a) for m, a in members),
        group_epoch=epoch, assignment_epoch=epoch,
    )


def test_classic_rebalance_seen_from_state_and_membership_changes():
    tracker = RebalanceTracker()
    assert tracker.update({"g": group()}) == {"g": 0}  # first sight is not a rebalance
    assert tracker.update({"g": group()})["g"] == 0
    assert tracker.update({"g": group(state="PreparingRebalance")})["g"] == 1
    assert tracker.update({"g": group(state="PreparingRebalance")})["g"] == 1  # still the same rebalance
    both = (("m1", (("t", 0),)), ("m2", (("t", 1),)))
    assert tracker.update({"g": group(members=both)})["g"] == 2  # membership changed: completed rebalance
    assert tracker.update({"g": group(state="Empty", members=())})["g"] == 3
    assert tracker.update({"g": group(state="Empty", members=())})["g"] == 3


def test_kip848_rebalances_follow_the_group_epoch():
    tracker = RebalanceTracker()
    tracker.update({"g": group(epoch=5, protocol="consumer")})
    assert tracker.update({"g": group(epoch=8, protocol="consumer")})["g"] == 3


def test_deleted_group_is_forgotten():
    tracker = RebalanceTracker()
    tracker.update({"g": group()})
    assert tracker.update({}) == {}


def partition(leader, epoch):
    return PartitionState("t", 0, leader, epoch, (1, 2, 3), (1, 2, 3), ())


def test_leader_changes_count_epoch_increases_and_leader_moves():
    tracker = LeaderChangeTracker()
    key = ("t", 0)
    assert tracker.update({key: partition(1, 0)})[key] == 0
    assert tracker.update({key: partition(2, 1)})[key] == 1
    assert tracker.update({key: partition(2, 4)})[key] == 4  # three elections between two cycles
    assert tracker.update({key: partition(3, -1)})[key] == 5  # no epoch known: a leader move counts one
    assert tracker.update({}) == {}


def test_lost_messages_counted_once_and_kept_after_reset():
    tracker = LostMessagesTracker()
    key = ("g", "t", 0)
    assert tracker.observe(key, committed=100, log_start=50) == 0
    assert tracker.observe(key, committed=100, log_start=130) == 30
    assert tracker.totals[("g", "t")] == 30
    assert tracker.observe(key, committed=100, log_start=130) == 30  # same gap, not counted again
    assert tracker.totals[("g", "t")] == 30
    assert tracker.observe(key, committed=100, log_start=150) == 50  # gap grew by 20
    assert tracker.totals[("g", "t")] == 50
    assert tracker.observe(key, committed=150, log_start=150) == 0  # group reset to the log start
    assert tracker.totals[("g", "t")] == 50
    tracker.retain(set())
    assert tracker.totals == {}
