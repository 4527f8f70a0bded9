"""The broker context of the samples the online analytics gets: the leadership skew and the fullest log
directory under a topic, from hand-built snapshots and the golden exposition's cycle. Without them the online
diagnosis could not name a broker skew or a filling disk, which the offline replay reads from the exposed metrics."""

from kafka_detective.gathering.snapshot import Broker, ClusterState, LogDir, LogDirs, PartitionState
from kafka_detective.metrics.cluster import families as cluster_families
from kafka_detective.signals.derive import SignalState
from kafka_detective.signals.samples import disk_used_ratios, group_topic_samples, leader_share_ratio
from unit.metrics.golden_fixture import STATE, view


def _state(leaders: dict[tuple[str, int], int], brokers=(1, 2, 3)) -> ClusterState:
    return ClusterState(
        brokers=tuple(Broker(b, f"b{b}", 9092, None) for b in brokers), controller_id=1, collected_at=0.0,
        partitions={tp: PartitionState(tp[0], tp[1], leader, 0, tuple(brokers), tuple(brokers), ())
                     for tp, leader in leaders.items()})


def test_the_busiest_broker_over_its_fair_share_counts_brokers_that_lead_nothing() -> None:
    # 6 partitions over 3 brokers: a fair share is 2. Broker 1 leads 3, broker 2 leads 3, broker 3 none.
    state = _state({("a", p): 1 + (p % 2) for p in range(6)})
    assert leader_share_ratio(state) == 1.5
    even = _state({("a", p): 1 + (p % 3) for p in range(6)})
    assert leader_share_ratio(even) == 1.0


def test_offline_partitions_lead_nowhere_and_an_empty_cluster_has_no_ratio() -> None:
    state = _state({("a", 0): 1, ("a", 1): 1, ("a", 2): -1, ("a", 3): 2})   # 3 led over 3 brokers: fair 1
    assert leader_share_ratio(state) == 2.0
    assert leader_share_ratio(_state({("a", 0): -1})) is None
    assert leader_share_ratio(None) is None


def test_the_ratio_is_what_kafka_broker_leader_partitions_exposes() -> None:
    # The golden cycle's three brokers lead 1, 2 and 3 partitions (orders-2 is offline): 3 over a fair share of 2.
    led = next(f for f in cluster_families(view()) if f.spec.name == "kafka_broker_leader_partitions")
    counts = [value for _, value in led.samples]
    assert sorted(counts) == [1, 2, 3]
    assert leader_share_ratio(STATE) == max(counts) / (sum(counts) / len(counts)) == 1.5


def test_a_topic_sees_the_fullest_log_dir_of_the_brokers_leading_it() -> None:
    state = _state({("a", 0): 2, ("a", 1): 2, ("b", 0): 1, ("b", 1): 2, ("c", 0): 3})
    dirs = LogDirs((
        LogDir(1, "/d1", 0, 100, 10, False),        # 90 % used
        LogDir(2, "/d1", 0, 100, 50, False),        # 50 % used
        LogDir(2, "/d2", 0, 200, 40, False),        # 80 % used: broker 2's fullest
        LogDir(3, "/d1", 0, None, None, False),     # no volume size reported
    ), 0.0)
    ratios = disk_used_ratios(state, dirs)
    assert ratios["a"] == 0.8 and ratios["b"] == 0.9
    assert "c" not in ratios
    assert disk_used_ratios(state, None) == {}


def test_every_sample_carries_the_cluster_skew_and_its_topics_disk() -> None:
    # The golden cycle: orders is led by brokers 1 and 3 (orders-2 offline), payments by 2 and 3. Broker 1's one
    # sized log dir is 60 % used (400,000 of 1,000,000 bytes usable); broker 2 reports no usable bytes and broker 3
    # no log dir, so payments has no disk reading.
    snapshot = view().snapshot
    samples = {(s.group, s.topic): s for s in group_topic_samples(snapshot, SignalState().derive(snapshot))}
    assert set(samples) == {("billing", "orders"), ("billing", "payments"), ("shipping", "payments")}
    assert {s.broker_leader_share_ratio for s in samples.values()} == {1.5}
    assert {s.brokers for s in samples.values()} == {len(STATE.brokers)} == {3}
    assert samples[("billing", "orders")].disk_used_ratio == 0.6
    assert samples[("billing", "payments")].disk_used_ratio is None
    assert samples[("shipping", "payments")].disk_used_ratio is None
