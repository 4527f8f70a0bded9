"""The consumer-group client layer against a real Kafka 4.x broker (session fixture ``kafka``, one broker).

A classic group (kafka-python consumers) and a KIP-848 group (librdkafka consumers with
``group.protocol=consumer``) go through their life: active and Stable with all partitions assigned and known
offsets committed, then Empty with the offsets kept, then deleted and gone. Admin-only groups and the request
counts are checked too. Every test uses its own topic and group names, so the shared broker needs no cleanup.
"""

from __future__ import annotations

import collections
import logging
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import confluent_kafka
import kafka.errors as Errors
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from kafka_detective.kafka import groups as G

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import subscribed_consumer

pytestmark = pytest.mark.kafka

PARTITIONS = 6
MESSAGES_PER_PARTITION = 20


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0, poll: Callable[[], None] | None = None
              ) -> Any:
    """Call ``check`` until it returns something truthy; ``poll`` keeps the consumers' group sessions alive."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if poll is not None:
            poll()
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="module")
def admin(kafka: Any) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, client_id="test-groups")
    yield client
    client.close()


@pytest.fixture
def topic(kafka: Any, admin: KafkaAdminClient) -> Iterator[str]:
    name = _name("groups")
    admin.create_topics([NewTopic(name, PARTITIONS, 1)])
    # The producer waits for the topic's metadata itself; a kafka-python consumer does not: see
    # integration_support.wait_for_consumer_metadata, which every classic member below goes through.
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    for p in range(PARTITIONS):
        for _ in range(MESSAGES_PER_PARTITION):
            producer.send(name, b"x", partition=p)
    producer.flush()
    producer.close()
    yield name
    admin.delete_topics([name])


def _expected_offsets(topic: str) -> dict[tuple[str, int], int]:
    # Distinct per partition so a mix-up between partitions cannot pass.
    return {(topic, p): p + 3 for p in range(PARTITIONS)}


class _ClassicMembers:
    """Two kafka-python consumers (classic protocol) in one group, each polled by its own thread.

    Polling two kafka-python consumers alternately from one thread sometimes leaves both stuck rebalancing
    until the rebalance timeout: each poll blocks on the join the other one is needed for. Applications run
    one consumer per thread, so the test does too; work on a consumer (commit, close) runs on its thread.
    They start at the log end: with records arriving during the rebalance, a kafka-python 3.0.12 member
    sometimes kept an empty assignment() for good while the broker had it Stable with partitions assigned.
    The test commits explicit offsets, so it needs no records.
    """

    protocol = "classic"

    def __init__(self, bootstrap: str, group: str, topic: str):
        self._stop = threading.Event()
        self._tasks: list[queue.Queue[Callable[[KafkaConsumer], None]]] = [queue.Queue() for _ in range(2)]
        self._assignments: list[set[tuple[str, int]]] = [set(), set()]
        self._threads = [threading.Thread(target=self._run, args=(i, bootstrap, group, topic), daemon=True)
                         for i in range(2)]
        for thread in self._threads:
            thread.start()

    def _run(self, i: int, bootstrap: str, group: str, topic: str) -> None:
        consumer = subscribed_consumer(topic, PARTITIONS, bootstrap_servers=bootstrap, group_id=group,
                                       client_id=f"classic-{i}", enable_auto_commit=False, auto_offset_reset="latest")
        try:
            while not self._stop.is_set():
                while not self._tasks[i].empty():
                    self._tasks[i].get()(consumer)
                consumer.poll(timeout_ms=100)
                self._assignments[i] = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        finally:
            consumer.close()

    def poll(self) -> None:
        """The threads poll; nothing to do from the test's thread."""

    def assignments(self) -> list[set[tuple[str, int]]]:
        return [set(a) for a in self._assignments]

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        done = [threading.Event() for _ in range(2)]
        errors: list[BaseException] = []

        def commit_own(i: int) -> Callable[[KafkaConsumer], None]:
            def task(consumer: KafkaConsumer) -> None:
                try:
                    consumer.commit({TopicPartition(t, p): OffsetAndMetadata(offsets[(t, p)], "", -1)
                                     for t, p in ((tp.topic, tp.partition) for tp in consumer.assignment())})
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    done[i].set()
            return task

        for i in range(2):
            self._tasks[i].put(commit_own(i))
        for event in done:
            assert event.wait(30), "commit did not run"
        if errors:
            raise errors[0]

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


