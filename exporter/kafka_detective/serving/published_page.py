"""The page the collector process publishes for the scrape front: one file, replaced whole after each cycle.

The file is a JSON header line, then the static part of /metrics compressed (gzip): what Prometheus asks for, and
a small part of the text (a 26 MB page is 1 MB), so the file stays small in a container's /dev/shm and costs the
collection thread little to write. The front decompresses it for the rare scraper that does not take gzip, once
per page. The header carries what the front needs for the scrape-time lines: the ages of each cluster's data when it was
written (the front adds the time since) and the collector process's Python runtime metrics (its garbage
collections; the front reads its process metrics from /proc itself).

Written to a temporary name and renamed over the page, so a reader opens either the old page or the new one,
never half of one; the reader maps the file and serves slices of it, and re-maps only when the file changed.
"""

from __future__ import annotations

import json
import mmap
import os
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, CollectorRegistry, generate_latest

from kafka_detective.serving.http import ClusterAges, MetricsApp


def python_runtime_registry() -> CollectorRegistry:
    """The Python runtime metrics of this process (garbage collections, python_info), not its process_* ones."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GC_COLLECTOR)
    registry.register(PLATFORM_COLLECTOR)
    return registry


class PagePublisher:
    """Writes the page file whenever a cluster publishes (an `Exposition` listener, in the collection thread)."""

    def __init__(self, path: Path, app: MetricsApp, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.app = app
        self.clock = clock
        self._lock = threading.Lock()   # one writer at a time: clusters publish from their own threads
        self._published: set[str] = set()
        self._runtime = python_runtime_registry()

    def __call__(self, cluster: str) -> None:
        with self._lock:
            # A cluster's first cycle ends right after its first publish: its ages are served from that page on.
            self._published.add(cluster)
            self.write()

    def write(self) -> None:
        gzipped = self.app.exposition.page()[1]
        now = self.clock()
        header = {
            "written_at": now,
            "gzip_bytes": len(gzipped),
            "ages": self.app.cluster_ages(now, also=self._published),
            "runtime": generate_latest(self._runtime).decode("utf-8"),
        }
        temporary = self.path.with_name(self.path.name + ".new")
        with temporary.open("wb") as out:
            out.write(json.dumps(header).encode("utf-8") + b"\n")
            out.write(gzipped)
        os.replace(temporary, self.path)


@dataclass(frozen=True)
class Page:
    gzip: memoryview
    written_at: float
    ages: Sequence[ClusterAges]
    runtime: bytes

    @cached_property
    def plain(self) -> bytes:
        return zlib.decompress(self.gzip, 16 + zlib.MAX_WBITS)

    def ages_at(self, now: float) -> list[ClusterAges]:
        since = max(0.0, now - self.written_at)
        return [(cluster, snapshot + since, {phase: age + since for phase, age in data.items()})
                for cluster, snapshot, data in self.ages]


def read_page(path: Path) -> Page:
    with path.open("rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    end = mapped.find(b"\n")
    header = json.loads(mapped[:end])
    view = memoryview(mapped)   # a slice of it keeps the mapping alive while a scrape still writes it
    return Page(gzip=view[end + 1:end + 1 + header["gzip_bytes"]],
                written_at=header["written_at"],
                ages=[(cluster, snapshot, dict(data)) for cluster, snapshot, data in header["ages"]],
                runtime=header["runtime"].encode("utf-8"))


class PublishedPage:
    """The latest page file, re-read when it changed (one stat per scrape)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._current: tuple[tuple[int, int, int], Page] | None = None

    def current(self) -> Page:
        status = os.stat(self.path)
        key = (status.st_ino, status.st_mtime_ns, status.st_size)
        current = self._current
        if current is not None and current[0] == key:
            return current[1]
        with self._lock:
            current = self._current
            if current is None or current[0] != key:
                # The file opened may already be newer than the stat: the next scrape's stat then reads it again.
                current = (key, read_page(self.path))
                self._current = current
            return current[1]
