"""The exporter's own health per cluster: reachability, phase durations, errors, requests.

Three of these families are filled at scrape time by the HTTP layer (`serving/http.py`), not by `families`:
the build info, and the data and snapshot ages, which must be measured when Prometheus reads them. Their specs
are declared here all the same, among the other self-metrics where the catalogue lists them, so the metrics
package stays the one place that defines what /metrics can show; `SCRAPE_TIME_SPECS` names them.
"""

from __future__ import annotations

from kafka_detective.metrics.family import Family
from kafka_detective.metrics.spec import C, MetricSpec
from kafka_detective.metrics.view import View

# Filled at scrape time (serving/http.py).
BUILD_INFO = MetricSpec(
    "kafka_detective_build_info", "gauge", ("version", "python_version", "kafka_python_version"),
    "Build information; always 1.", "self")
CLUSTER_UP = MetricSpec(
    "kafka_detective_cluster_up", "gauge", C,
    "1 if the last collection cycle reached the cluster, else 0.", "self")
COLLECTION_DURATION = MetricSpec(
    "kafka_detective_collection_duration_seconds", "gauge", C + ("phase",),
    "Duration of each phase of the last collection cycle.", "self")
COLLECTION_ERRORS = MetricSpec(
    "kafka_detective_collection_errors_total", "counter", C + ("phase",),
    "Failed collection phases since the exporter started.", "self")
COLLECTION_CYCLES = MetricSpec(
    "kafka_detective_collection_cycles_total", "counter", C,
    "Completed collection cycles since the exporter started.", "self")
LAST_SUCCESSFUL_COLLECTION = MetricSpec(
    "kafka_detective_last_successful_collection_timestamp_seconds", "gauge", C,
    "Unix time at which the last fully successful cycle finished.", "self")
LAST_SUCCESS = MetricSpec(
    "kafka_detective_last_success_timestamp_seconds", "gauge", C + ("phase",),
    "Unix time at which the phase last succeeded in full (cluster, offsets, groups, topic_configs, "
    "log_dirs, signals, analysis). A failed or partial phase (some brokers, leaders or coordinators "
    "did not answer; their previous data is kept) does not advance it. Absent until the first "
    "success.", "self")
# Filled at scrape time (serving/http.py), from the collectors' last-success times.
DATA_AGE = MetricSpec(
    "kafka_detective_data_age_seconds", "gauge", C + ("phase",),
    "Seconds, at scrape time, since the phase last succeeded in full: how old the data it feeds is. "
    "Grows while the phase keeps failing even though cycles keep running; for cluster, offsets and "
    "groups it counts from the exporter's start until their first success. topic_configs and "
    "log_dirs are refreshed every config_refresh_seconds, so their age rises to that normally.",
    "self")
SNAPSHOT_AGE = MetricSpec(
    "kafka_detective_snapshot_age_seconds", "gauge", C,
    "Seconds, at scrape time, since the stalest of the cluster, offsets and groups data served last "
    "succeeded in full (the largest of their kafka_detective_data_age_seconds); not the time since "
    "the last cycle ran.", "self")
METADATA_REFRESHES = MetricSpec(
    "kafka_detective_metadata_refreshes_total", "counter", C + ("reason",),
    "Client metadata refreshes forced by the exporter instead of waiting for the 5-minute refresh: "
    "reason=brokers when the cluster reports a live broker the client did not know (e.g. after a "
    "full restart), reason=error after a phase failed with an error stale metadata explains.",
    "self")
KAFKA_REQUESTS = MetricSpec(
    "kafka_detective_kafka_requests_total", "counter", C + ("api",),
    "Kafka requests sent by the exporter, by API.", "self")
SERIES = MetricSpec(
    "kafka_detective_series", "gauge", C,
    "Series rendered for the cluster in the last cycle.", "self")

SPECS = (BUILD_INFO, CLUSTER_UP, COLLECTION_DURATION, COLLECTION_ERRORS, COLLECTION_CYCLES,
         LAST_SUCCESSFUL_COLLECTION, LAST_SUCCESS, DATA_AGE, SNAPSHOT_AGE, METADATA_REFRESHES, KAFKA_REQUESTS,
         SERIES)
SCRAPE_TIME_SPECS = (BUILD_INFO, DATA_AGE, SNAPSHOT_AGE)


def families(view: View, series: int) -> list[Family]:
    c, s = view.cluster, view.stats
    up, duration = Family(CLUSTER_UP), Family(COLLECTION_DURATION)
    errors, cycles = Family(COLLECTION_ERRORS), Family(COLLECTION_CYCLES)
    last_success = Family(LAST_SUCCESSFUL_COLLECTION)
    phase_success = Family(LAST_SUCCESS)
    refreshes = Family(METADATA_REFRESHES)
    requests, series_family = Family(KAFKA_REQUESTS), Family(SERIES)
    up.add((c,), 1 if s.up else 0)
    for phase in sorted(s.phase_seconds):
        duration.add((c, phase), s.phase_seconds[phase])
    for phase in sorted(s.phase_errors_total):
        errors.add((c, phase), s.phase_errors_total[phase])
    cycles.add((c,), s.cycles_total)
    if s.last_success_timestamp is not None:
        last_success.add((c,), s.last_success_timestamp)
    for phase in sorted(s.phase_last_success):
        phase_success.add((c, phase), s.phase_last_success[phase])
    for reason in sorted(s.metadata_refreshes_total):
        refreshes.add((c, reason), s.metadata_refreshes_total[reason])
    for api in sorted(s.requests_total):
        requests.add((c, api), s.requests_total[api])
    series_family.add((c,), series)
    return [up, duration, errors, cycles, last_success, phase_success, refreshes, requests, series_family]