class _ConsumerProtocolMembers:
    """Two librdkafka consumers speaking the KIP-848 ``consumer`` protocol in one group."""

    protocol = "consumer"

    def __init__(self, bootstrap: str, group: str, topic: str):
        self._tp = confluent_kafka.TopicPartition
        self.consumers = []
        for i in range(2):
            c = confluent_kafka.Consumer({
                "bootstrap.servers": bootstrap, "group.id": group, "group.protocol": "consumer",
                "client.id": f"kip848-{i}", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
            c.subscribe([topic])
            self.consumers.append(c)

    def poll(self) -> None:
        for c in self.consumers:
            c.poll(0.1)

    def assignments(self) -> list[set[tuple[str, int]]]:
        return [{(tp.topic, tp.partition) for tp in c.assignment()} for c in self.consumers]

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        for c, owned in zip(self.consumers, self.assignments(), strict=True):
            c.commit(offsets=[self._tp(t, p, offsets[(t, p)]) for t, p in owned], asynchronous=False)

    def close(self) -> None:
        for c in self.consumers:
            c.close()


def _covering_split(members: Any, topic: str) -> bool:
    """Both members own partitions, disjointly, and together all of them."""
    a, b = members.assignments()
    return bool(a) and bool(b) and not (a & b) and (a | b) == {(topic, p) for p in range(PARTITIONS)}


@pytest.mark.parametrize("members_cls", [_ClassicMembers, _ConsumerProtocolMembers], ids=["classic", "consumer"])
def test_group_lifecycle_active_empty_deleted(kafka: Any, admin: KafkaAdminClient, topic: str,
                                              members_cls: type) -> None:
    group = _name(f"lifecycle-{members_cls.protocol}")
    members = members_cls(kafka.bootstrap_servers, group, topic)
    closed = False
    try:
        _wait_for("both members to own a split of all partitions", lambda: _covering_split(members, topic),
                  poll=members.poll)
        expected = _expected_offsets(topic)
        members.commit(expected)

        listed = _wait_for("the group in list_groups", lambda: G.list_groups(admin).get(group), poll=members.poll)
        assert listed[1] == members_cls.protocol

        def stable() -> G.GroupDescription | None:
            d = G.describe_groups(admin, {group: G.list_groups(admin)[group]}).get(group)
            return d if d is not None and d.state == "Stable" and len(d.members) == 2 else None

        desc = _wait_for("the group to be Stable with 2 members", stable, poll=members.poll)
        assert desc.protocol == members_cls.protocol
        assert desc.protocol_type == "consumer"
        assert desc.coordinator_id == listed[0]
        assigned = [tp for m in desc.members for tp in m.assignment]
        assert sorted(assigned) == sorted(expected), "every partition assigned to exactly one member"
        assert all(m.member_id and m.client_id and m.host for m in desc.members)
        assert {m.client_id for m in desc.members} == {f"{'classic' if desc.protocol == 'classic' else 'kip848'}-{i}"
                                                        for i in range(2)}
        if desc.protocol == "consumer":
            assert desc.assignor in ("uniform", "range")
            # Two joins: the epoch counts membership changes (see the module docstring of groups.py).
            assert desc.group_epoch is not None and desc.group_epoch >= 2
            assert desc.assignment_epoch is not None and 0 < desc.assignment_epoch <= desc.group_epoch
        else:
            assert desc.assignor == "range"
            assert desc.group_epoch is None and desc.assignment_epoch is None

        assert G.fetch_committed_offsets(admin, {group: listed})[group] == expected

        members.close()
        closed = True
        empty = _wait_for("the group to be Empty after its consumers closed",
                          lambda: (d := G.describe_groups(admin, {group: G.list_groups(admin)[group]}).get(group))
                          and d.state == "Empty" and d)
        assert empty.members == ()
        assert empty.protocol == members_cls.protocol
        if empty.protocol == "consumer":
            assert empty.group_epoch > desc.group_epoch, "leaving members bump the group epoch"
        assert G.fetch_committed_offsets(admin, {group: G.list_groups(admin)[group]})[group] == expected

        admin.delete_groups([group])
        _wait_for("the deleted group to leave list_groups", lambda: group not in G.list_groups(admin))
        # A caller holding the old listing gets the group dropped, not an exception.
        assert G.describe_groups(admin, {group: listed}) == {}
        assert G.fetch_committed_offsets(admin, {group: listed}).get(group, {}) == {}
    finally:
        if not closed:
            members.close()


def _admin_commit(admin: KafkaAdminClient, group: str, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
    """Commit as an admin, retrying while __consumer_offsets is still being created on a fresh broker.

    alter_group_offsets reports per-partition errors in its result instead of raising them.
    """
    def attempt() -> bool:
        try:
            errors = {e for e in admin.alter_group_offsets(group, offsets).values() if e is not Errors.NoError}
        except Errors.KafkaError as exc:
            if not exc.retriable:
                raise
            return False
        fatal = [e for e in errors if not e.retriable]
        if fatal:
            raise fatal[0](f"admin commit for {group}")
        return not errors

    _wait_for(f"an admin commit for {group}", attempt, timeout=60)


def test_admin_only_group_is_listed_with_its_offsets(admin: KafkaAdminClient, topic: str) -> None:
    group = _name("admin-only")
    committed = {(topic, 0): 7, (topic, 4): 11}
    _admin_commit(admin, group, {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in committed.items()})
    listed = G.list_groups(admin)
    assert listed[group][1] == "classic"
    desc = G.describe_groups(admin, {group: listed[group]})[group]
    assert (desc.protocol, desc.protocol_type, desc.state, desc.members) == ("classic", "", "Empty", ())
    assert G.fetch_committed_offsets(admin, {group: listed[group]}) == {group: committed}


def _counting(admin: KafkaAdminClient) -> collections.Counter[str]:
    """Wrap ``admin._manager.send`` the way the exporter counts requests."""
    counts: collections.Counter[str] = collections.Counter()
    original = admin._manager.send

    def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        counts[type(request).__name__] += 1
        return original(request, *args, **kwargs)

    admin._manager.send = send  # type: ignore[method-assign]
    return counts


def test_requests_do_not_grow_with_the_number_of_groups(kafka: Any, topic: str) -> None:
    per_n = {}
    for n in (1, 25):
        prefix = _name(f"count{n}")
        client = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, client_id="test-groups-count")
        try:
            for i in range(n):
                _admin_commit(client, f"{prefix}-{i}", {TopicPartition(topic, i % PARTITIONS):
                                                        OffsetAndMetadata(i + 1, "", -1)})
            counts = _counting(client)
            listed = G.list_groups(client)
            mine = {g: v for g, v in listed.items() if g.startswith(prefix)}
            assert len(mine) == n
            assert len(G.describe_groups(client, listed)) >= n
            offsets = G.fetch_committed_offsets(client, listed)
            assert all(offsets[g] == {(topic, i % PARTITIONS): i + 1} for i, g in
                       enumerate(f"{prefix}-{i}" for i in range(n)))
            coordinators = {c for c, _ in listed.values()}
            brokers = len(client._manager.cluster.brokers())
            types = {t for _, t in listed.values()}
            per_n[n] = dict(counts)
            assert counts["ListGroupsRequest"] == brokers
            assert counts["DescribeGroupsRequest"] <= len(coordinators)
            assert counts["ConsumerGroupDescribeRequest"] <= (len(coordinators) if "consumer" in types else 0)
            assert counts["OffsetFetchRequest"] == len(coordinators)
            assert counts["FindCoordinatorRequest"] == 0
        finally:
            client.close()
    assert per_n[1] == per_n[25], per_n


def test_group_converted_between_protocols_is_followed(kafka: Any, admin: KafkaAdminClient, topic: str) -> None:
    """KIP-848 online migration: a classic group becomes a consumer group when a consumer-protocol member joins
    it, and a classic group again when that member leaves. A describe with the stale listed type still works
    (one retry with the other API) and reports both kinds of members with their assignments."""
    group = _name("migrating")
    classic = subscribed_consumer(topic, PARTITIONS, bootstrap_servers=kafka.bootstrap_servers, group_id=group,
                                  client_id="old-m", enable_auto_commit=False)
    kip848 = None
    try:
        _wait_for("the classic member to own all partitions", lambda: len(classic.assignment()) == PARTITIONS,
                  poll=lambda: classic.poll(timeout_ms=100))
        old_listing = G.list_groups(admin)[group]
        assert old_listing[1] == "classic"

        kip848 = confluent_kafka.Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": group,
                                           "group.protocol": "consumer", "client.id": "new-m"})
        kip848.subscribe([topic])

        def poll_both() -> None:
            classic.poll(timeout_ms=100)
            kip848.poll(0.1)

        def converted() -> G.GroupDescription | None:
            d = G.describe_groups(admin, {group: old_listing}).get(group)  # stale type on purpose
            covered = d is not None and sorted(tp for m in d.members for tp in m.assignment) == sorted(
                _expected_offsets(topic))
            return d if covered and d.state == "Stable" and len(d.members) == 2 else None

        desc = _wait_for("the upgraded group to be Stable with both members", converted, poll=poll_both)
        assert desc.protocol == "consumer" and desc.group_epoch is not None
        assert {m.client_id for m in desc.members} == {"old-m", "new-m"}
        assert all(m.assignment for m in desc.members)
        assert G.list_groups(admin)[group][1] == "consumer"

        kip848.close()
        kip848 = None
        _wait_for("the group to be classic again", lambda: G.list_groups(admin)[group][1] == "classic",
                  poll=lambda: classic.poll(timeout_ms=100))
    finally:
        if kip848 is not None:
            kip848.close()
        classic.close()


def test_a_classic_member_joins_with_its_topic_known(kafka: Any, topic: str, caplog: pytest.LogCaptureFixture
                                                     ) -> None:
    """The first assignment of a member made by subscribed_consumer covers the topic, so no second,
    metadata-triggered rebalance follows (the one kafka-python 3.0.12 sometimes never finishes). A plain
    KafkaConsumer(topic) joins before its metadata knows the topic and logs "No partition metadata" here."""
    caplog.set_level(logging.WARNING, logger="kafka.coordinator.assignors")
    consumer = subscribed_consumer(topic, PARTITIONS, bootstrap_servers=kafka.bootstrap_servers,
                                   group_id=_name("knows-topic"), enable_auto_commit=False)
    try:
        _wait_for("the member to own all partitions", lambda: len(consumer.assignment()) == PARTITIONS,
                  poll=lambda: consumer.poll(timeout_ms=100))
    finally:
        consumer.close()
    assert not [r.getMessage() for r in caplog.records if "No partition metadata" in r.getMessage()]
