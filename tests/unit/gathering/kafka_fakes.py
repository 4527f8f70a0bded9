"""A Kafka cluster faked at the level the exporter talks to it, for tests of the collection cycle through its
connector seam (`ClusterCollector(connector=...)`).

`FakeKafka` is a 3-broker cluster: kafka-python's admin methods and the raw requests `kafka.groups` /
`kafka.presence` send through `admin._manager`. Like kafka-python, an admin client knows only the brokers its
metadata listed (`known`): a request to any other node id fails with UnknownBrokerIdError until the metadata is
refreshed.

Faults are injected by API: every request type named in `FakeKafka.failing` (`DescribeClusterRequest`,
`ListOffsetsRequest`, `DescribeConfigsRequest`, `ListGroupsRequest`...) is answered by a request timeout.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from types import SimpleNamespace as NS
from typing import Any

import kafka.errors as Errors
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


@dataclass(frozen=True)
class LogDirAnswer:
    """One log directory of a DescribeLogDirs answer; -1 volume sizes are what brokers before KIP-827 send."""

    path: str
    partition_sizes: tuple[int, ...]
    total_bytes: int = -1
    usable_bytes: int = -1
    error_code: int = 0

    def answer(self) -> dict[str, Any]:
        return {"log_dir": self.path, "error_code": self.error_code, "total_bytes": self.total_bytes,
                "usable_bytes": self.usable_bytes,
                "topics": [{"name": TOPIC, "partitions": [{"partition_index": i, "partition_size": size}
                                                          for i, size in enumerate(self.partition_sizes)]}]}


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
    failing: set[str] = field(default_factory=set)  # request types answered by a timeout
    leader_epoch: int = 0  # of every partition
    log_start: int = 0  # of every partition
    topic_errors: dict[str, int] = field(default_factory=dict)  # topics whose metadata is an error code only
    topic_configs: dict[str, dict[str, str]] = field(default_factory=dict)  # topic -> {config key: value}
    config_errors: set[str] = field(default_factory=set)  # topics whose DescribeConfigs result is an error
    log_dirs: dict[int, list[LogDirAnswer]] = field(default_factory=dict)  # broker -> its log directories

    def answer(self, api: str) -> None:
        """Raise the injected fault of the request type, if any."""
        if api in self.failing:
            raise Errors.KafkaTimeoutError(f"{api} timed out")

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
        self.kafka.answer("DescribeClusterRequest")
        if not self.kafka.live:
            raise Errors.KafkaConnectionError("all brokers down")
        return {"controller_id": min(self.kafka.live),
                "brokers": [{"broker_id": b, "host": "127.0.0.1", "port": 9000 + b, "rack": None,
                             "is_fenced": b not in self.kafka.live} for b in (1, 2, 3)]}

    def describe_configs(self, resources: list[Any], config_filter: str = "all") -> dict[str, Any]:
        self.kafka.answer("DescribeConfigsRequest")
        # kafka-python ignores a resource's error code: a topic that answered an error comes back without entries.
        return {"topic": {r.name: {} if r.name in self.kafka.config_errors else
                          {key: {"name": key, "value": value}
                           for key, value in self.kafka.topic_configs.get(r.name, {}).items()}
                          for r in resources}}

    def describe_log_dirs(self) -> list[Any]:
        # kafka-python asks every broker its metadata lists; one that fails fails the whole call.
        self.kafka.answer("DescribeLogDirsRequest")
        out = []
        for node in sorted(self.known):
            self._require(node)
            out.append({"broker": node, "log_dirs": [d.answer() for d in self.kafka.log_dirs.get(node, [])]})
        return out


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
        node_id = self.least_loaded_node() if node_id is None else node_id
        self.admin._require(node_id)  # raised at send time, as kafka-python's get_connection does
        self.kafka.answer(type(request).__name__)
        self.kafka.sent.append((type(request).__name__, node_id))
        answer = getattr(self, "_" + type(request).__name__)

        async def reply() -> Any:
            return answer(request, node_id)
        return reply()

    def _MetadataRequest(self, request: Any, node: int) -> Any:
        kafka = self.kafka
        return NS(topics=[NS(name=TOPIC, error_code=0, partitions=[
            NS(partition_index=p, leader_id=kafka.leader(p), leader_epoch=kafka.leader_epoch, replica_nodes=[1, 2, 3],
               isr_nodes=sorted(kafka.live), offline_replicas=[])
            for p in kafka.partitions])] + [
            NS(name=name, error_code=code, partitions=[]) for name, code in kafka.topic_errors.items()])

    def _ListOffsetsRequest(self, request: Any, node: int) -> Any:
        topics = []
        for topic in request.topics:
            partitions = []
            for asked in topic.partitions:
                leader, end = self.kafka.partitions[asked.partition_index]
                moved = self.kafka.leaders_moved or leader != node
                partitions.append(NS(partition_index=asked.partition_index, offset=-1 if moved else
                                     (end if asked.timestamp == -1 else self.kafka.log_start),
                                     error_code=Errors.NotLeaderForPartitionError.errno if moved else 0))
            topics.append(NS(name=topic.name, partitions=partitions))
        return NS(topics=topics)

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


def make_collector(kafka: FakeKafka, config_refresh_seconds: float = 3600.0) -> ClusterCollector:
    cluster = parse_config({"clusters": [{"name": "t", "bootstrap_servers": ["127.0.0.1:9001"]}]}).clusters[0]
    return ClusterCollector(cluster, Exposition(), config_refresh_seconds=config_refresh_seconds,
                            connector=lambda _cluster, _counter: FakeAdmin(kafka))


def page(collector: ClusterCollector) -> dict[str, dict[tuple, float]]:
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(collector.exposition.static_body().decode()):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out
