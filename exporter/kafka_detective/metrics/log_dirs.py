"""Bytes used, total and usable per broker log directory."""

from __future__ import annotations

from kafka_detective.metrics.family import Family
from kafka_detective.metrics.spec import BROKER, MetricSpec
from kafka_detective.metrics.view import View

SIZE = MetricSpec(
    "kafka_broker_log_dir_size_bytes", "gauge", BROKER + ("log_dir",),
    "Bytes used by partition replicas in the log directory.", "log_dirs")
TOTAL = MetricSpec(
    "kafka_broker_log_dir_total_bytes", "gauge", BROKER + ("log_dir",),
    "Total size of the volume holding the log directory (when the broker reports it).", "log_dirs")
USABLE = MetricSpec(
    "kafka_broker_log_dir_usable_bytes", "gauge", BROKER + ("log_dir",),
    "Usable (free) bytes of the volume holding the log directory (when the broker reports it).",
    "log_dirs")
ERROR = MetricSpec(
    "kafka_broker_log_dir_error", "gauge", BROKER + ("log_dir",),
    "1 if the broker reports an error for the log directory, else 0.", "log_dirs")

SPECS = (SIZE, TOTAL, USABLE, ERROR)


def families(view: View) -> list[Family]:
    log_dirs = view.snapshot.log_dirs
    if log_dirs is None:
        return []
    c = view.cluster
    size, total = Family(SIZE), Family(TOTAL)
    usable, error = Family(USABLE), Family(ERROR)
    for d in log_dirs.dirs:
        labels = (c, str(d.broker_id), d.path)
        size.add(labels, d.size_bytes)
        if d.total_bytes is not None:
            total.add(labels, d.total_bytes)
        if d.usable_bytes is not None:
            usable.add(labels, d.usable_bytes)
        error.add(labels, 1 if d.error else 0)
    return [size, total, usable, error]
