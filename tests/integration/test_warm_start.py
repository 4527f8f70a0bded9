"""Warm start against a real Prometheus scraping a real exporter on the local Kafka.

An exporter collects every second while messages arrive and a group falls behind; a local Prometheus scrapes it.
Then that exporter stops and a new one starts with `analysis.warm_start_url`: on its very first cycle it already
has the earlier points in its analytics history and produce/consume rates with their anomaly scores, which a cold
exporter cannot have before its second cycle. A `serve` process does the same on its own and, given a Prometheus that is
not there, logs one warning and collects as usual.

With KAFKA_DETECTIVE_RECORD_WARM_START=<file> the module also writes the query_range answers it got to that file:
that is how tests/unit/analysis/data/warm_start_query_range.json was recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from kafka import KafkaAdminClient, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from kafka_detective.analysis.warm_start import choose_step, fetch_query_range, warm_start
from kafka_detective.errors import UserError
from kafka_detective.exporter import Exporter
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective.prometheus_api import Prometheus as PrometheusReader
from kafka_detective_tools.sandbox.local_kafka import LocalKafka
from kafka_detective_tools.sandbox.stack import (
    COMPRESSED_ANALYTICS,
    PrometheusServer,
    free_port,
    sandbox_exporter_config,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import pick, series, wait_until

pytestmark = pytest.mark.kafka

GROUP = "it-warm"
POINTS = 12          # earlier cycles Prometheus must hold before the restart


def _commit(bootstrap: str, topic: str, offset: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-warm-start")
    try:
        def attempt() -> bool:
            errors = admin.alter_group_offsets(GROUP, {TopicPartition(topic, 0): OffsetAndMetadata(offset, "", -1)})
            return all(e.errno == 0 for e in errors.values())
        wait_until(attempt, 60, "an admin commit", 0.3)
    finally:
        admin.close()


@dataclass
class Scraped:
    cluster: str
    topic: str
    prometheus: PrometheusServer
    config: Any             # the exporter's Config (sandbox settings, 1 s interval)
    first_t: float          # the earliest lag point Prometheus holds for the group


@pytest.fixture(scope="module")
def scraped(kafka: LocalKafka, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    """Prometheus holding POINTS+ cycles of an exporter that has stopped since; messages keep arriving."""
    bootstrap = kafka.bootstrap_servers
    cluster = f"warm-{uuid.uuid4().hex[:6]}"
    topic = f"warm-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-warm-start")
    try:
        admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}}, wait_for_metadata=True)
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            producer.send(topic, b"m")
            stop.wait(0.05)

    producer.send(topic, b"m").get(timeout=60)
    _commit(bootstrap, topic, 1)
    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    config = sandbox_exporter_config(bootstrap, cluster=cluster)
    exporter = Exporter(config)
    prometheus = None
    try:
        exporter.start()
        prometheus = PrometheusServer(tmp_path_factory.mktemp("prom"), targets=[f"127.0.0.1:{exporter.port}"],
                                rule_files=[], alertmanager_url=None, interval="1s").start()
        selector = f'{{cluster="{cluster}",consumergroup="{GROUP}"}}'
        wait_until(lambda: (prometheus.value(f"count_over_time(kafka_consumergroup_lag_sum{selector}[5m])") or 0)
                   >= POINTS, 90, f"{POINTS} lag points in Prometheus", 0.3)
        exporter.stop()
        (raw,) = prometheus.api("query", query=f"kafka_consumergroup_lag_sum{selector}[10m]")["result"]
        first_t = min(float(t) for t, _ in raw["values"])
        yield Scraped(cluster, topic, prometheus, config, first_t)
    finally:
        stop.set()
        thread.join(10)
        producer.close()
        exporter.stop()
        if prometheus is not None:
            prometheus.stop()


def _collector(scraped: Scraped) -> ClusterCollector:
    return ClusterCollector(scraped.config.clusters[0], Exposition(), 10.0, scraped.config.analysis)


def _scores(collector: ClusterCollector) -> set[str]:
    found = pick(series(collector), "kafka_detective_anomaly_score", consumergroup=GROUP)
    return {dict(k)["signal"] for k in found}


def test_a_warm_exporter_has_the_history_on_its_first_cycle(scraped: Scraped) -> None:
    cold = _collector(scraped)
    cold.run_cycle()
    assert "produce_rate" not in _scores(cold), "a cold exporter has no rate before its second cycle"
    assert len(cold._analytics.history(scraped.cluster, GROUP, scraped.topic)) == 1
    cold.close()

    warm = _collector(scraped)
    fed = warm_start(warm._analytics, scraped.prometheus.url, scraped.cluster, lookback=600, interval=1.0)
    assert fed >= POINTS
    history = warm._analytics.history(scraped.cluster, GROUP, scraped.topic)
    assert history and history[0].timestamp <= scraped.first_t + 1.0, (history[:1], scraped.first_t)
    assert all(s.lag > 0 and s.log_end_offset > s.committed_offset == 1 for s in history)
    warm.run_cycle()
    after = warm._analytics.history(scraped.cluster, GROUP, scraped.topic)
    assert after[0].timestamp == history[0].timestamp, "the live cycle adds to the replayed history"
    assert {"produce_rate", "consume_rate", "lag"} <= _scores(warm)
    warm.close()

    recording = os.environ.get("KAFKA_DETECTIVE_RECORD_WARM_START")
    if recording:
        results, step = fetch_query_range(scraped.prometheus.url, scraped.cluster, 600, 1.0)
        Path(recording).write_text(json.dumps({"cluster": scraped.cluster, "topic": scraped.topic,
                                               "group": GROUP, "step": step, "results": results}, indent=1))


def test_the_step_of_a_long_lookback_is_one_prometheus_accepts(scraped: Scraped) -> None:
    """choose_step's points limit, checked against Prometheus itself rather than against the constant."""
    lookback, end = 30 * 86400.0, time.time()
    step = choose_step(lookback, 1.0, subjects=1)
    reader = PrometheusReader(scraped.prometheus.url)
    assert reader.query_range("vector(1)", end - lookback, end, step), "accepted at the chosen step"
    with pytest.raises(UserError, match="maximum resolution of 11,000 points"):
        reader.query_range("vector(1)", end - lookback, end, step * 0.99)


