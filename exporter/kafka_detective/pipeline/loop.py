"""The collection thread of one cluster: a cycle every `interval_seconds`, whatever a cycle throws.

Each cluster runs in its own thread with its own collector, so a slow or unreachable cluster never delays
another.
"""

from __future__ import annotations

import logging
import threading
import time

from kafka_detective.pipeline import garbage
from kafka_detective.pipeline.cycle import ClusterCollector

log = logging.getLogger(__name__)


class CollectionLoop(threading.Thread):
    """Background thread running cycles every `interval_seconds`, measured start to start."""

    def __init__(self, collector: ClusterCollector, interval_seconds: float) -> None:
        super().__init__(name=f"collect-{collector.cluster.name}", daemon=True)
        self.collector = collector
        self.interval_seconds = interval_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        self.collector.warm_start(self.interval_seconds)   # in this thread: /metrics is served meanwhile
        while not self._stop_event.is_set():
            started = time.monotonic()
            try:
                self.collector.run_cycle()
            except Exception:  # the loop must survive anything a cycle throws
                log.exception("cluster %s: cycle failed", self.collector.cluster.name)
            garbage.after_cycle()
            elapsed = time.monotonic() - started
            if elapsed > self.interval_seconds:
                log.warning("cluster %s: cycle took %.1fs, longer than the %.0fs interval",
                            self.collector.cluster.name, elapsed, self.interval_seconds)
            self._stop_event.wait(max(0.0, self.interval_seconds - elapsed))
        self.collector.close()

    def stop(self) -> None:
        self._stop_event.set()
