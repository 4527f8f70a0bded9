"""Cluster phase: DescribeCluster and Metadata answers become the snapshot's ClusterState."""

from __future__ import annotations

import re

import kafka.errors as Errors
import pytest

from kafka_detective.config import NameFilter
from kafka_detective.gathering.cluster import collect_cluster
from kafka_detective.gathering.snapshot import Broker, PartitionState

from .kafka_fakes import TOPIC, FakeAdmin, FakeKafka


def test_brokers_controller_and_partitions_are_read_from_the_answers():
    kafka = FakeKafka(leader_epoch=4)
    state = collect_cluster(FakeAdmin(kafka), NameFilter())
    assert state.brokers == tuple(Broker(b, "127.0.0.1", 9000 + b, None) for b in (1, 2, 3))
    assert state.controller_id == 1
    assert state.partitions == {
        (TOPIC, p): PartitionState(TOPIC, p, leader, 4, (1, 2, 3), (1, 2, 3), ()) for p, leader in
        ((0, 1), (1, 2), (2, 3))}


def test_a_fenced_broker_is_not_counted_and_its_partition_has_no_leader():
    kafka = FakeKafka()
    admin = FakeAdmin(kafka)
    kafka.live = {1, 3}  # broker 2 died: DescribeCluster still lists it, fenced
    state = collect_cluster(admin, NameFilter())
    assert [b.broker_id for b in state.brokers] == [1, 3]
    assert state.partitions[(TOPIC, 1)].leader == -1
    assert state.partitions[(TOPIC, 0)].isr == (1, 3)


def test_a_topic_answering_an_error_is_left_out_and_the_others_are_kept():
    kafka = FakeKafka(topic_errors={"being-deleted": Errors.UnknownTopicOrPartitionError.errno})
    state = collect_cluster(FakeAdmin(kafka), NameFilter())
    assert state.topics() == {TOPIC}
    assert len(state.partitions) == 3


def test_the_topic_filter_drops_excluded_topics():
    state = collect_cluster(FakeAdmin(FakeKafka()), NameFilter(exclude=(re.compile(TOPIC),)))
    assert state.partitions == {}
    assert len(state.brokers) == 3


def test_an_unanswered_describe_cluster_fails_the_phase():
    kafka = FakeKafka(failing={"DescribeClusterRequest"})
    with pytest.raises(Errors.KafkaTimeoutError):
        collect_cluster(FakeAdmin(kafka), NameFilter())
