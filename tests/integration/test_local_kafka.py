"""The local Kafka launcher against a real broker: start, groups, KIP-848, broker failure, cleanup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer

from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.errors import MissingToolError
from kafka_detective_tools.sandbox.kafka_distribution import KAFKA_VERSION, ensure_kafka_distribution, find_java
from kafka_detective_tools.sandbox.local_kafka import LocalKafka

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import subscribed_consumer, wait_until

NewTopic = Callable[..., str]


def partition_leaders(bootstrap: str, topic: str, partitions: int, timeout: float = 15.0) -> dict[int, dict[str, Any]]:
    """Partition index -> metadata; retried because a broker may not have seen a just-created topic yet."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-leaders", request_timeout_ms=10000)
    try:

        def complete() -> dict[int, dict[str, Any]] | None:
            (described,) = admin.describe_topics([topic])
            found = {p["partition_index"]: p for p in described.get("partitions") or []}
            return found if len(found) == partitions else None

        return wait_until(complete, timeout, f"metadata of all {partitions} partitions of {topic}", interval=0.2)
    finally:
        admin.close()


def live_brokers(bootstrap: str) -> set[int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-cluster", request_timeout_ms=10000)
    try:
        return {b["broker_id"] for b in admin.describe_cluster()["brokers"] if not b.get("is_fenced")}
    finally:
        admin.close()


def consume(bootstrap: str, topic: str, group: str, count: int, timeout: float = 30.0) -> KafkaConsumer:
    """A classic-protocol kafka-python consumer in ``group`` that has read and committed ``count`` messages."""
    consumer = subscribed_consumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        client_id="tests-consumer",
    )
    seen = 0
    deadline = time.monotonic() + timeout
    while seen < count:
        assert time.monotonic() < deadline, f"consumed {seen} of {count} messages in {timeout}s"
        for records in consumer.poll(timeout_ms=500, max_records=count - seen).values():
            seen += len(records)
    consumer.commit()
    return consumer


def test_missing_java_or_maven_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_java = find_java()  # the integration tests need it anyway; fails with the install hint if absent
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(MissingToolError, match=r"Java 17\+.*apt-get install openjdk-17-jre-headless maven"):
        ensure_kafka_distribution(tmp_path / "cache")
    (bin_dir / "java").symlink_to(real_java)
    with pytest.raises(MissingToolError, match=r"needs Maven.*apt-get install"):
        ensure_kafka_distribution(tmp_path / "cache")


@pytest.mark.kafka
def test_single_broker_starts(kafka: LocalKafka) -> None:
    print(f"\nKafka {KAFKA_VERSION}, 1 broker ready in {kafka.startup_seconds:.1f}s")
    assert kafka.broker_ids == [1]
    host, port = kafka.bootstrap_servers.split(":")
    assert host == "127.0.0.1" and int(port) > 0
    assert live_brokers(kafka.bootstrap_servers) == {1}
    assert kafka.workdir.is_dir()
    assert kafka.broker_log(1).exists() and "Kafka Server started" in kafka.broker_log(1).read_text()


@pytest.mark.kafka
def test_group_offsets_match_kafka_consumer_groups_tool(kafka: LocalKafka, new_topic: NewTopic) -> None:
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("offsets", partitions=3)
    group = f"g-{topic}"
    kafka_tools.produce(bootstrap, topic, 30)  # round-robin: 10 per partition
    consumer = consume(bootstrap, topic, group, 30)
    try:
        kafka_tools.produce(bootstrap, topic, 5, partition=0)
        rows = {r["partition"]: r for r in kafka_tools.describe_group_offsets(bootstrap, group)}
        assert sorted(rows) == [0, 1, 2]
        assert {p: (r["current_offset"], r["log_end_offset"], r["lag"]) for p, r in rows.items()} == {
            0: (10, 15, 5),
            1: (10, 10, 0),
            2: (10, 10, 0),
        }
        assert all(r["group"] == group and r["topic"] == topic for r in rows.values())
        assert {r["client_id"] for r in rows.values()} == {"tests-consumer"}
        assert all(r["consumer_id"] and r["host"] for r in rows.values())
    finally:
        consumer.close()

    # Without members the tool prints the "has no active members" preamble and '-' for the member columns.
    rows = {r["partition"]: r for r in kafka_tools.describe_group_offsets(bootstrap, group)}
    assert rows[0]["lag"] == 5 and rows[0]["consumer_id"] is None and rows[0]["client_id"] is None
    state = kafka_tools.describe_group_state(bootstrap, group)
    assert state["state"] == "Empty" and state["members"] == 0 and state["coordinator_id"] == 1


