"""Bytes used, total and usable per broker log directory."""

from __future__ import annotations

from kafka_detective.metrics.exposition import Family, family
from kafka_detective.metrics.view import View


def families(view: View) -> list[Family]:
    log_dirs = view.snapshot.log_dirs
    if log_dirs is None:
        return []
    c = view.cluster
    size, total = family("kafka_broker_log_dir_size_bytes"), family("kafka_broker_log_dir_total_bytes")
    usable, error = family("kafka_broker_log_dir_usable_bytes"), family("kafka_broker_log_dir_error")
    for d in log_dirs.dirs:
        labels = (c, str(d.broker_id), d.path)
        size.add(labels, d.size_bytes)
        if d.total_bytes is not None:
            total.add(labels, d.total_bytes)
        if d.usable_bytes is not None:
            usable.add(labels, d.usable_bytes)
        error.add(labels, 1 if d.error else 0)
    return [size, total, usable, error]
