"""Data shapes shared by the exporter's online analysis and the offline CLI.

The exporter builds one `GroupTopicSample` per consumer group and topic each cycle and hands them to
`kafka_detective.analysis.online.OnlineAnalytics`; it renders the returned `GroupTopicAnalysis` objects as the
`analysis` metrics of the catalogue. The offline CLI builds the same samples from a trace or from Prometheus,
so both paths run the same code and give the same results.

Everything here is pure Python: the exporter's runtime does not depend on numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Root-cause identifiers (see docs/architecture.md).
ROOT_CAUSES: tuple[str, ...] = (
    "producer_spike",
    "consumer_down",
    "consumer_stalled",
    "rebalance_storm",
    "consumer_cpu_saturation",
    "consumer_slowdown",
    "leader_election",
    "broker_failure",
    "broker_skew",
    "disk_pressure",
    "retention_loss",
    "unknown",
)

ANOMALY_SIGNALS: tuple[str, ...] = ("produce_rate", "consume_rate", "lag", "lag_seconds", "rebalances")


@dataclass(frozen=True, slots=True)
class GroupTopicSample:
    """What one collection cycle knows about one consumer group on one topic."""

    cluster: str
    group: str
    topic: str
    timestamp: float                 # unix seconds at the end of the cycle
    lag: int                         # kafka_consumergroup_lag_sum
    log_end_offset: int              # sum of the topic's log-end offsets (a produce counter)
    committed_offset: int            # kafka_consumergroup_current_offset_sum (a consume counter)
    lag_seconds: float | None        # kafka_consumergroup_max_lag_seconds
    members: int
    state: str                       # Stable, Empty, PreparingRebalance, ...
    rebalances_total: int            # kafka_consumergroup_rebalances_total
    lost_messages_total: int         # kafka_consumergroup_lost_messages_total
    retention_seconds: float | None  # kafka_topic_retention_seconds
    leader_changes_total: int        # sum of the topic's kafka_topic_partition_leader_changes_total
    under_replicated_partitions: int  # of the topic
    offline_partitions: int          # of the topic
    # Optional infrastructure and broker context (NaN-free: None when unknown).
    consumer_cpu_ratio: float | None = None      # 0-1, from node_exporter/cAdvisor when configured
    disk_used_ratio: float | None = None         # max over the brokers leading the topic
    broker_leader_share_ratio: float | None = None  # max broker leadership / fair share


@dataclass(frozen=True, slots=True)
class Evidence:
    metric: str
    value: float
    baseline: float
    threshold: float
    timestamp: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    cause: str                       # one of ROOT_CAUSES
    confidence: float                # 0-1
    severity: str                    # critical | warning | info
    onset: float | None              # unix seconds
    evidence: tuple[Evidence, ...] = ()
    remediation: str = ""
    alternatives: tuple[tuple[str, float], ...] = ()   # (cause, confidence), best first, for top-3


@dataclass(frozen=True, slots=True)
class GroupTopicAnalysis:
    cluster: str
    group: str
    topic: str
    predicted_lag: dict[int, float] = field(default_factory=dict)        # horizon seconds -> forecast
    predicted_lag_upper: dict[int, float] = field(default_factory=dict)  # horizon seconds -> upper bound
    catch_up_seconds: float | None = None
    retention_breach_seconds: float | None = None
    predicted_lag_lower: dict[int, float] = field(default_factory=dict)  # horizon seconds -> lower bound
    lag_growth_rate: float | None = None          # messages/s of a significant upward lag trend, else 0
    lag_seconds_growth_rate: float | None = None  # s/s of a significant rise of the oldest message's age, else 0
    anomaly_scores: dict[str, float] = field(default_factory=dict)       # signal -> 0..1
    diagnosis: Diagnosis | None = None
