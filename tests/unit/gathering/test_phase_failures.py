"""Fault injection through the cycle's connector seam: one phase's requests time out after a good cycle.

For each data phase: the failing phase's series stay on /metrics with their previous values, the phases that do
not depend on it are collected fresh, its error counter counts every failed cycle, and its
`kafka_detective_data_age_seconds` grows while it fails and is back to 0 once it succeeds. Without the cluster
phase's metadata no other phase can run, so when it fails every phase keeps its previous data and ages with it.

Time is a fake clock moved by the test: the data ages are exact, and nothing waits.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.pipeline.cycle import ClusterCollector
from kafka_detective.serving.http import MetricsApp

from .kafka_fakes import FakeKafka, Group, LogDirAnswer, make_collector, page

# The requests each phase sends (kafka-python's admin calls, or the raw group requests).
PHASE_REQUESTS = {
    "cluster": {"DescribeClusterRequest"},
    "offsets": {"ListOffsetsRequest"},
    "groups": {"ListGroupsRequest", "FindCoordinatorRequest", "DescribeGroupsRequest",
               "ConsumerGroupDescribeRequest", "OffsetFetchRequest"},
    "topic_configs": {"DescribeConfigsRequest"},
    "log_dirs": {"DescribeLogDirsRequest"},
}
# Families each phase's data feeds; `change_everything` changes at least one of each phase.
PHASE_FAMILIES = {
    "cluster": ("kafka_brokers", "kafka_topic_partition_leader_epoch"),
    "offsets": ("kafka_topic_partition_current_offset", "kafka_topic_partition_oldest_offset"),
    "groups": ("kafka_consumergroup_state", "kafka_consumergroup_current_offset"),
    "topic_configs": ("kafka_topic_retention_seconds", "kafka_topic_min_insync_replicas"),
    "log_dirs": ("kafka_broker_log_dir_size_bytes", "kafka_broker_log_dir_usable_bytes"),
}
PHASES = tuple(PHASE_REQUESTS)
START = 1_767_000_000.0
INTERVAL = 30.0


def fresh_while_failing(phase: str) -> set[str]:
    """The phases collected fresh while `phase` fails: every other one, unless the cluster's metadata is missing."""
    return set() if phase == "cluster" else set(PHASES) - {phase}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("time.time", fake)
    return fake


@pytest.fixture
def kafka() -> FakeKafka:
    return FakeKafka(
        groups={"on-1": Group(1, {0: 10}), "on-2": Group(2, {1: 20})},
        topic_configs={"orders": {"retention.ms": "60000", "min.insync.replicas": "2"}},
        log_dirs={b: [LogDirAnswer(f"/data/{b}", (100 * b, 10 * b), 10_000, 5_000)] for b in (1, 2, 3)},
    )


def change_everything(kafka: FakeKafka) -> None:
    """New data for every phase: a fresh collection of any of them shows a different value."""
    kafka.leader_epoch += 1
    kafka.partitions = {p: (leader, end + 50) for p, (leader, end) in kafka.partitions.items()}
    for group in kafka.groups.values():
        group.committed = {p: offset + 5 for p, offset in group.committed.items()}
        group.state = "Stable"
    kafka.topic_configs = {"orders": {"retention.ms": "120000", "min.insync.replicas": "2"}}
    kafka.log_dirs = {b: [replace(d, partition_sizes=tuple(s + 1000 for s in d.partition_sizes)) for d in dirs]
                      for b, dirs in kafka.log_dirs.items()}


def series(collector: ClusterCollector, phase: str) -> dict[str, dict[tuple, float]]:
    exposed = page(collector)
    return {name: exposed.get(name, {}) for name in PHASE_FAMILIES[phase]}


def self_metric(collector: ClusterCollector, name: str, phase: str | None = None) -> float:
    labels = (("cluster", "t"),) + ((("phase", phase),) if phase else ())
    return page(collector)[name][labels]


def data_ages(collector: ClusterCollector) -> dict[str, float]:
    """kafka_detective_data_age_seconds{phase} as a scrape of /metrics serves it."""
    body = MetricsApp(collector.exposition, [collector]).dynamic_body().decode()
    return {s.labels["phase"]: s.value for fam in text_string_to_metric_families(body) for s in fam.samples
            if s.name == "kafka_detective_data_age_seconds"}


def run_cycle(collector: ClusterCollector, clock: Clock) -> frozenset[str]:
    clock.now += INTERVAL
    return collector.run_cycle().failed_phases


def reference(kafka: FakeKafka) -> ClusterCollector:
    """A collector whose only cycle ran against the cluster as it is now, without faults."""
    failing, kafka.failing = kafka.failing, set()
    collector = make_collector(kafka)
    collector.run_cycle()
    kafka.failing = failing
    return collector


@pytest.mark.parametrize("phase", PHASES)
def test_a_failing_phase_keeps_its_series_and_ages_while_the_others_are_fresh(phase, kafka, clock):
    collector = make_collector(kafka, config_refresh_seconds=0)  # configs and log dirs every cycle
    collector.run_cycle()
    assert not collector.snapshot.failed_phases
    before = {p: series(collector, p) for p in PHASES}
    assert all(all(families.values()) for families in before.values()), before
    errors = self_metric(collector, "kafka_detective_collection_errors_total", phase)
    fresh = fresh_while_failing(phase)

    kafka.failing = PHASE_REQUESTS[phase]
    change_everything(kafka)
    now = reference(kafka)
    assert [p for p in PHASES if series(now, p) == before[p]] == []  # every phase has new data to collect

    for cycles in (1, 2):
        failed = run_cycle(collector, clock)
        assert phase in failed
        assert series(collector, phase) == before[phase]
        for other in fresh:
            assert series(collector, other) == series(now, other), other
        for other in set(PHASES) - fresh - {phase}:
            assert series(collector, other) == before[other], other
        assert self_metric(collector, "kafka_detective_collection_errors_total", phase) == errors + cycles
        assert self_metric(collector, "kafka_detective_cluster_up") == (0 if phase == "cluster" else 1)
        ages = data_ages(collector)
        assert ages[phase] == cycles * INTERVAL
        assert {p: ages[p] for p in fresh} == dict.fromkeys(fresh, 0.0)
        assert {p: ages[p] for p in set(PHASES) - fresh} == dict.fromkeys(set(PHASES) - fresh, cycles * INTERVAL)

    kafka.failing = set()
    assert not run_cycle(collector, clock)
    assert {p: series(collector, p) for p in PHASES} == {p: series(now, p) for p in PHASES}
    assert self_metric(collector, "kafka_detective_collection_errors_total", phase) == errors + 2
    assert data_ages(collector) == {p: 0.0 for p in (*PHASES, "signals")}
