"""A full cluster restart seen through the loop's connector seam: partial cycles keep what is missing, stale client
metadata is refreshed at once, and the data ages tell how old each kind of data really is.

`FakeKafka` is a 3-broker cluster at the level the exporter talks to it: kafka-python's admin methods and the raw
requests `kafka.groups` / `kafka.presence` send through `admin._manager`. Like kafka-python, an admin client
knows only the brokers its metadata listed (`known`): a request to any other node id fails with
UnknownBrokerIdError until the metadata is refreshed.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from types import SimpleNamespace as NS
from typing import Any

import kafka.errors as Errors
import pytest
from kafka.structs import OffsetAndTimestamp
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.config import parse_config
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.pipeline.cycle import ClusterCollector

TOPIC = "orders"
NOT_FOUND = Errors.GroupIdNotFoundError.errno
NOT_AVAILABLE = Errors.CoordinatorNotAvailableError.errno


@dataclass
class Group:
    coordinator: int
    committed: dict[int, int]
    state: str = "Empty"


@dataclass
class FakeKafka:
    live: set[int] = field(default_factory=lambda: {1, 2, 3})
    # partition -> (leader, log-end offset)
    partitions: dict[int, tuple[int, int]] = field(default_factory=lambda: {0: (1, 100), 1: (2, 200), 2: (3, 300)})
    groups: dict[str, Group] = field(default_factory=dict)
    # groups a live coordinator does not list yet (still loading __consumer_offsets) but can describe
    unlisted: set[str] = field(default_factory=set)
    leaders_moved: bool = False  # answers NOT_LEADER until the client refreshes its metadata
    refreshes: int = 0
    refresh_attempts: int = 0
    metadata_fails: bool = False  # Metadata requests go unanswered (the refresh raises)
    listing_fails: set[int] = field(default_factory=set)  # brokers whose ListGroups answers an error
    consumer_api: bool = True  # False: ConsumerGroupDescribe fails as kafka-python does for an API a broker lacks
    sent: list[tuple[str, int]] = field(default_factory=list)  # (request type, node id)
    backoff_resets: list[int] = field(default_factory=list)

    def leader(self, partition: int) -> int:
        leader = self.partitions[partition][0]
        return leader if leader in self.live else -1


class FakeAdmin:
    def __init__(self, kafka: FakeKafka) -> None:
        if not kafka.live:
            raise Errors.KafkaTimeoutError("Unable to bootstrap")
        self.kafka = kafka
        # Bootstrapped from the first broker back: its metadata lists only the brokers registered by then.
        self.known = set(kafka.live)
        self._manager = FakeManager(self)
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def _require(self, node: int) -> None:
        if node not in self.known:
            raise Errors.UnknownBrokerIdError(node)
        if node not in self.kafka.live:
            raise Errors.KafkaConnectionError(f"node {node} refused")

    def describe_cluster(self) -> dict[str, Any]:
        if not self.kafka.live:
            raise Errors.KafkaConnectionError("all brokers down")
        return {"controller_id": min(self.kafka.live),
                "brokers": [{"broker_id": b, "host": "127.0.0.1", "port": 9000 + b, "rack": None,
                             "is_fenced": b not in self.kafka.live} for b in (1, 2, 3)]}

    def describe_topics(self) -> list[dict[str, Any]]:
        return [{"name": TOPIC, "error_code": 0, "partitions": [
            {"partition_index": p, "leader_id": self.kafka.leader(p), "leader_epoch": 0, "replica_nodes": [1, 2, 3],
             "isr_nodes": sorted(self.kafka.live), "offline_replicas": []} for p in self.kafka.partitions]}]

    def list_partition_offsets(self, specs: dict[Any, int]) -> dict[Any, OffsetAndTimestamp]:
        if self.kafka.leaders_moved:
            raise Errors.NotLeaderForPartitionError("moved")
        out = {}
        for tp, spec in specs.items():
            leader, end = self.kafka.partitions[tp.partition]
            self._require(leader)
            out[tp] = OffsetAndTimestamp(end if spec == -1 else 0, -1, None)
        return out

    def describe_configs(self, resources: list[Any], config_filter: str = "all") -> dict[str, Any]:
        return {"topic": {r.name: {} for r in resources}}

    def describe_log_dirs(self) -> list[Any]:
        return []


class FakeManager:
    def __init__(self, admin: FakeAdmin) -> None:
        self.admin = admin
        self.kafka = admin.kafka
        self.broker_version_data = NS(api_version=lambda request, *a, **k: 9)
        self.cluster = NS(brokers=lambda: [NS(node_id=b) for b in sorted(admin.known)],
                          refresh_metadata=self._refresh_metadata)

    async def _refresh_metadata(self) -> None:
        self.kafka.refresh_attempts += 1
        if not self.kafka.live or self.kafka.metadata_fails:
            raise Errors.NodeNotReadyError("metadata")
        self.kafka.refreshes += 1
        self.kafka.leaders_moved = False
        self.admin.known = set(self.kafka.live)

    def run(self, work: Any, *args: Any) -> Any:
        result = work(*args)
        return asyncio.run(result) if inspect.iscoroutine(result) else result

    def reset_backoff(self, node: int) -> None:
        self.kafka.backoff_resets.append(node)

    def least_loaded_node(self) -> int:
        return min(self.admin.known & self.kafka.live)

    def send(self, request: Any, node_id: int | None = None, request_timeout_ms: int | None = None) -> Any:
        self.admin._require(node_id)  # raised at send time, as kafka-python's get_connection does
        self.kafka.sent.append((type(request).__name__, node_id))
        answer = getattr(self, "_" + type(request).__name__)

        async def reply() -> Any:
            return answer(request, node_id)
        return reply()

    def _mine(self, node: int) -> dict[str, Group]:
        return {g: d for g, d in self.kafka.groups.items() if d.coordinator == node}

    def _ListGroupsRequest(self, request: Any, node: int) -> Any:
        if node in self.kafka.listing_fails:
            return NS(error_code=Errors.CoordinatorLoadInProgressError.errno, groups=[])
        return NS(error_code=0, groups=[NS(group_id=g, group_type="classic") for g in self._mine(node)
                                        if g not in self.kafka.unlisted])

    def _FindCoordinatorRequest(self, request: Any, node: int) -> Any:
        found = []
        for key in request.coordinator_keys:
            group = self.kafka.groups.get(key)
            coordinator = group.coordinator if group else 1
            ok = coordinator in self.kafka.live
            found.append(NS(key=key, node_id=coordinator if ok else -1, error_code=0 if ok else NOT_AVAILABLE))
        return NS(coordinators=found)

    def _DescribeGroupsRequest(self, request: Any, node: int) -> Any:
        out = []
        for g in request.groups:
            group = self._mine(node).get(g)
            out.append(NS(group_id=g, error_code=0 if group else NOT_FOUND,
                          group_state=group.state if group else "Dead", protocol_type="", protocol_data="",
                          members=[]))
        return NS(groups=out)

    def _ConsumerGroupDescribeRequest(self, request: Any, node: int) -> Any:
        if not self.kafka.consumer_api:
            raise Errors.IncompatibleBrokerVersion("ConsumerGroupDescribe")
        return NS(groups=[NS(group_id=g, error_code=NOT_FOUND, group_state="Dead") for g in request.group_ids])

    def _OffsetFetchRequest(self, request: Any, node: int) -> Any:
        out = []
        for asked in request.groups:
            group = self._mine(node).get(asked.group_id)
            partitions = [NS(partition_index=p, committed_offset=o, error_code=0)
                          for p, o in (group.committed.items() if group else ())]
            out.append(NS(group_id=asked.group_id, error_code=0 if group else NOT_FOUND,
                          topics=[NS(name=TOPIC, partitions=partitions)]))
        return NS(API_VERSION=8, error_code=0, groups=out)


def make_collector(kafka: FakeKafka) -> ClusterCollector:
    cluster = parse_config({"clusters": [{"name": "t", "bootstrap_servers": ["127.0.0.1:9001"]}]}).clusters[0]
    return ClusterCollector(cluster, Exposition(), config_refresh_seconds=3600.0,
                            connector=lambda _cluster, _counter: FakeAdmin(kafka))


def page(collector: ClusterCollector) -> dict[str, dict[tuple, float]]:
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(collector.exposition.static_body().decode()):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def lag(collector: ClusterCollector) -> dict[tuple[str, int], float]:
    return {(dict(k)["consumergroup"], int(dict(k)["partition"])): v
            for k, v in page(collector).get("kafka_consumergroup_lag", {}).items()}


def last_success(collector: ClusterCollector, phase: str) -> float | None:
    return page(collector)["kafka_detective_last_success_timestamp_seconds"].get(
        (("cluster", "t"), ("phase", phase)))


@pytest.fixture
def kafka() -> FakeKafka:
    return FakeKafka(groups={"on-1": Group(1, {0: 10}), "on-3": Group(3, {2: 30}), "on-2": Group(2, {1: 20})})


def restart_with_first_broker_back(collector: ClusterCollector, kafka: FakeKafka, first: int = 2) -> None:
    kafka.live = set()
    collector.run_cycle()  # cluster unreachable: the admin client is dropped
    kafka.live = {first}   # the reconnect bootstraps from the only broker back


def test_first_cycle_after_a_restart_with_one_broker_keeps_every_group_and_is_partial(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    before = lag(collector)
    assert before == {("on-1", 0): 90, ("on-2", 1): 180, ("on-3", 2): 270}
    groups_success = last_success(collector, "groups")
    restart_with_first_broker_back(collector, kafka)

    snapshot = collector.run_cycle()

    # Broker 2 lists only its own group and the coordinators of the others are not back: nothing confirms that
    # on-1 and on-3 are gone, so they stay, and the offline partitions keep their offsets (and lag).
    assert lag(collector) == before
    assert "groups" in snapshot.failed_phases
    assert last_success(collector, "groups") == groups_success
    now = collector._phase_success["cluster"] + 5
    ages = collector.data_ages(now)
    assert ages["groups"] > ages["cluster"] == 5
    assert collector.snapshot_age(now) == ages["groups"]


def test_without_the_partial_rule_the_empty_listing_would_have_dropped_the_groups(kafka):
    """The check above can fail: the same restart with broker 2 coordinating nothing lists no group at all."""
    kafka.groups["on-2"].coordinator = 1
    collector = make_collector(kafka)
    collector.run_cycle()
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    assert {g for g, _ in lag(collector)} == {"on-1", "on-2", "on-3"}


def test_client_metadata_missing_the_brokers_that_came_back_is_refreshed_in_the_same_cycle(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    kafka.live = {1, 2, 3}  # the other brokers registered; the client still knows only broker 2
    kafka.partitions = {0: (1, 150), 1: (2, 250), 2: (3, 350)}
    kafka.groups["on-3"].committed = {2: 330}

    snapshot = collector.run_cycle()

    assert not snapshot.failed_phases
    assert lag(collector) == {("on-1", 0): 140, ("on-2", 1): 230, ("on-3", 2): 20}
    refreshes = page(collector)["kafka_detective_metadata_refreshes_total"]
    assert refreshes[(("cluster", "t"), ("reason", "brokers"))] == 1
    assert {1, 3} <= set(kafka.backoff_resets)


def test_a_metadata_refresh_that_failed_is_not_tried_again_in_the_same_cycle(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    kafka.live = {1, 2, 3}       # the client knows only broker 2 and must refresh to reach the others...
    kafka.metadata_fails = True  # ...but its Metadata request goes unanswered
    attempts = kafka.refresh_attempts

    snapshot = collector.run_cycle()

    # One attempt (after DescribeCluster); the offsets and groups phases fail on the unknown brokers without
    # waiting for another, and the client is replaced next cycle.
    assert kafka.refresh_attempts - attempts == 1
    assert {"offsets", "groups"} <= snapshot.failed_phases
    assert collector._admin is None
    kafka.metadata_fails = False
    assert not collector.run_cycle().failed_phases


def test_a_stale_leader_error_refreshes_metadata_and_retries_the_phase_at_once(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    kafka.leaders_moved = True
    kafka.partitions = {0: (1, 111), 1: (2, 200), 2: (3, 300)}

    snapshot = collector.run_cycle()

    assert "offsets" not in snapshot.failed_phases
    assert lag(collector)[("on-1", 0)] == 101
    refreshes = page(collector)["kafka_detective_metadata_refreshes_total"]
    assert refreshes[(("cluster", "t"), ("reason", "error"))] == 1


@pytest.mark.parametrize("consumer_api, deleted", [
    (True, "on-3"),    # both describe APIs answer GROUP_ID_NOT_FOUND
    (False, "on-1"),   # a broker without ConsumerGroupDescribe: DescribeGroups' answer alone confirms it
], ids=["confirmed-by-its-coordinator", "broker-without-consumer-group-api"])
def test_a_deleted_group_leaves_at_once(kafka, consumer_api, deleted):
    kafka.consumer_api = consumer_api
    collector = make_collector(kafka)
    collector.run_cycle()
    del kafka.groups[deleted]

    snapshot = collector.run_cycle()

    assert "groups" not in snapshot.failed_phases
    assert {g for g, _ in lag(collector)} == {"on-1", "on-2", "on-3"} - {deleted}


def test_a_group_its_coordinator_does_not_list_yet_is_found_and_collected_fresh(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    kafka.unlisted = {"on-3"}
    kafka.groups["on-3"].committed = {2: 299}
    kafka.groups["on-3"].state = "Stable"
    kafka.sent.clear()

    snapshot = collector.run_cycle()

    assert "groups" not in snapshot.failed_phases
    assert lag(collector)[("on-3", 2)] == 1
    state = page(collector)["kafka_consumergroup_state"]
    assert state[(("cluster", "t"), ("consumergroup", "on-3"), ("state", "Stable"))] == 1
    # The presence check's describe is the group's description for the cycle: its coordinator is asked once.
    assert kafka.sent.count(("DescribeGroupsRequest", 3)) == 1, kafka.sent


def test_data_ages_grow_while_a_phase_fails_and_reset_when_it_succeeds(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    done = collector._phase_success["groups"]
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    collector.run_cycle()
    assert collector.data_ages(done + 100)["groups"] == pytest.approx(100)
    assert collector.snapshot_age(done + 100) == pytest.approx(100)
    kafka.live = {1, 2, 3}
    collector.run_cycle()
    assert collector._phase_success["groups"] > done
    assert collector.data_ages()["groups"] < 5


def test_core_phases_report_an_age_from_start_before_their_first_success():
    collector = make_collector(FakeKafka(live=set()))
    collector.run_cycle()
    ages = collector.data_ages(collector._started + 42)
    assert {p: ages[p] for p in ("cluster", "offsets", "groups")} == {"cluster": 42, "offsets": 42, "groups": 42}


def test_the_scrape_reports_each_data_age_and_the_stalest_core_one_as_snapshot_age(kafka):
    from kafka_detective.serving.http import MetricsApp

    collector = make_collector(kafka)
    collector.run_cycle()
    collector._phase_success = {**collector._phase_success, "groups": collector._phase_success["groups"] - 300}
    body = MetricsApp(collector.exposition, [collector]).dynamic_body().decode()
    samples = {(s.name, s.labels.get("phase")): s.value for fam in text_string_to_metric_families(body)
               for s in fam.samples if s.name.startswith("kafka_detective_")}
    assert samples[("kafka_detective_data_age_seconds", "groups")] == pytest.approx(300, abs=5)
    assert samples[("kafka_detective_data_age_seconds", "cluster")] < 5
    assert samples[("kafka_detective_snapshot_age_seconds", None)] == samples[("kafka_detective_data_age_seconds",
                                                                               "groups")]


def test_groups_of_a_broker_whose_listing_failed_are_kept_without_asking_it_again(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    kafka.listing_fails = {3}
    kafka.groups["on-1"].committed = {0: 50}
    kafka.sent.clear()

    snapshot = collector.run_cycle()

    assert "groups" in snapshot.failed_phases
    assert lag(collector) == {("on-1", 0): 50, ("on-2", 1): 180, ("on-3", 2): 270}
    assert not [(api, node) for api, node in kafka.sent if node == 3 and api != "ListGroupsRequest"]