def _serve(tmp_path: Path, scraped: Scraped, warm_start_url: str) -> tuple[subprocess.Popen[bytes], Path, int]:
    port = free_port()
    config = {
        "listen_address": "127.0.0.1", "listen_port": port, "interval_seconds": 1,
        "analysis": {**COMPRESSED_ANALYTICS, "warm_start_url": warm_start_url, "warm_start_lookback_seconds": 600},
        "clusters": [{"name": scraped.cluster,
                      "bootstrap_servers": list(scraped.config.clusters[0].bootstrap_servers)}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kafka_detective", "serve", "--config", str(path)],
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, log, port


def _lag_on_metrics(port: int, cluster: str) -> bool:
    try:
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except requests.RequestException:
        return False
    return any(line.startswith("kafka_consumergroup_lag_sum{") and f'cluster="{cluster}"' in line
               and f'consumergroup="{GROUP}"' in line for line in body.splitlines())


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("reachable", [True, False], ids=["prometheus", "nothing-listening"])
def test_serve_warm_starts_or_starts_cold_with_one_warning(scraped: Scraped, tmp_path: Path, reachable: bool
                                                           ) -> None:
    url = scraped.prometheus.url if reachable else f"http://user:secret@127.0.0.1:{free_port()}"
    proc, log, port = _serve(tmp_path, scraped, url)
    try:
        wait_until(lambda: _lag_on_metrics(port, scraped.cluster) or proc.poll() is not None, 90,
                   "the group's lag on /metrics", 0.3)
        assert proc.poll() is None, log.read_text()
        text = log.read_text()
        warm = [line for line in text.splitlines() if "warm start" in line]
        assert len(warm) == 1, text
        if reachable:
            assert "WARNING" not in warm[0] and "group/topic" in warm[0], warm[0]
            assert int(warm[0].split(" samples")[0].rsplit(" ", 1)[1]) >= POINTS, warm[0]
        else:
            assert "starting cold" in warm[0] and "secret" not in text, text
    finally:
        _stop(proc)

