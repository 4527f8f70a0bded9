"""The exporter process: one collection loop per cluster plus the HTTP server."""

from __future__ import annotations

import logging
import sys

from kafka_detective.config import Config
from kafka_detective.gathering.sharding import Shard
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline import garbage
from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective.pipeline.loop import CollectionLoop
from kafka_detective.serving.http import MetricsApp, MetricsServer

log = logging.getLogger(__name__)


class Exporter:
    def __init__(self, config: Config) -> None:
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
        self.server = MetricsServer(self.app, config.listen_address, config.listen_port,
                                    web_config_file=config.web_config_file)

    @property
    def port(self) -> int:
        return self.server.port

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
