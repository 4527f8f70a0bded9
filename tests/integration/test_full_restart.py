"""Full restarts of the 3-broker cluster: the exporter must not go blind afterwards, nor pretend to be fresh.

Five times in a row all three brokers are killed and started again while the exporter runs (1 s interval).
A background thread scrapes /metrics throughout. The checks, for every restart:

- during the outage the group's lag series stay on /metrics (never vanish) and the staleness gauge
  (`kafka_detective_snapshot_age_seconds`) grows with the outage instead of resetting on every failed cycle;
- once the cluster answers again (every broker unfenced and Kafka's own consumer-groups tool describing the
  group), the exporter's per-partition lag equals the tool's within 2 collection cycles. Between the restart and
  that comparison new messages are produced and new offsets committed, so only fresh data can match.

Before the fix, a reconnect that bootstrapped from the first broker back kept that broker alone in the client's
metadata: ListGroups and ListOffsets to the other two failed with UnknownBrokerIdError for the 5 minutes of
kafka-python's metadata refresh, while the first cycle saw one broker, no groups, and dropped every group series.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from kafka import KafkaAdminClient
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.config import parse_config
from kafka_detective.exporter import Exporter
from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.local_kafka import LocalKafka

pytestmark = [pytest.mark.kafka, pytest.mark.cluster3]

PARTITIONS = 6
RESTARTS = 5
GROUP = "restart-lagging"
T = TypeVar("T")


def wait_until(check: Callable[[], T | None], timeout: float, what: str, pause: float = 0.3) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(pause)


@dataclass
class Scrape:
    at: float
    cycles: float | None
    up: float | None
    age: float | None
    lag: dict[int, float]


@dataclass
class Scraper:
    """Scrapes /metrics every few hundred milliseconds and keeps what the checks need."""

    port: int
    topic: str
    scrapes: list[Scrape] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def scrape(self) -> Scrape:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as response:
            text = response.read().decode()
        values: dict[str, float] = {}
        lag: dict[int, float] = {}
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                if s.labels.get("cluster") != "it":
                    continue
                if s.name == "kafka_consumergroup_lag" and s.labels.get("consumergroup") == GROUP \
                        and s.labels.get("topic") == self.topic:
                    lag[int(s.labels["partition"])] = s.value
                elif s.name in ("kafka_detective_collection_cycles_total", "kafka_detective_cluster_up",
                                "kafka_detective_snapshot_age_seconds"):
                    values[s.name] = s.value
        return Scrape(time.monotonic(), values.get("kafka_detective_collection_cycles_total"),
                      values.get("kafka_detective_cluster_up"), values.get("kafka_detective_snapshot_age_seconds"),
                      lag)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scrapes.append(self.scrape())
            except Exception as error:  # a scrape that fails is itself a finding; record it, keep going
                self.errors.append(repr(error))
            self._stop.wait(0.3)

    def stop(self) -> None:
        self._stop.set()

    def latest(self) -> Scrape:
        return self.scrapes[-1] if self.scrapes else self.scrape()

    def since(self, started: float) -> list[Scrape]:
        return [s for s in self.scrapes if s.at >= started]


def retry(action: Callable[[], T], timeout: float, what: str) -> T:
    """Right after a restart the coordinators load __consumer_offsets and leaders are being elected."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except Exception as error:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} still failing after {timeout:.0f}s: {error!r}") from error
            time.sleep(0.5)


def commit(bootstrap: str, topic: str, offsets: dict[int, int]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="it-restart-commit", request_timeout_ms=10000)
    try:
        result = admin.alter_group_offsets(
            GROUP, {TopicPartition(topic, p): OffsetAndMetadata(o, "", None) for p, o in offsets.items()})
        failed = {tp: e for tp, e in result.items() if e.__name__ != "NoError"}
        assert not failed, failed
    finally:
        admin.close()


def tool_lag(bootstrap: str, topic: str) -> dict[int, int] | None:
    rows = kafka_tools.describe_group_offsets(bootstrap, GROUP, timeout=60)
    lag = {int(r["partition"]): r["lag"] for r in rows if r["topic"] == topic}
    return lag if len(lag) == PARTITIONS and all(v is not None for v in lag.values()) else None


def totals_of(port: int) -> dict[str, float]:
    """Forced metadata refreshes and phase errors, for the figures in docs/reliability.md."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "kafka_detective_metadata_refreshes_total":
                totals[f"refreshes[{s.labels['reason']}]"] = s.value
            elif s.name == "kafka_detective_collection_errors_total" and s.value:
                totals[f"errors[{s.labels['phase']}]"] = s.value
    return totals


def preferred_leaders_back(bootstrap: str, timeout: float = 90.0) -> None:
    """After a full restart the first broker back leads nearly everything, __consumer_offsets included, until the
    controller's 5-minute imbalance check; later tests of the session expect groups spread over coordinators."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="it-restart-rebalance", request_timeout_ms=10000)
    try:
        def balanced() -> bool:
            try:
                admin.elect_leaders(0, None, raise_errors=False)  # 0: preferred; needs the replicas back in sync
                return all(p["leader_id"] == p["replica_nodes"][0]
                           for t in admin.describe_topics() for p in t["partitions"] if p["replica_nodes"])
            except Exception:  # leaders still moving: try again
                return False
        wait_until(balanced, timeout, "the preferred leaders back after the restarts", pause=1.0)
    finally:
        admin.close()


