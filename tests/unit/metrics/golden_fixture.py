"""One cycle of one cluster, built by hand, for the golden exposition files (test_golden.py).

The values are chosen so that a wrong label, a wrong value, or a missing or duplicate series changes the
rendered text:

* three brokers that lead 1, 2 and 3 partitions and are the preferred leader of 1, 4 and 2; broker 3 has an
  IPv6 host and no rack; broker 2 is the controller;
* topics `audit` (1 partition, no config read yet), `orders` (3) and `payments` (3); orders-2 is offline (its
  offsets are the ones kept from before) and under min.insync.replicas, orders-1 is led by a replica that is
  not the preferred one, payments-1 is under-replicated and under min.insync.replicas; payments-2 has a
  log-end but no log-start offset;
* a topic `gone` that is still in the configs read earlier but no longer in the metadata: it must not show;
* groups `billing` (classic, Stable, 2 members, on orders and payments, orders-2 without a commit),
  `shipping` (KIP-848, Reconciling, group epoch 42, on payments) and `legacy` (a state the exporter does not
  know, no member, no offsets);
* analysis results for billing/orders (a diagnosis, anomaly scores, 5m/15m/30m forecasts) and
  shipping/payments (a 90 s horizon, catching up), given in reverse order;
* self-metrics of a cycle whose log_dirs phase keeps failing: it has errors and an old last-success time.
"""

from __future__ import annotations

from kafka_detective.analysis.model import Diagnosis, GroupTopicAnalysis
from kafka_detective.gathering.snapshot import (
    Broker,
    ClusterState,
    Groups,
    LogDir,
    LogDirs,
    Offsets,
    PartitionState,
    Snapshot,
    TopicConfig,
    TopicConfigs,
)
from kafka_detective.kafka.groups import GroupDescription, GroupMember
from kafka_detective.metrics.view import CollectionStats, View
from kafka_detective.signals.derive import Derived

CLUSTER = "prod"
NOW = 1_767_000_000.0


def _partition(topic: str, partition: int, leader: int, epoch: int, replicas: tuple[int, ...],
               isr: tuple[int, ...], offline: tuple[int, ...] = ()) -> PartitionState:
    return PartitionState(topic, partition, leader, epoch, replicas, isr, offline)


PARTITIONS = (
    _partition("audit", 0, 3, 1, (3,), (3,)),
    _partition("orders", 0, 1, 5, (1, 2, 3), (1, 2, 3)),
    _partition("orders", 1, 3, 7, (2, 3, 1), (3, 1)),
    _partition("orders", 2, -1, 9, (2, 1), (2,), (2, 1)),
    _partition("payments", 0, 2, 0, (2, 3), (2, 3)),
    _partition("payments", 1, 2, 3, (2, 1), (2,)),
    _partition("payments", 2, 3, 2, (3, 2), (3, 2)),
)

STATE = ClusterState(
    brokers=(Broker(1, "kafka-1.example", 9092, "eu-1a"), Broker(2, "kafka-2.example", 9093, "eu-1b"),
             Broker(3, "fd00::3", 9094, None)),
    controller_id=2,
    partitions={(p.topic, p.partition): p for p in PARTITIONS},
    collected_at=NOW,
)

OFFSETS = Offsets(
    log_end={("audit", 0): 40, ("orders", 0): 1000, ("orders", 1): 2000, ("orders", 2): 3000,
             ("payments", 0): 500, ("payments", 1): 600, ("payments", 2): 700},
    log_start={("audit", 0): 0, ("orders", 0): 100, ("orders", 1): 200, ("orders", 2): 300,
               ("payments", 0): 50, ("payments", 1): 60},
    collected_at=NOW,
)

CONFIGS = TopicConfigs(
    topics={
        "orders": TopicConfig(retention_ms=86_400_500, retention_bytes=None, cleanup_policy="delete",
                              min_insync_replicas=2),
        "payments": TopicConfig(retention_ms=None, retention_bytes=1_073_741_824, cleanup_policy="compact",
                                min_insync_replicas=2),
        "gone": TopicConfig(retention_ms=1000, retention_bytes=5, cleanup_policy="compact,delete",
                            min_insync_replicas=1),
    },
    collected_at=NOW - 120,
)

LOG_DIRS = LogDirs(
    dirs=(
        LogDir(1, "/data/kafka", 123_456, 1_000_000, 400_000, False),
        LogDir(1, "/data/kafka2", 0, None, None, True),
        LogDir(2, "/var/lib/kafka", 98_765, 2_000_000, None, False),
    ),
    collected_at=NOW - 600,
)


