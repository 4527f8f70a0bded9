"""Data shapes shared by the exporter's online analysis and the offline CLI.

The exporter builds one `GroupTopicSample` per consumer group and topic each cycle (`signals.samples`, where the
type is defined: analysis consumes what signals produce) and hands them to
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
    "partial_stall",
    "retry_death_spiral",
    "recurring",
    "intermittent",
    "unknown",
)

# What each cause means: the one source for the pattern library's runbooks and dashboards
# (docs/architecture.md's vocabulary table says the same; a test keeps them in step).
CAUSE_MEANING: dict[str, str] = {
    "producer_spike": "produce rate well above its own baseline; consumers are healthy but outpaced",
    "consumer_down": "group Empty (no members) while messages keep arriving",
    "consumer_stalled": "members present, committed offset frozen while lag > 0",
    "rebalance_storm": "repeated rebalances; consumption interrupted",
    "consumer_cpu_saturation": "consume rate dropped and the consumers' CPU is saturated",
    "consumer_slowdown": "consume rate dropped below baseline with no rebalance and no infrastructure cause",
    "leader_election": "partition leadership changed on the group's topic around the onset",
    "broker_failure": "a broker left: offline or under-replicated partitions, elections across many topics",
    "broker_skew": "one broker leads far more partitions than its share",
    "disk_pressure": "log dirs nearly full or predicted full",
    "retention_loss": "committed offset fell below log-start offset: messages deleted before consumption",
    "partial_stall": "a few partitions frozen (named) while the group consumes the others",
    "retry_death_spiral": "failed messages re-produced to the topic: the produce rate rises with the lag",
    "recurring": "the same episode at the same time of day on earlier days (e.g. daily at ~03:00, 6 of 7 nights)",
    "intermittent": "short episodes that come and go over hours (episode count and typical length)",
    "unknown": "no rule explained the evidence",
}

ANOMALY_SIGNALS: tuple[str, ...] = ("produce_rate", "consume_rate", "lag", "lag_seconds", "rebalances")


@dataclass(frozen=True, slots=True)
class Evidence:
    metric: str
    value: float
    baseline: float
    threshold: float
    timestamp: float
    note: str = ""
    supports: tuple[str, ...] = ()   # the causes this finding speaks for (what the case file shows per cause)
    # The causes this finding argues against (a measure that contradicts them, or the absence of what they would
    # show); such a finding supports nothing and is kept apart, in `Diagnosis.counter_evidence`.
    contradicts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Diagnosis:
    cause: str                       # one of ROOT_CAUSES
    confidence: float                # 0-1
    severity: str                    # critical | warning | info
    onset: float | None              # unix seconds
    evidence: tuple[Evidence, ...] = ()
    remediation: str = ""
    alternatives: tuple[tuple[str, float], ...] = ()   # (cause, confidence), best first, for top-3
    counter_evidence: tuple[Evidence, ...] = ()        # what argues against causes (`Evidence.contradicts`)

    def evidence_for(self, cause: str) -> tuple[Evidence, ...]:
        """The findings that speak for `cause` (what the case file and the report list under each ranked cause)."""
        return tuple(e for e in self.evidence if cause in e.supports)

    def evidence_against(self, cause: str) -> tuple[Evidence, ...]:
        """The findings that argue against `cause`."""
        return tuple(e for e in self.counter_evidence if cause in e.contradicts)


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
