"""Consumer groups on the 3-broker cluster (session fixture ``kafka_cluster3``): groups spread over several
coordinators, one request per coordinator, and the NOT_COORDINATOR retry through FindCoordinator.

A stale coordinator is simulated by handing the functions a wrong coordinator for every group: each broker
then answers NOT_COORDINATOR exactly as it does for a group whose coordinator moved away.
"""

from __future__ import annotations

import collections
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import confluent_kafka
import kafka.errors as Errors
import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from kafka_detective.kafka import groups as G

pytestmark = [pytest.mark.kafka, pytest.mark.cluster3]

PARTITIONS = 6
GROUPS = 12


@pytest.fixture(scope="module")
def admin(kafka_cluster3: Any) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=kafka_cluster3.bootstrap_servers, client_id="test-groups-c3")
    yield client
    client.close()


def _retry_while_coordinator_loads(action: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Right after the cluster starts, __consumer_offsets is still being created and loaded, and a new topic
    is not yet known everywhere: both give retriable errors for a few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except Errors.KafkaError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _commit_or_raise(admin: KafkaAdminClient, group: str, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
    # alter_group_offsets reports per-partition errors in its result instead of raising them.
    for error in admin.alter_group_offsets(group, offsets).values():
        if error is not Errors.NoError:
            raise error()


@pytest.fixture(scope="module")
def spread_groups(kafka_cluster3: Any, admin: KafkaAdminClient) -> Iterator[dict[str, Any]]:
    """GROUPS admin-only groups and one live KIP-848 group, with known offsets, on one topic."""
    suffix = uuid.uuid4().hex[:8]
    topic = f"groups-c3-{suffix}"
    admin.create_topics([NewTopic(topic, PARTITIONS, 3)])
    expected: dict[str, dict[tuple[str, int], int]] = {}
    for i in range(GROUPS):
        group = f"c3-admin-{suffix}-{i}"
        expected[group] = {(topic, i % PARTITIONS): 100 + i}
        _retry_while_coordinator_loads(lambda g=group, i=i: _commit_or_raise(
            admin, g, {TopicPartition(topic, i % PARTITIONS): OffsetAndMetadata(100 + i, "", -1)}))
    live = f"c3-kip848-{suffix}"
    consumer = confluent_kafka.Consumer({"bootstrap.servers": kafka_cluster3.bootstrap_servers, "group.id": live,
                                         "group.protocol": "consumer", "enable.auto.commit": False})
    consumer.subscribe([topic])
    deadline = time.monotonic() + 60
    while len(consumer.assignment()) < PARTITIONS:
        assert time.monotonic() < deadline, "the KIP-848 consumer never got all partitions"
        consumer.poll(0.2)
    consumer.commit(offsets=[confluent_kafka.TopicPartition(topic, p, 5) for p in range(PARTITIONS)],
                    asynchronous=False)
    expected[live] = {(topic, p): 5 for p in range(PARTITIONS)}
    yield {"topic": topic, "expected": expected, "live": live, "consumer": consumer}
    consumer.close()
    admin.delete_groups(list(expected))
    admin.delete_topics([topic])


def _counting(admin: KafkaAdminClient) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    original = admin._manager.send

    def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        counts[type(request).__name__] += 1
        return original(request, *args, **kwargs)

    admin._manager.send = send  # type: ignore[method-assign]
    return counts


def _fresh_admin(kafka_cluster3: Any) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=kafka_cluster3.bootstrap_servers, client_id="test-groups-c3-count")


def _true_coordinators(admin: KafkaAdminClient, group_ids: list[str]) -> dict[str, int]:
    return admin._manager.run(G._find_coordinators, admin, group_ids)


def test_groups_on_several_coordinators_one_request_each(kafka_cluster3: Any, spread_groups: dict[str, Any]) -> None:
    expected = spread_groups["expected"]
    client = _fresh_admin(kafka_cluster3)
    try:
        counts = _counting(client)
        listed = G.list_groups(client)
        mine = {g: listed[g] for g in expected}
        assert counts["ListGroupsRequest"] == 3
        assert counts["FindCoordinatorRequest"] == 0, "no group should be reported by two brokers"
        truth = _true_coordinators(client, list(expected))
        assert {g: c for g, (c, _) in mine.items()} == truth
        coordinators = {c for c, _ in listed.values()}
        assert len({c for c, _ in mine.values()}) >= 2, f"groups did not spread over coordinators: {mine}"
        assert mine[spread_groups["live"]][1] == "consumer"

        counts.clear()
        described = G.describe_groups(client, listed)
        offsets = G.fetch_committed_offsets(client, listed)
        live = described[spread_groups["live"]]
        assert (live.protocol, live.state, len(live.members)) == ("consumer", "Stable", 1)
        assert len(live.members[0].assignment) == PARTITIONS
        assert all(described[g].state == "Empty" and described[g].protocol_type == "" for g in expected
                   if g != spread_groups["live"])
        assert {g: offsets[g] for g in expected} == expected
        assert counts["DescribeGroupsRequest"] <= len(coordinators)
        assert counts["ConsumerGroupDescribeRequest"] <= len(coordinators)
        assert counts["OffsetFetchRequest"] == len(coordinators)
        assert counts["FindCoordinatorRequest"] == 0
    finally:
        client.close()


def test_stale_coordinators_are_retried_once_via_find_coordinator(kafka_cluster3: Any,
                                                                  spread_groups: dict[str, Any]) -> None:
    expected = spread_groups["expected"]
    client = _fresh_admin(kafka_cluster3)
    try:
        listed = {g: v for g, v in G.list_groups(client).items() if g in expected}
        brokers = sorted(b.node_id for b in client._manager.cluster.brokers())
        # Every group pointed at the next broker: all of them answer NOT_COORDINATOR.
        stale = {g: (brokers[(brokers.index(c) + 1) % len(brokers)], t) for g, (c, t) in listed.items()}
        counts = _counting(client)
        described = G.describe_groups(client, stale)
        assert set(described) == set(expected)
        assert all(described[g].coordinator_id == listed[g][0] for g in expected)
        assert described[spread_groups["live"]].protocol == "consumer"
        assert counts["FindCoordinatorRequest"] == 1
        assert counts["DescribeGroupsRequest"] + counts["ConsumerGroupDescribeRequest"] <= 4 * len(brokers)

        counts.clear()
        assert G.fetch_committed_offsets(client, stale) == expected
        assert counts["FindCoordinatorRequest"] == 1
        assert counts["OffsetFetchRequest"] <= 2 * len(brokers)
    finally:
        client.close()


def test_coordinator_crash_group_follows_new_coordinator(kafka_cluster3: Any, spread_groups: dict[str, Any]) -> None:
    """SIGKILL the coordinator of the live KIP-848 group: ListGroups reports the dead broker as failed (the
    caller keeps its previous listing), and describe/fetch with that stale listing find the new coordinator
    once the controller has fenced the dead broker and moved its __consumer_offsets partitions."""
    live, consumer = spread_groups["live"], spread_groups["consumer"]
    client = _fresh_admin(kafka_cluster3)
    try:
        old = G.list_groups(client)
        victim = old[live][0]
        kafka_cluster3.kill_broker(victim)
        try:
            with pytest.raises(G.GroupListingIncomplete) as info:
                G.list_groups(client)
            assert victim in info.value.failed_brokers
            assert live not in info.value.partial

            def moved() -> G.GroupDescription | None:
                consumer.poll(0.1)
                d = G.describe_groups(client, {live: old[live]}).get(live)
                return d if d is not None and d.coordinator_id != victim else None

            deadline = time.monotonic() + 60
            desc = None
            while desc is None:
                assert time.monotonic() < deadline, "the group never showed up at a new coordinator"
                desc = moved()
                time.sleep(0.5)
            assert desc.protocol == "consumer"
            # The stale listing still names the dead broker: the group is answered for at all only if the fetch
            # found the new coordinator. What that coordinator answers right after taking over is Kafka's: on a
            # loaded machine it once answered with none of the group's offsets, so wait for them.
            got = G.fetch_committed_offsets(client, {live: old[live]})
            assert live in got
            deadline = time.monotonic() + 60
            while got[live] != spread_groups["expected"][live]:
                assert time.monotonic() < deadline, f"the new coordinator never served the group's offsets: {got}"
                time.sleep(0.5)
                got = G.fetch_committed_offsets(client, {live: old[live]})
                assert live in got
            deadline = time.monotonic() + 60
            while True:  # the dead broker leaves the metadata once fenced; then listing is complete again
                try:
                    assert G.list_groups(client)[live] == (desc.coordinator_id, "consumer")
                    break
                except G.GroupListingIncomplete:
                    assert time.monotonic() < deadline, "ListGroups never recovered after the broker was fenced"
                    time.sleep(0.5)
        finally:
            kafka_cluster3.restart_stopped()
    finally:
        client.close()
