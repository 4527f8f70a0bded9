"""Real local Kafka for integration tests.

``kafka`` (1 broker) and ``kafka_cluster3`` (3 combined broker+controller nodes) are session-scoped and only
started when a test first asks for them, then stopped at the end of the session. A test may stop or kill brokers
and leave them down: every test that uses a cluster starts with all of its brokers running again.

Nothing here skips: without Java 17+ or Maven the fixtures error with a message saying what to install.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient

from kafka_detective_tools.sandbox.local_kafka import LocalKafka

NewTopic = Callable[..., str]


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalKafka]:
    with LocalKafka(brokers=1) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def kafka_cluster3() -> Iterator[LocalKafka]:
    with LocalKafka(brokers=3) as cluster:
        yield cluster


@pytest.fixture(autouse=True)
def _whole_clusters(request: pytest.FixtureRequest) -> None:
    """Restart brokers an earlier test stopped or killed, before the next test that uses the cluster.

    Done at setup rather than in the failing test's teardown, so Ctrl-C never waits for a broker to restart.
    """
    for name in ("kafka", "kafka_cluster3"):
        if name in request.fixturenames:
            cluster: LocalKafka = request.getfixturevalue(name)
            cluster.restart_stopped()


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for_leaders(admin: KafkaAdminClient, topic: str, partitions: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        (described,) = admin.describe_topics([topic])
        parts = described.get("partitions") or []
        if described.get("error_code") == 0 and len(parts) == partitions and all(p["leader_id"] >= 0 for p in parts):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {topic} has no leader for every partition after {timeout}s: {described}")
        time.sleep(0.2)


@pytest.fixture
def new_topic(request: pytest.FixtureRequest) -> Iterator[NewTopic]:
    """Factory ``new_topic(name="topic", partitions=1, rf=1, cluster=None, configs=None) -> str``.

    Creates a uniquely named topic (``<name>-<random>``) on ``cluster`` (default: the 1-broker ``kafka``
    fixture, started only if needed), waits until every partition has a leader, and deletes it afterwards.
    """
    created: list[tuple[LocalKafka, str]] = []

    def factory(
        name: str = "topic",
        partitions: int = 1,
        rf: int = 1,
        cluster: LocalKafka | None = None,
        configs: dict[str, Any] | None = None,
    ) -> str:
        target: LocalKafka = cluster if cluster is not None else request.getfixturevalue("kafka")
        topic = unique_name(name)
        admin = KafkaAdminClient(bootstrap_servers=target.bootstrap_servers, client_id="tests-new-topic")
        try:
            spec: dict[str, Any] = {"num_partitions": partitions, "replication_factor": rf}
            if configs:
                spec["configs"] = {k: str(v) for k, v in configs.items()}
            admin.create_topics({topic: spec})
            wait_for_leaders(admin, topic, partitions)
        finally:
            admin.close()
        created.append((target, topic))
        return topic

    yield factory

    for target, topic in created:
        # Best effort: a test may leave a broker down; the cluster is discarded at session end anyway.
        with contextlib.suppress(Exception):
            admin = KafkaAdminClient(bootstrap_servers=target.bootstrap_servers, request_timeout_ms=10000)
            try:
                admin.delete_topics([topic])
            finally:
                admin.close()
