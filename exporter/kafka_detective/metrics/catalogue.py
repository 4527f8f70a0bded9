"""The metric catalogue: every series family the exporter exposes, in exposition order.

This module is the single source of truth for names, types, labels and help texts. `docs/metrics.md` is
generated from it, the rule and dashboard generators check every metric they use against it, and an
integration test checks it against a real `/metrics` page.

Names shared with danielqsj/kafka_exporter keep its names and labels (`consumergroup`, `topic`, `partition`)
so existing dashboards keep working; every series also carries `cluster`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter", "info"]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: MetricType
    labels: tuple[str, ...]
    help: str
    concern: str
    kafka_exporter_compatible: bool = False

    @property
    def exposed_name(self) -> str:
        """The sample name as it appears on /metrics (`_total` for counters is part of `name`)."""
        return self.name


C = ("cluster",)
BROKER = ("cluster", "broker_id")
TOPIC = ("cluster", "topic")
PARTITION = ("cluster", "topic", "partition")
GROUP = ("cluster", "consumergroup")
GROUP_TOPIC = ("cluster", "consumergroup", "topic")
GROUP_PARTITION = ("cluster", "consumergroup", "topic", "partition")

CATALOGUE: tuple[MetricSpec, ...] = (
    # --- cluster -------------------------------------------------------------------------------------------
    MetricSpec("kafka_brokers", "gauge", C, "Number of live brokers in the cluster (fenced brokers excluded).",
               "cluster", True),
    # `id` and `address` are kafka_exporter's labels for the same thing: both sets are carried so queries written
    # for either exporter keep working.
    MetricSpec("kafka_broker_info", "gauge", BROKER + ("host", "port", "rack", "id", "address"),
               "Identity of a live (unfenced) broker; always 1. `id` and `address` (host:port) repeat broker_id, "
               "host and port under kafka_exporter's label names.", "cluster", True),
    MetricSpec("kafka_broker_is_controller", "gauge", BROKER,
               "1 if this broker is the active controller reported by the cluster, else 0.", "cluster"),
    MetricSpec("kafka_broker_leader_partitions", "gauge", BROKER,
               "Partitions this broker currently leads.", "cluster"),
    MetricSpec("kafka_broker_preferred_leader_partitions", "gauge", BROKER,
               "Partitions whose preferred (first) replica is this broker; the difference to "
               "kafka_broker_leader_partitions is the preferred-leader imbalance.", "cluster"),
    MetricSpec("kafka_topic_partitions", "gauge", TOPIC, "Number of partitions of the topic.", "cluster", True),
    MetricSpec("kafka_topic_partition_leader", "gauge", PARTITION,
               "Broker id of the partition leader (-1 when the partition has no leader).", "cluster", True),
    MetricSpec("kafka_topic_partition_leader_epoch", "gauge", PARTITION,
               "Leader epoch of the partition.", "cluster"),
    MetricSpec("kafka_topic_partition_replicas", "gauge", PARTITION,
               "Number of replicas of the partition.", "cluster", True),
    MetricSpec("kafka_topic_partition_in_sync_replica", "gauge", PARTITION,
               "Number of in-sync replicas of the partition.", "cluster", True),
    MetricSpec("kafka_topic_partition_offline_replicas", "gauge", PARTITION,
               "Number of offline replicas of the partition.", "cluster"),
    MetricSpec("kafka_topic_partition_leader_is_preferred", "gauge", PARTITION,
               "1 if the leader is the preferred (first) replica, else 0.", "cluster", True),
    MetricSpec("kafka_topic_partition_under_replicated_partition", "gauge", PARTITION,
               "1 if the partition has fewer in-sync replicas than replicas, else 0.", "cluster", True),
    MetricSpec("kafka_topic_partition_offline", "gauge", PARTITION,
               "1 if the partition has no leader, else 0.", "cluster"),
    MetricSpec("kafka_topic_partition_under_min_isr", "gauge", PARTITION,
               "1 if the in-sync replicas are fewer than the topic's min.insync.replicas, else 0.", "cluster"),
    MetricSpec("kafka_topic_partition_leader_changes_total", "counter", PARTITION,
               "Leader changes seen since the exporter started (leader-epoch increase, or leader change "
               "between cycles).", "cluster"),
    # --- offsets -------------------------------------------------------------------------------------------
    MetricSpec("kafka_topic_partition_current_offset", "gauge", PARTITION,
               "Log-end offset of the partition (offset of the next message to be written).", "offsets", True),
    MetricSpec("kafka_topic_partition_oldest_offset", "gauge", PARTITION,
               "Log-start offset of the partition (oldest message still retained).", "offsets", True),
    MetricSpec("kafka_topic_produce_rate_messages_per_second", "gauge", TOPIC,
               "Messages appended per second to the topic over the exporter's recent offset history.",
               "offsets"),
    # --- topic configs and log dirs --------------------------------------------------------------------------
    MetricSpec("kafka_topic_retention_seconds", "gauge", TOPIC,
               "retention.ms of the topic in seconds; absent when retention is unlimited.", "topic_configs"),
    MetricSpec("kafka_topic_retention_bytes", "gauge", TOPIC,
               "retention.bytes of the topic per partition; absent when unlimited.", "topic_configs"),
    MetricSpec("kafka_topic_min_insync_replicas", "gauge", TOPIC,
               "min.insync.replicas of the topic.", "topic_configs"),
    MetricSpec("kafka_topic_info", "gauge", TOPIC + ("cleanup_policy",),
               "Topic settings as labels; always 1.", "topic_configs"),
    MetricSpec("kafka_broker_log_dir_size_bytes", "gauge", BROKER + ("log_dir",),
               "Bytes used by partition replicas in the log directory.", "log_dirs"),
    MetricSpec("kafka_broker_log_dir_total_bytes", "gauge", BROKER + ("log_dir",),
               "Total size of the volume holding the log directory (when the broker reports it).", "log_dirs"),
    MetricSpec("kafka_broker_log_dir_usable_bytes", "gauge", BROKER + ("log_dir",),
               "Usable (free) bytes of the volume holding the log directory (when the broker reports it).",
               "log_dirs"),
    MetricSpec("kafka_broker_log_dir_error", "gauge", BROKER + ("log_dir",),
               "1 if the broker reports an error for the log directory, else 0.", "log_dirs"),
    # --- consumer groups -----------------------------------------------------------------------------------
    MetricSpec("kafka_consumergroup_info", "gauge", GROUP + ("protocol", "assignor", "coordinator_id"),
               "Group identity; always 1. protocol is `classic` or `consumer` (KIP-848).", "groups"),
    MetricSpec("kafka_consumergroup_state", "gauge", GROUP + ("state",),
               "Group state as an enum: 1 for the current state, 0 for the others.", "groups"),
    MetricSpec("kafka_consumergroup_members", "gauge", GROUP, "Members of the group.", "groups", True),
    MetricSpec("kafka_consumergroup_epoch", "gauge", GROUP,
               "Group epoch of a KIP-848 consumer group.", "groups"),
    MetricSpec("kafka_consumergroup_rebalances_total", "counter", GROUP,
               "Rebalances seen since the exporter started (group-epoch increase for KIP-848 groups; state, "
               "membership or assignment change between cycles for classic groups).", "groups"),
    MetricSpec("kafka_consumergroup_current_offset", "gauge", GROUP_PARTITION,
               "Committed offset of the group for the partition.", "groups", True),
    MetricSpec("kafka_consumergroup_current_offset_sum", "gauge", GROUP_TOPIC,
               "Sum of the group's committed offsets over the topic's partitions.", "groups", True),
    MetricSpec("kafka_consumergroup_uncommitted_partitions", "gauge", GROUP_TOPIC,
               "Partitions assigned to the group without a committed offset (they have no lag series).",
               "groups"),
    # --- derived signals -----------------------------------------------------------------------------------
    MetricSpec("kafka_consumergroup_lag", "gauge", GROUP_PARTITION,
               "Messages between the committed offset and the log-end offset; never negative.", "lag", True),
    MetricSpec("kafka_consumergroup_lag_sum", "gauge", GROUP_TOPIC,
               "Sum of the group's lag over the topic's partitions.", "lag", True),
    MetricSpec("kafka_consumergroup_lag_seconds", "gauge", GROUP_PARTITION,
               "Age in seconds of the oldest unconsumed message, interpolated from the partition's "
               "offset history; 0 when caught up.", "lag"),
    MetricSpec("kafka_consumergroup_max_lag_seconds", "gauge", GROUP_TOPIC,
               "Largest lag in seconds over the topic's partitions.", "lag"),
    MetricSpec("kafka_consumergroup_lag_seconds_extrapolated_partitions", "gauge", GROUP_TOPIC,
               "Partitions whose lag in seconds is extrapolated beyond the offset history (a lower-confidence "
               "estimate).", "lag"),
    MetricSpec("kafka_consumergroup_consume_rate_messages_per_second", "gauge", GROUP_TOPIC,
               "Messages committed per second by the group on the topic over the recent history.", "lag"),
    MetricSpec("kafka_consumergroup_lost_messages", "gauge", GROUP_PARTITION,
               "Messages deleted by retention before the group consumed them: log-start offset minus "
               "committed offset, when positive.", "lag"),
    MetricSpec("kafka_consumergroup_lost_messages_total", "counter", GROUP_TOPIC,
               "Messages lost to retention before consumption, counted since the exporter started.", "lag"),
    # --- analytics -----------------------------------------------------------------------------------------
    MetricSpec("kafka_consumergroup_predicted_lag", "gauge", GROUP_TOPIC + ("horizon",),
               "Forecast lag sum at the horizon (5m, 15m, 30m) from modelled produce and consume rates.",
               "analysis"),
    MetricSpec("kafka_consumergroup_predicted_lag_upper", "gauge", GROUP_TOPIC + ("horizon",),
               "Upper bound of the forecast's prediction interval at the horizon.", "analysis"),
    MetricSpec("kafka_consumergroup_predicted_lag_lower", "gauge", GROUP_TOPIC + ("horizon",),
               "Lower bound of the forecast's 90 % prediction interval at the horizon (the upper bound is "
               "kafka_consumergroup_predicted_lag_upper).", "analysis"),
    MetricSpec("kafka_consumergroup_lag_growth_rate", "gauge", GROUP_TOPIC,
               "Growth of the lag in messages/s while it has a significant upward trend (the consumers run at "
               "capacity), else 0: the time to a lag threshold is (threshold - lag) / rate.", "analysis"),
    MetricSpec("kafka_consumergroup_lag_seconds_growth_rate", "gauge", GROUP_TOPIC,
               "Growth of the oldest unconsumed message's age in seconds per second while significant, else 0; "
               "absent without lag seconds.", "analysis"),
    MetricSpec("kafka_consumergroup_catch_up_seconds", "gauge", GROUP_TOPIC,
               "Predicted seconds until the lag reaches zero; absent when the group is not catching up.",
               "analysis"),
    MetricSpec("kafka_consumergroup_retention_breach_seconds", "gauge", GROUP_TOPIC,
               "Predicted seconds until retention deletes the oldest unconsumed message; absent when the "
               "topic has no time-based retention.", "analysis"),
    MetricSpec("kafka_detective_anomaly_score", "gauge", GROUP_TOPIC + ("signal",),
               "Calibrated 0-1 anomaly score of the signal (produce_rate, consume_rate, lag, lag_seconds, "
               "rebalances).", "analysis"),
    MetricSpec("kafka_detective_diagnosis", "gauge", GROUP_TOPIC + ("cause",),
               "Current probable root cause of the group's lag; the value is the confidence (0-1). Present "
               "only while the analysis sees a lag problem.", "analysis"),
    # --- exporter self-metrics -----------------------------------------------------------------------------
    MetricSpec("kafka_detective_build_info", "gauge", ("version", "python_version", "kafka_python_version"),
               "Build information; always 1.", "self"),
    MetricSpec("kafka_detective_cluster_up", "gauge", C,
               "1 if the last collection cycle reached the cluster, else 0.", "self"),
    MetricSpec("kafka_detective_collection_duration_seconds", "gauge", C + ("phase",),
               "Duration of each phase of the last collection cycle.", "self"),
    MetricSpec("kafka_detective_collection_errors_total", "counter", C + ("phase",),
               "Failed collection phases since the exporter started.", "self"),
    MetricSpec("kafka_detective_collection_cycles_total", "counter", C,
               "Completed collection cycles since the exporter started.", "self"),
    MetricSpec("kafka_detective_last_successful_collection_timestamp_seconds", "gauge", C,
               "Unix time at which the last fully successful cycle finished.", "self"),
    MetricSpec("kafka_detective_last_success_timestamp_seconds", "gauge", C + ("phase",),
               "Unix time at which the phase last succeeded in full (cluster, offsets, groups, topic_configs, "
               "log_dirs, signals, analysis). A failed or partial phase (some brokers, leaders or coordinators "
               "did not answer; their previous data is kept) does not advance it. Absent until the first "
               "success.", "self"),
    MetricSpec("kafka_detective_data_age_seconds", "gauge", C + ("phase",),
               "Seconds, at scrape time, since the phase last succeeded in full: how old the data it feeds is. "
               "Grows while the phase keeps failing even though cycles keep running; for cluster, offsets and "
               "groups it counts from the exporter's start until their first success. topic_configs and "
               "log_dirs are refreshed every config_refresh_seconds, so their age rises to that normally.",
               "self"),
    MetricSpec("kafka_detective_snapshot_age_seconds", "gauge", C,
               "Seconds, at scrape time, since the stalest of the cluster, offsets and groups data served last "
               "succeeded in full (the largest of their kafka_detective_data_age_seconds); not the time since "
               "the last cycle ran.", "self"),
    MetricSpec("kafka_detective_metadata_refreshes_total", "counter", C + ("reason",),
               "Client metadata refreshes forced by the exporter instead of waiting for the 5-minute refresh: "
               "reason=brokers when the cluster reports a live broker the client did not know (e.g. after a "
               "full restart), reason=error after a phase failed with an error stale metadata explains.",
               "self"),
    MetricSpec("kafka_detective_kafka_requests_total", "counter", C + ("api",),
               "Kafka requests sent by the exporter, by API.", "self"),
    MetricSpec("kafka_detective_series", "gauge", C,
               "Series rendered for the cluster in the last cycle.", "self"),
)

BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in CATALOGUE}


def sample_names(spec: MetricSpec) -> tuple[str, ...]:
    """Sample names a family may produce on /metrics."""
    return (spec.name,)


def all_sample_names() -> frozenset[str]:
    return frozenset(name for spec in CATALOGUE for name in sample_names(spec))
