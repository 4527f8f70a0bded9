"""The exporter: one collection loop per cluster, and the HTTP endpoint served by a scrape front process.

With `scrape_front=False` the endpoint is served by threads of this process instead (the benchmarks compare the
two; tests that need no second process use it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from kafka_detective.config import Config
from kafka_detective.gathering.sharding import Shard
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline import garbage
from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective.pipeline.loop import CollectionLoop
from kafka_detective.serving.http import MetricsApp, MetricsServer
from kafka_detective.serving.scrape_front import ScrapeFront

log = logging.getLogger(__name__)


class Exporter:
    def __init__(self, config: Config, scrape_front: bool = True, on_exit: Callable[[], None] = lambda: None) -> None:
        """`on_exit` is called when the scrape front exits on its own (`front_exit_code` then says how)."""
        self.config = config
        self.exposition = Exposition()
        shard = Shard(config.sharding.shard, config.sharding.total_shards)
        self.collectors = [
            ClusterCollector(cluster, self.exposition, config.config_refresh_seconds, config.analysis, shard=shard)
            for cluster in config.clusters
        ]
        self.loops = [CollectionLoop(c, config.interval_seconds) for c in self.collectors]
        self.app = MetricsApp(self.exposition, self.collectors, alive=self.alive, ui_enabled=config.ui.enabled,
                              ui_library_dir=config.ui.library_dir, shard=shard)
        self.server: MetricsServer | ScrapeFront
        if scrape_front:
            self.server = ScrapeFront(self.app, config.listen_address, config.listen_port,
                                      web_config_file=config.web_config_file, on_exit=on_exit)
        else:
            self.server = MetricsServer(self.app, config.listen_address, config.listen_port,
                                        web_config_file=config.web_config_file)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def front_exit_code(self) -> int | None:
        return self.server.exit_code if isinstance(self.server, ScrapeFront) else None

    def alive(self) -> bool:
        return all(loop.is_alive() for loop in self.loops)

    def start(self) -> None:
        # The collection threads are CPU-bound for part of every cycle (deriving and rendering ~250k series at
        # scale); with Python's default 5 ms GIL switch interval a scrape arriving then waits several slices per
        # socket write. 1 ms keeps the scrape p99 low for a negligible cost in cycle time (docs/benchmarks.md).
        sys.setswitchinterval(0.001)
        garbage.install()   # full garbage collections between cycles, not inside them (pipeline/garbage.py)
        self.server.start()
        for loop in self.loops:
            loop.start()
        names = ", ".join(c.name for c in self.config.clusters)
        log.info("serving /metrics on %s:%d for cluster(s) %s", self.config.listen_address, self.port, names)

    def stop(self) -> None:
        for loop in self.loops:
            loop.stop()
        for loop in self.loops:
            loop.join(timeout=30)
        self.server.stop()

    def __enter__(self) -> Exporter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
