"""The collection cycle of one cluster: phases, failure handling, publication of the rendered snapshot.

The cycle sits above the layers it drives: it asks `gathering` for a snapshot, hands that to `signals` and
`analysis`, and publishes what `metrics` renders of it. Each cluster has its own collector and admin client
(run by its own thread, `pipeline.loop`), so a slow or unreachable cluster never delays another. A failing
phase keeps the previous cycle's data for that phase (stale but honest: its age is visible
through `kafka_detective_last_success_timestamp_seconds{phase}` and the scrape-time
`kafka_detective_data_age_seconds{phase}`) and counts an error; when the cluster cannot be reached at all,
`kafka_detective_cluster_up` turns 0 while the last snapshot stays on `/metrics`, and the next cycle
reconnects by itself.

Recovery does not wait for kafka-python's 5-minute metadata refresh (`kafka.metadata`): after each cycle's
DescribeCluster the client's cached metadata is refreshed if it lacks a live broker, and a phase that fails
with an error stale metadata explains (unknown broker id, not leader, not coordinator, node not ready) refreshes
it and, when that error cost no timeout, runs again in the same cycle.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, cast

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.analysis.warm_start import warm_start
from kafka_detective.config import AnalysisConfig, ClusterConfig
from kafka_detective.gathering.cluster import collect_cluster
from kafka_detective.gathering.groups import collect_groups
from kafka_detective.gathering.log_dirs import collect_log_dirs
from kafka_detective.gathering.offsets import collect_offsets
from kafka_detective.gathering.sharding import UNSHARDED, Shard, merge, restrict
from kafka_detective.gathering.snapshot import PartialResult, Snapshot
from kafka_detective.gathering.topic_configs import collect_topic_configs
from kafka_detective.kafka import metadata
from kafka_detective.kafka.client import RequestCounter, connect
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.metrics.render import cluster_families
from kafka_detective.metrics.view import CollectionStats, View
from kafka_detective.signals.derive import Derived, SignalState
from kafka_detective.signals.samples import group_topic_samples

log = logging.getLogger(__name__)
T = TypeVar("T")

PHASES = ("connect", "cluster", "offsets", "groups", "topic_configs", "log_dirs", "signals", "analysis", "render")
# Phases that produce data, with a last-success time and a data age. `connect` and `render` produce none.
DATA_PHASES = ("cluster", "offsets", "groups", "topic_configs", "log_dirs", "signals", "analysis")
# The data every cycle must refresh; their age is reported even before their first success (age since start).
CORE_PHASES = ("cluster", "offsets", "groups")


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
        shard: Shard = UNSHARDED,
    ) -> None:
        self.cluster = cluster
        self.shard = shard   # the groups and topics this process collects (gathering/sharding.py)
        self.exposition = exposition
        self.config_refresh_seconds = config_refresh_seconds
        self.requests = RequestCounter()
        self._connector = connector
        self._admin: Any = None
        self._signals = SignalState(cluster.lag_table_size)
        self._analytics = self._make_analytics(analysis)
        self._analysis_settings = analysis
        self._snapshot = Snapshot(cluster.name, time.time())
        self._derived = Derived()
        self._analysis: list[GroupTopicAnalysis] = []
        self._phase_seconds: dict[str, float] = {}
        self._render_seconds: float | None = None
        self._errors = dict.fromkeys(PHASES, 0)
        self._cycles = 0
        self._last_success: float | None = None
        self._started = time.time()
        # Replaced whole, never mutated: the HTTP threads read it at scrape time without a lock.
        self._phase_success: dict[str, float] = {}
        self._metadata_refreshes: dict[str, int] = {}
        self._live_brokers: frozenset[int] = frozenset()
        self._reconnect = False
        self._configs_due = 0.0
        self.completed = threading.Event()   # set after the first cycle, successful or not
        self.last_error: str | None = None

    @staticmethod
    def _make_analytics(settings: AnalysisConfig | None) -> OnlineAnalytics | None:
        if settings is None or not settings.enabled:
            return None
        return OnlineAnalytics(**settings.online_settings())

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def derived(self) -> Derived:
        return self._derived

    @property
    def analysis(self) -> list[GroupTopicAnalysis]:
        """The latest cycle's `GroupTopicAnalysis` list (replaced whole each cycle: safe to read from any thread)."""
        return self._analysis

    @property
    def analytics(self) -> OnlineAnalytics | None:
        """The `OnlineAnalytics` engine, or None when analysis is off; readers use its read-only accessors."""
        return self._analytics

    def _phase(self, name: str, work: Callable[[], T], failed: set[str], admin: Any = None) -> T | None:
        """Run one phase; with `admin`, an error that stale metadata explains refreshes it (and may retry)."""
        started = time.perf_counter()
        try:
            try:
                result = work()
            except Exception as error:
                # After a refresh that failed this cycle the client is replaced next cycle: another refresh would
                # only wait for the same silent brokers again.
                if admin is None or self._reconnect or not metadata.stale_metadata(error):
                    raise
                if not self._refresh_metadata(admin, "error") or not metadata.retry_now(error):
                    raise
                log.info("cluster %s: phase %s failed (%s); metadata refreshed, trying again",
                         self.cluster.name, name, _describe(error))
                result = work()
            if name in DATA_PHASES:
                self._phase_success = {**self._phase_success, name: time.time()}
            return result
        except Exception as error:  # one failing phase must not take the others down
            self._errors[name] += 1
            failed.add(name)
            self.last_error = f"{name}: {_describe(error)}"
            log.warning("cluster %s: phase %s failed: %s", self.cluster.name, name, _describe(error))
            # A partial result is still used: fresh where it could be, the previous data elsewhere. The phase's work
            # raised it with a value of its own result type (an exception cannot carry T to this handler).
            return cast(T, error.value) if isinstance(error, PartialResult) else None
        finally:
            # Added up: a sharded cycle may run the offsets phase a second time (gathering/sharding.py).
            self._phase_seconds[name] = self._phase_seconds.get(name, 0.0) + time.perf_counter() - started

    def _refresh_metadata(self, admin: Any, reason: str) -> bool:
        self._metadata_refreshes = {**self._metadata_refreshes,
                                    reason: self._metadata_refreshes.get(reason, 0) + 1}
        try:
            metadata.refresh(admin)
            return True
        except Exception as error:  # no broker answered: start over with a new client next cycle
            log.warning("cluster %s: metadata refresh failed, reconnecting next cycle: %s",
                        self.cluster.name, _describe(error))
            self._reconnect = True
            return False

    def _sync_metadata(self, admin: Any, live: frozenset[int]) -> None:
        """Have the client know every broker DescribeCluster reports live before anything is sent to them."""
        back = live - self._live_brokers
        self._live_brokers = live
        try:
            if metadata.sync(admin, live, back):
                self._metadata_refreshes = {**self._metadata_refreshes,
                                            "brokers": self._metadata_refreshes.get("brokers", 0) + 1}
                log.info("cluster %s: client metadata lacked live broker(s); refreshed", self.cluster.name)
        except Exception as error:  # the phases will fail on their own and say why; reconnect next cycle
            log.warning("cluster %s: metadata refresh failed, reconnecting next cycle: %s",
                        self.cluster.name, _describe(error))
            self._reconnect = True

    def data_ages(self, now: float | None = None) -> dict[str, float]:
        """Seconds since each data phase last succeeded; the core phases count from start until they do.

        This is the honest staleness: a cycle that runs but fails a phase does not make that phase's data newer.
        """
        now = time.time() if now is None else now
        successes = self._phase_success
        ages = {phase: max(0.0, now - successes[phase]) for phase in DATA_PHASES if phase in successes}
        for phase in CORE_PHASES:
            ages.setdefault(phase, max(0.0, now - self._started))
        return ages

    def snapshot_age(self, now: float | None = None) -> float:
        """Age of the stalest of the cluster, offsets and groups data served."""
        ages = self.data_ages(now)
        return max(ages[phase] for phase in CORE_PHASES)

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
        self._reconnect = False
        snapshot = replace(previous, timestamp=time.time())
        if admin is not None:
            state = self._phase("cluster", lambda: collect_cluster(admin, cluster.topics), failed)
            if state is not None:
                snapshot = replace(snapshot, state=state)
                live = [b.broker_id for b in state.brokers]
                self._sync_metadata(admin, frozenset(live))
                wanted = self.shard.offset_topics(state, previous.groups)
                offsets = self._phase("offsets", lambda: collect_offsets(admin, restrict(state, wanted),
                                                                         previous.offsets), failed, admin)
                if offsets is not None:
                    snapshot = replace(snapshot, offsets=offsets)
                groups = self._phase("groups", lambda: collect_groups(admin, self.shard.groups(cluster.groups),
                                                                      cluster.topics, previous.groups, live),
                                     failed, admin)
                if groups is not None:
                    snapshot = replace(snapshot, groups=groups)
                missing = self.shard.missing_offset_topics(state, snapshot.groups, wanted)
                if missing and snapshot.offsets is not None:
                    fetched = snapshot.offsets
                    more = self._phase("offsets", lambda: collect_offsets(admin, restrict(state, missing)), failed,
                                       admin)
                    if more is not None:
                        snapshot = replace(snapshot, offsets=merge(fetched, more))
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
        if not reached or self._reconnect:
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
    def _analyse(analytics: OnlineAnalytics, snapshot: Snapshot, derived: Derived) -> list[GroupTopicAnalysis]:
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
            phase_last_success=dict(self._phase_success),
            metadata_refreshes_total=dict(self._metadata_refreshes),
        )
        view = View(self.cluster.name, self._snapshot, self._derived, stats, self._analysis, self.shard)
        try:
            self.exposition.publish(self.cluster.name, cluster_families(view, self.cluster.metrics))
        except Exception as error:  # a rendering bug must not stop collection; keep serving the last page
            self._errors["render"] += 1
            failed.add("render")
            log.exception("cluster %s: rendering failed: %s", self.cluster.name, error)
        self._render_seconds = time.perf_counter() - started

    def warm_start(self, interval_seconds: float) -> None:
        """Refill the analytics from Prometheus (`analysis.warm_start_url`); best effort, time-bounded."""
        settings = self._analysis_settings
        if self._analytics is not None and settings is not None and settings.warm_start_url:
            warm_start(self._analytics, settings.warm_start_url, self.cluster.name,
                       settings.warm_start_lookback_seconds or settings.history_seconds, interval_seconds,
                       owns=self.shard.owns)

    def close(self) -> None:
        self._drop_admin()
