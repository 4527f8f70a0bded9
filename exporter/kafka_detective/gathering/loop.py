"""The collection loop of one cluster: phases, failure handling, publication of the rendered snapshot.

Each cluster runs in its own thread with its own admin client, so a slow or unreachable cluster never delays
another. A failing phase keeps the previous cycle's data for that phase (stale but honest: its age is visible
through the phase timestamps and `kafka_detective_last_successful_collection_timestamp_seconds`) and counts
an error; when the cluster cannot be reached at all, `kafka_detective_cluster_up` turns 0 while the last
snapshot stays on `/metrics`, and the loop reconnects by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from kafka_detective.config import AnalysisConfig, ClusterConfig
from kafka_detective.gathering.cluster import collect_cluster
from kafka_detective.gathering.groups import collect_groups
from kafka_detective.gathering.log_dirs import collect_log_dirs
from kafka_detective.gathering.offsets import collect_offsets
from kafka_detective.gathering.snapshot import PartialResult, Snapshot
from kafka_detective.gathering.topic_configs import collect_topic_configs
from kafka_detective.kafka.client import RequestCounter, connect
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.metrics.render import cluster_families
from kafka_detective.metrics.view import CollectionStats, View
from kafka_detective.signals.derive import Derived, SignalState
from kafka_detective.signals.samples import group_topic_samples

log = logging.getLogger(__name__)
T = TypeVar("T")

PHASES = ("connect", "cluster", "offsets", "groups", "topic_configs", "log_dirs", "signals", "analysis", "render")


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 300 else text[:300] + "..."


class ClusterCollector:
    """Runs cycles for one cluster; `run_cycle` is also what tests and benchmarks call directly."""

    def __init__(
        self,
        cluster: ClusterConfig,
        exposition: Exposition,
        config_refresh_seconds: float = 300.0,
        analysis: AnalysisConfig | None = None,
        connector: Callable[[ClusterConfig, RequestCounter], Any] = connect,
    ) -> None:
        self.cluster = cluster
        self.exposition = exposition
        self.config_refresh_seconds = config_refresh_seconds
        self.requests = RequestCounter()
        self._connector = connector
        self._admin: Any = None
        self._signals = SignalState(cluster.lag_table_size)
        self._analytics = self._make_analytics(analysis)
        self._snapshot = Snapshot(cluster.name, time.time())
        self._derived = Derived()
        self._analysis: list[Any] = []
        self._phase_seconds: dict[str, float] = {}
        self._render_seconds: float | None = None
        self._errors = dict.fromkeys(PHASES, 0)
        self._cycles = 0
        self._last_success: float | None = None
        self._configs_due = 0.0
        self.completed = threading.Event()   # set after the first cycle, successful or not
        self.last_error: str | None = None

    @staticmethod
    def _make_analytics(settings: AnalysisConfig | None) -> Any:
        if settings is None or not settings.enabled:
            return None
        try:
            from kafka_detective.analysis.online import OnlineAnalytics
        except ImportError:
            log.warning("online analytics unavailable; forecasts and diagnoses are not exported")
            return None
        return OnlineAnalytics(**settings.online_settings())

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def derived(self) -> Derived:
        return self._derived

    def _phase(self, name: str, work: Callable[[], T], failed: set[str]) -> T | None:
        started = time.perf_counter()
        try:
            return work()
        except Exception as error:  # one failing phase must not take the others down
            self._errors[name] += 1
            failed.add(name)
            self.last_error = f"{name}: {_describe(error)}"
            log.warning("cluster %s: phase %s failed: %s", self.cluster.name, name, _describe(error))
            # A partial result is still used: fresh where it could be, the previous data elsewhere.
            return error.value if isinstance(error, PartialResult) else None  # type: ignore[return-value]
        finally:
            self._phase_seconds[name] = time.perf_counter() - started

    def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except Exception:  # closing a broken connection may fail too; nothing left to do
                log.debug("closing admin client failed", exc_info=True)

    def run_cycle(self) -> Snapshot:
        failed: set[str] = set()
        previous = self._snapshot
        cluster = self.cluster
        self._phase_seconds = {}
        if self._admin is None:
            self._admin = self._phase("connect", lambda: self._connector(cluster, self.requests), failed)
        admin = self._admin
        snapshot = replace(previous, timestamp=time.time())
        if admin is not None:
            state = self._phase("cluster", lambda: collect_cluster(admin, cluster.topics), failed)
            if state is not None:
                snapshot = replace(snapshot, state=state)
                offsets = self._phase("offsets", lambda: collect_offsets(admin, state, previous.offsets), failed)
                if offsets is not None:
                    snapshot = replace(snapshot, offsets=offsets)
                live = [b.broker_id for b in state.brokers]
                groups = self._phase("groups", lambda: collect_groups(admin, cluster.groups, cluster.topics,
                                                                      previous.groups, live), failed)
                if groups is not None:
                    snapshot = replace(snapshot, groups=groups)
                known = snapshot.topic_configs.topics.keys() if snapshot.topic_configs else set()
                if time.monotonic() >= self._configs_due or state.topics() - known:
                    configs = self._phase("topic_configs", lambda: collect_topic_configs(admin, state.topics()),
                                          failed)
                    dirs = self._phase("log_dirs", lambda: collect_log_dirs(admin), failed)
                    if configs is not None:
                        snapshot = replace(snapshot, topic_configs=configs)
                    if dirs is not None:
                        snapshot = replace(snapshot, log_dirs=dirs)
                    if configs is not None and dirs is not None:
                        self._configs_due = time.monotonic() + self.config_refresh_seconds
        reached = admin is not None and "cluster" not in failed
        if not reached:
            self._drop_admin()  # reconnect from scratch next cycle: broker addresses may have changed
        snapshot = replace(snapshot, failed_phases=frozenset(failed))
        if reached:
            derived = self._phase("signals", lambda: self._signals.derive(snapshot), failed)
            if derived is not None:
                self._derived = derived
            if self._analytics is not None and derived is not None:
                analytics = self._analytics
                result = self._phase("analysis", lambda: self._analyse(analytics, snapshot, derived), failed)
                if result is not None:
                    self._analysis = result
        self._snapshot = snapshot
        self._cycles += 1
        if not failed:
            self._last_success = time.time()
        self._publish(up=reached, failed=failed)
        self.completed.set()
        return snapshot

    @staticmethod
    def _analyse(analytics: Any, snapshot: Snapshot, derived: Derived) -> list[Any]:
        samples = group_topic_samples(snapshot, derived)
        analytics.observe(samples)
        # A deleted group or topic must leave /metrics in the same cycle, forecasts included.
        live = {(s.cluster, s.group, s.topic) for s in samples}
        analytics.forget([key for key in analytics.subjects() if tuple(key) not in live])
        return list(analytics.results())

    def _publish(self, up: bool, failed: set[str]) -> None:
        started = time.perf_counter()
        phase_seconds = dict(self._phase_seconds)
        if self._render_seconds is not None:
            phase_seconds["render"] = self._render_seconds  # rendering of the previous cycle: this one is running
        stats = CollectionStats(
            up=up,
            phase_seconds=phase_seconds,
            phase_errors_total=dict(self._errors),
            cycles_total=self._cycles,
            last_success_timestamp=self._last_success,
            requests_total=self.requests.snapshot(),
        )
        view = View(self.cluster.name, self._snapshot, self._derived, stats, self._analysis)
        try:
            self.exposition.publish(self.cluster.name, cluster_families(view))
        except Exception as error:  # a rendering bug must not stop collection; keep serving the last page
            self._errors["render"] += 1
            failed.add("render")
            log.exception("cluster %s: rendering failed: %s", self.cluster.name, error)
        self._render_seconds = time.perf_counter() - started

    def close(self) -> None:
        self._drop_admin()


class CollectionLoop(threading.Thread):
    """Background thread running cycles every `interval_seconds`, measured start to start."""

    def __init__(self, collector: ClusterCollector, interval_seconds: float) -> None:
        super().__init__(name=f"collect-{collector.cluster.name}", daemon=True)
        self.collector = collector
        self.interval_seconds = interval_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            started = time.monotonic()
            try:
                self.collector.run_cycle()
            except Exception:  # the loop must survive anything a cycle throws
                log.exception("cluster %s: cycle failed", self.collector.cluster.name)
            elapsed = time.monotonic() - started
            if elapsed > self.interval_seconds:
                log.warning("cluster %s: cycle took %.1fs, longer than the %.0fs interval",
                            self.collector.cluster.name, elapsed, self.interval_seconds)
            self._stop_event.wait(max(0.0, self.interval_seconds - elapsed))
        self.collector.close()

    def stop(self) -> None:
        self._stop_event.set()
