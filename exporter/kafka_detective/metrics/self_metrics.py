"""The exporter's own health per cluster: reachability, phase durations, errors, requests."""

from __future__ import annotations

from kafka_detective.metrics.exposition import Family, family
from kafka_detective.metrics.view import View


def families(view: View, series: int) -> list[Family]:
    c, s = view.cluster, view.stats
    up, duration = family("kafka_detective_cluster_up"), family("kafka_detective_collection_duration_seconds")
    errors, cycles = family("kafka_detective_collection_errors_total"), family(
        "kafka_detective_collection_cycles_total")
    last_success = family("kafka_detective_last_successful_collection_timestamp_seconds")
    phase_success = family("kafka_detective_last_success_timestamp_seconds")
    refreshes = family("kafka_detective_metadata_refreshes_total")
    requests, series_family = family("kafka_detective_kafka_requests_total"), family("kafka_detective_series")
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