def _member(name: str, *assignment: tuple[str, int]) -> GroupMember:
    return GroupMember(name, f"client-{name}", f"/10.0.0.{len(name)}", tuple(sorted(assignment)))


GROUPS = Groups(
    descriptions={
        "shipping": GroupDescription("shipping", "consumer", "consumer", "Reconciling", "uniform", 3,
                                     (_member("s1", ("payments", 0), ("payments", 1), ("payments", 2)),), 42, 41),
        "billing": GroupDescription("billing", "classic", "consumer", "Stable", "range", 2,
                                    (_member("b1", ("orders", 0), ("orders", 1), ("payments", 0)),
                                     _member("b2", ("orders", 2))), None, None),
        "legacy": GroupDescription("legacy", "classic", "", "SomethingNew", "", 1, (), None, None),
    },
    committed={
        "billing": {("orders", 0): 900, ("orders", 1): 2000, ("payments", 0): 40},
        "shipping": {("payments", 0): 480, ("payments", 1): 600, ("payments", 2): 650},
    },
    collected_at=NOW,
)

# What signals.derive makes of the snapshot above (lag = log-end - committed; lost = log-start - committed).
DERIVED = Derived(
    lag={("billing", "orders", 0): 100, ("billing", "orders", 1): 0, ("billing", "payments", 0): 460,
         ("shipping", "payments", 0): 20, ("shipping", "payments", 1): 0, ("shipping", "payments", 2): 50},
    committed={("billing", "orders", 0): 900, ("billing", "orders", 1): 2000, ("billing", "payments", 0): 40,
               ("shipping", "payments", 0): 480, ("shipping", "payments", 1): 600,
               ("shipping", "payments", 2): 650},
    # shipping/payments/2 has no offset history yet: no lag-seconds series.
    lag_seconds={("billing", "orders", 0): 12.5, ("billing", "orders", 1): 0.0, ("billing", "payments", 0): 3600.0,
                 ("shipping", "payments", 0): 4.25, ("shipping", "payments", 1): 0.0},
    extrapolated={("billing", "payments"): 1},
    uncommitted={("billing", "orders"): 1},
    lost={("billing", "payments", 0): 10, ("shipping", "payments", 0): 0},
    lost_total={("billing", "payments"): 25},
    consume_rate={("billing", "orders"): 10.0, ("billing", "payments"): 0.0, ("shipping", "payments"): 0.75},
    produce_rate={"orders": 12.5, "payments": 0.25},
    rebalances_total={"billing": 3, "shipping": 7},
    leader_changes_total={("orders", 1): 1, ("payments", 1): 2},
)

ANALYSIS = [
    GroupTopicAnalysis(CLUSTER, "shipping", "payments", predicted_lag={90: 20.0}, catch_up_seconds=40.0,
                       lag_growth_rate=0.0, lag_seconds_growth_rate=0.0),
    GroupTopicAnalysis(
        CLUSTER, "billing", "orders",
        predicted_lag={1800: 800.0, 300: 150.0, 900: 420.5},
        predicted_lag_upper={300: 200.0, 900: 600.25},
        predicted_lag_lower={300: 100.0, 900: 0.0},
        lag_growth_rate=0.5,
        retention_breach_seconds=7200.0,
        anomaly_scores={"produce_rate": 0.1, "lag": 0.93},
        diagnosis=Diagnosis("producer_spike", 0.8, "warning", NOW - 300),
    ),
]

STATS = CollectionStats(
    up=True,
    phase_seconds={"cluster": 0.012, "offsets": 0.5, "groups": 1.25, "log_dirs": 2.0, "render": 0.003},
    phase_errors_total={"cluster": 0, "offsets": 0, "groups": 0, "log_dirs": 4},
    cycles_total=17,
    last_success_timestamp=NOW - 600,
    requests_total={"ListOffsets": 68, "Metadata": 34},
    phase_last_success={"cluster": NOW, "offsets": NOW, "groups": NOW, "log_dirs": NOW - 600},
    metadata_refreshes_total={"brokers": 1, "error": 2},
)


def view() -> View:
    snapshot = Snapshot(CLUSTER, NOW, state=STATE, offsets=OFFSETS, groups=GROUPS, topic_configs=CONFIGS,
                        log_dirs=LOG_DIRS)
    return View(CLUSTER, snapshot, DERIVED, STATS, ANALYSIS)