@pytest.fixture
def exporter(kafka_cluster3: LocalKafka) -> Iterator[Exporter]:
    config = parse_config({"listen_address": "127.0.0.1", "listen_port": 0, "interval_seconds": 1,
                           "analysis": {"enabled": False},
                           "clusters": [{"name": "it", "request_timeout_seconds": 3,
                                         "bootstrap_servers": kafka_cluster3.bootstrap_servers.split(",")}]})
    with Exporter(config) as running:
        yield running
    kafka_cluster3.restart_stopped()
    preferred_leaders_back(kafka_cluster3.bootstrap_servers)


def test_five_full_restarts_leave_no_blind_spot(kafka_cluster3: LocalKafka, new_topic: Any,
                                                 exporter: Exporter) -> None:
    cluster = kafka_cluster3
    bootstrap = cluster.bootstrap_servers
    topic = new_topic("restart", partitions=PARTITIONS, rf=3, cluster=cluster)
    kafka_tools.produce(bootstrap, topic, PARTITIONS * 20)
    retry(lambda: commit(bootstrap, topic, dict.fromkeys(range(PARTITIONS), 3)), 60, "the first commit")

    scraper = Scraper(exporter.port, topic)
    thread = threading.Thread(target=scraper.run, name="it-scraper", daemon=True)
    thread.start()
    measured: list[dict[str, float]] = []
    try:
        wait_until(lambda: len(scraper.latest().lag) == PARTITIONS, 60, "the group's lag series")
        for restart in range(1, RESTARTS + 1):
            for broker_id in cluster.broker_ids:
                cluster.kill_broker(broker_id)
            killed = time.monotonic()
            wait_until(lambda: scraper.latest().up == 0, 60, f"restart {restart}: cluster_up 0")
            outage_age = wait_until(lambda: (a := scraper.latest().age) is not None and a >= 8 and a, 60,
                                    f"restart {restart}: the staleness gauge growing during the outage")
            for broker_id in cluster.broker_ids:
                cluster.start_broker(broker_id, wait=False)
            cluster.wait_ready(120)
            restarted = time.monotonic()
            # New data after the restart: only a collector that recovered can report the lag below.
            retry(lambda: kafka_tools.produce(bootstrap, topic, PARTITIONS * 2), 90, "producing after the restart")
            committed = {p: 3 + restart + p for p in range(PARTITIONS)}
            retry(lambda c=committed: commit(bootstrap, topic, c), 90, "committing after the restart")
            answering = time.monotonic()
            cycles_at_answer = scraper.latest().cycles or 0.0
            expected = wait_until(lambda: tool_lag(bootstrap, topic), 90, f"restart {restart}: Kafka's tool")
            want = {p: float(v) for p, v in expected.items()}
            wait_until(lambda w=want: scraper.latest().lag == w, 120,
                       f"restart {restart}: the exporter's lag to equal {expected}")
            # The first scrape that matched, not the one that saw it: the tool's JVM takes seconds to answer.
            matched = next(s for s in scraper.since(answering) if s.lag == want)
            cycles = (matched.cycles or 0.0) - cycles_at_answer
            # The cycle in flight when the data changed may have started earlier; two more must be enough.
            assert cycles <= 3, f"restart {restart}: {cycles:.0f} cycles until the lag matched Kafka's tool"
            during = scraper.since(killed)
            vanished = [s for s in during if s.at <= matched.at and len(s.lag) != PARTITIONS]
            assert not vanished, f"restart {restart}: group series vanished in {len(vanished)} scrapes"
            measured.append({"restart": restart, "outage_age": outage_age,
                             "restart_to_match": matched.at - restarted, "answer_to_match": matched.at - answering,
                             "cycles": cycles})
        totals = totals_of(exporter.port)
        print("after {} restarts: {}".format(RESTARTS, ", ".join(f"{k} {v:.0f}" for k, v in sorted(totals.items()))))
    finally:
        scraper.stop()
        thread.join(timeout=15)
        for row in measured:
            print("restart {restart:.0f}: staleness {outage_age:.1f}s during the outage; lag equal to Kafka's tool "
                  "{restart_to_match:.1f}s after all brokers were back, {answer_to_match:.1f}s / {cycles:.0f} "
                  "cycles after the tool answered".format(**row))
    assert not scraper.errors, scraper.errors[:5]
