"""Three sharded exporter processes against one broker expose, together, exactly what one unsharded exporter does.

30 consumer groups with committed offsets on 10 topics (each group reads two topics, most of them owned by another
shard than the group). Four `kafka-detective serve` processes watch the cluster: shards 0, 1 and 2 of 3, and one
unsharded. Once each has run enough cycles on the data (waited for through its own cycle counter), their
`/metrics` pages are parsed and compared series by series: the shards' pages are disjoint, every shard holds some
of the groups, and their union is the unsharded page, with the same values for offsets and lag. The exporter's
own health (`kafka_detective_*` of metrics/self_metrics.py) is every process's own and is left out, apart from
checking that each shard labels it with its shard.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from kafka import KafkaProducer
from kafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.gathering.sharding import shard_of
from kafka_detective.metrics import self_metrics
from kafka_detective_tools.sandbox.local_kafka import LocalKafka
from kafka_detective_tools.sandbox.stack import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import wait_until
from test_exporter import commit

pytestmark = pytest.mark.kafka

SHARDS = 3
TOPICS = 10
GROUPS = 30
PARTITIONS = 3
# Enough cycles for every series that needs a history (rates, lag seconds, forecasts) to be there on every process.
CYCLES = 8
HEALTH = frozenset(spec.name for spec in self_metrics.SPECS)
# Families whose values must agree too: read from Kafka and unchanged while the data stands still. The others
# (rates, lag seconds, forecasts, anomaly scores) depend on when each process sampled; their series must match.
SAME_VALUES = ("kafka_brokers", "kafka_topic_partitions", "kafka_topic_partition_current_offset",
               "kafka_topic_partition_oldest_offset", "kafka_topic_partition_leader", "kafka_topic_partition_replicas",
               "kafka_consumergroup_current_offset", "kafka_consumergroup_current_offset_sum",
               "kafka_consumergroup_lag", "kafka_consumergroup_lag_sum", "kafka_consumergroup_members")

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _serve(tmp_path: Path, name: str, config: dict[str, object], *flags: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**config, "listen_address": "127.0.0.1", "listen_port": port}))
    with open(tmp_path / f"{name}.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "kafka_detective", "serve", "--config", str(path), *flags],
                                   stdout=log, stderr=subprocess.STDOUT)
    return process, port


def _page(port: int) -> tuple[Series, Series]:
    """(Kafka series, the process's own health series: kafka_detective_* health, process_*, python_*)."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    kafka: Series = {}
    health: Series = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            own = family.name in HEALTH or s.name in HEALTH or not family.name.startswith("kafka_")
            (health if own else kafka)[
                (s.name, tuple(sorted(s.labels.items())))] = s.value
    return kafka, health


def _cycles(port: int) -> float:
    try:
        _, health = _page(port)
    except requests.RequestException:
        return 0
    return sum(v for (name, _), v in health.items() if name == "kafka_detective_collection_cycles_total")


@pytest.fixture
def processes(kafka: LocalKafka, new_topic, tmp_path: Path) -> Iterator[dict[str, int]]:
    prefix = f"shard-{uuid.uuid4().hex[:8]}"
    topics = [new_topic(f"{prefix}-t{i:02d}", partitions=PARTITIONS) for i in range(TOPICS)]
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    try:
        for t, topic in enumerate(topics):
            for partition in range(PARTITIONS):
                for _ in range(5 + 3 * t + partition):
                    producer.send(topic, b"x", partition=partition)
        producer.flush(60)
    finally:
        producer.close()
    for g in range(GROUPS):
        reads = (topics[g % TOPICS], topics[(3 * g + 1) % TOPICS])
        commit(kafka.bootstrap_servers, f"{prefix}-g{g:02d}",
               {TopicPartition(topic, p): 1 + (g + p) % 4 for topic in reads for p in range(PARTITIONS)})

    config = {"interval_seconds": 1,
              "clusters": [{"name": "sharded", "bootstrap_servers": kafka.bootstrap_servers.split(","),
                            "groups": {"include": [f"{prefix}-.*"]}, "topics": {"include": [f"{prefix}-.*"]}}]}
    started = {"all": _serve(tmp_path, "all", config)}
    for shard in range(SHARDS):
        started[str(shard)] = _serve(tmp_path, str(shard), config, "--shard", str(shard),
                                     "--total-shards", str(SHARDS))
    try:
        for name, (process, port) in started.items():
            def ready(process: subprocess.Popen[bytes] = process, port: int = port) -> bool:
                return process.poll() is not None or _cycles(port) >= CYCLES

            wait_until(ready, 180, f"{CYCLES} cycles of exporter {name}", 0.5)
            assert process.poll() is None, (tmp_path / f"{name}.log").read_text()
        yield {name: port for name, (_, port) in started.items()}
    finally:
        for process, _ in started.values():
            process.terminate()
        for process, _ in started.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def test_three_shards_together_expose_what_one_exporter_does(processes: dict[str, int]) -> None:
    pages = {name: _page(port) for name, port in processes.items()}
    expected = pages["all"][0]
    shards = [pages[str(shard)][0] for shard in range(SHARDS)]

    groups = {dict(labels)["consumergroup"] for name, labels in expected if name == "kafka_consumergroup_lag_sum"}
    assert len(groups) == GROUPS, sorted(groups)
    for shard, page in enumerate(shards):
        mine = {dict(labels)["consumergroup"] for name, labels in page if name == "kafka_consumergroup_lag_sum"}
        assert mine, f"shard {shard} holds no group"
        assert mine == {g for g in groups if shard_of(g, SHARDS) == shard}
        assert any(name == "kafka_brokers" for name, _ in page) == (shard == 0)
    for a in range(SHARDS):
        for b in range(a + 1, SHARDS):
            duplicates = shards[a].keys() & shards[b].keys()
            assert not duplicates, f"shards {a} and {b} both expose {sorted(duplicates)[:5]}"

    union = {key: value for page in shards for key, value in page.items()}
    assert sorted(union.keys() - expected.keys())[:10] == [], "only on the shards"
    assert sorted(expected.keys() - union.keys())[:10] == [], "missing from every shard"
    compared = {key: value for key, value in expected.items() if key[0] in SAME_VALUES}
    assert {key: union[key] for key in compared} == compared
    assert {name for name, _ in compared} == set(SAME_VALUES)

    for shard in range(SHARDS):
        health = pages[str(shard)][1]
        assert health and all(dict(labels).get("shard") == str(shard) for name, labels in health
                              if name in HEALTH and "cluster" in dict(labels)), shard
    assert all("shard" not in dict(labels) for _, labels in pages["all"][1])
