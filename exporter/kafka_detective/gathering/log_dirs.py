"""Log-dirs phase: bytes used per broker log directory, and the volume's total/usable bytes (KIP-827).

One DescribeLogDirs request per broker, refreshed with the topic configs. Brokers older than KIP-827 report
-1 for the volume sizes; those series are then left out instead of exposing a fake value.
"""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient

from kafka_detective.gathering.snapshot import LogDir, LogDirs


def _known(value: int | None) -> int | None:
    return value if value is not None and value >= 0 else None


def collect_log_dirs(admin: KafkaAdminClient) -> LogDirs:
    dirs = []
    for broker in admin.describe_log_dirs():
        for entry in broker["log_dirs"]:
            size = sum(p["partition_size"] for t in entry.get("topics", ()) for p in t["partitions"])
            dirs.append(
                LogDir(
                    broker_id=broker["broker"],
                    path=entry["log_dir"],
                    size_bytes=size,
                    total_bytes=_known(entry.get("total_bytes")),
                    usable_bytes=_known(entry.get("usable_bytes")),
                    error=entry.get("error_code", 0) != 0,
                )
            )
    dirs.sort(key=lambda d: (d.broker_id, d.path))
    return LogDirs(tuple(dirs), time.time())