@pytest.mark.kafka
def test_kip848_console_consumer_joins_group(kafka: LocalKafka, new_topic: NewTopic) -> None:
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("kip848", partitions=2)
    group = f"g848-{topic}"
    kafka_tools.produce(bootstrap, topic, 20)
    proc = kafka_tools.start_console_consumer(bootstrap, topic, group, protocol="consumer")
    try:

        def stable() -> dict[str, Any] | None:
            try:
                state = kafka_tools.describe_group_state(bootstrap, group)
            except kafka_tools.GroupNotFoundError:
                return None
            return state if state["state"] == "Stable" and state["members"] == 1 else None

        state = wait_until(stable, 60, "the KIP-848 console consumer to join")
        # Server-side assignment (KIP-848): the broker's "uniform" assignor, and group epochs.
        assert state["assignment_strategy"] == "uniform"
        assert state["coordinator"] == kafka.bootstrap_servers and state["coordinator_id"] == 1
        assert state["group_epoch"] >= 1
        assert kafka_tools.list_groups(bootstrap)[group]["type"] == "Consumer"
        (member,) = kafka_tools.describe_group_members(bootstrap, group, verbose=True)
        assert member["client_id"] == "console-consumer" and member["partitions"] == 2
        assert member["current_assignment"] == f"{topic}:0,1"
    finally:
        kafka_tools.stop_console_consumer(proc)

    # SIGTERM makes the consumer leave at once, without waiting for its session to expire.
    wait_until(lambda: kafka_tools.describe_group_state(bootstrap, group)["members"] == 0, 30, "the member to leave")
    kafka_tools.delete_group(bootstrap, group)
    with pytest.raises(kafka_tools.GroupNotFoundError):
        kafka_tools.describe_group_state(bootstrap, group)


@pytest.mark.kafka
def test_jvm_does_not_outlive_a_killed_python_process() -> None:
    """SIGKILL of the Python process (no atexit, no finalizer) must still take the broker JVM down."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kafka_detective_tools.sandbox.local_kafka", "--brokers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        bootstrap = workdir = None
        deadline = time.monotonic() + 90
        while (bootstrap is None or workdir is None) and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("bootstrap servers: "):
                bootstrap = line.split(": ", 1)[1].strip()
            elif line.startswith("workdir: "):
                workdir = Path(line.split()[1])
        assert bootstrap and workdir, "the CLI did not print its bootstrap servers"
        pgrep = subprocess.run(["pgrep", "-f", f"kafka.logs.dir={workdir}"], capture_output=True, text=True)
        jvm_pids = [int(pid) for pid in pgrep.stdout.split()]
        assert jvm_pids, "no broker JVM found"
        assert live_brokers(bootstrap) == {1}
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def all_gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() for pid in jvm_pids) and not workdir.exists()

    wait_until(all_gone, 30, "the reaper to kill the JVM and delete the temporary workdir")


@pytest.mark.kafka
@pytest.mark.cluster3
def test_cluster3_survives_a_killed_broker_and_it_rejoins(kafka_cluster3: LocalKafka, new_topic: NewTopic) -> None:
    cluster = kafka_cluster3
    print(f"\nKafka {KAFKA_VERSION}, 3 brokers ready in {cluster.startup_seconds:.1f}s")
    assert cluster.broker_ids == [1, 2, 3]
    assert len(cluster.bootstrap_servers.split(",")) == 3
    topic = new_topic("failover", partitions=6, rf=3, cluster=cluster)
    before = partition_leaders(cluster.bootstrap_servers, topic, 6)
    victim = before[0]["leader_id"]
    led_by_victim = {p for p, info in before.items() if info["leader_id"] == victim}
    survivors = [b for b in cluster.broker_ids if b != victim]
    survivors_bootstrap = ",".join(cluster.bootstrap_for(b) for b in survivors)

    started = time.monotonic()
    cluster.kill_broker(victim)
    cluster.wait_ready(timeout=60)  # returns once the controller has fenced the dead broker
    print(f"broker {victim} killed; fenced after {time.monotonic() - started:.1f}s")
    assert live_brokers(survivors_bootstrap) == set(survivors)

    def moved() -> dict[int, dict[str, Any]] | None:
        leaders = partition_leaders(survivors_bootstrap, topic, 6)
        return leaders if all(leaders[p]["leader_id"] in survivors for p in led_by_victim) else None

    after = wait_until(moved, 30, f"partitions {sorted(led_by_victim)} to move away from broker {victim}")
    assert all(victim not in info["isr_nodes"] for info in after.values())
    # The two remaining voters keep the quorum: the cluster still accepts writes.
    kafka_tools.produce(survivors_bootstrap, topic, 12)

    started = time.monotonic()
    cluster.start_broker(victim)
    print(f"broker {victim} restarted and registered in {time.monotonic() - started:.1f}s")
    assert live_brokers(cluster.bootstrap_servers) == {1, 2, 3}
    wait_until(
        lambda: all(victim in p["isr_nodes"] for p in partition_leaders(cluster.bootstrap_servers, topic, 6).values()),
        60,
        f"broker {victim} to rejoin every ISR",
    )


@pytest.mark.kafka
@pytest.mark.cluster3
def test_cluster3_controlled_shutdown_moves_leaders(kafka_cluster3: LocalKafka, new_topic: NewTopic) -> None:
    cluster = kafka_cluster3
    topic = new_topic("shutdown", partitions=6, rf=3, cluster=cluster)
    before = partition_leaders(cluster.bootstrap_servers, topic, 6)
    victim = before[1]["leader_id"]
    survivors = [b for b in cluster.broker_ids if b != victim]
    survivors_bootstrap = ",".join(cluster.bootstrap_for(b) for b in survivors)

    started = time.monotonic()
    cluster.stop_broker(victim)
    print(f"\nbroker {victim} stopped (SIGTERM) in {time.monotonic() - started:.1f}s")
    assert victim not in cluster.live_broker_ids
    # Controlled shutdown hands leadership over before the broker exits: no session timeout to wait for.
    after = partition_leaders(survivors_bootstrap, topic, 6)
    assert all(info["leader_id"] in survivors for info in after.values()), after
    cluster.wait_ready(timeout=30)
    assert live_brokers(survivors_bootstrap) == set(survivors)
