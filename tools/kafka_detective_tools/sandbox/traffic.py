"""Traffic driver: producers and consumer groups on a real (local) Kafka playing a scenario in compressed time.

A scenario is a short timeline of phases. Each phase sets the produce rate, how many consumers the group has and
how fast each one consumes, whether they are frozen (alive but not committing) or crash and rejoin (a rebalance
storm), and may start with an action on the cluster (delete records past the group's committed offset, kill or
restart a broker). The stories are the brief's case studies, compressed from hours into a few minutes:

    driver = TrafficDriver(kafka.bootstrap_servers, SCENARIOS["consumers-down"], kafka=kafka)
    with driver:                      # creates the topic, starts the threads
        driver.wait()                 # until the last phase ends (it keeps running after that until stop())

Producers and consumers are kafka-python clients in threads (cheap on a 2-core box; classic group protocol).
``stop()`` (and leaving the ``with``) always stops every thread and closes every client; brokers killed by a
scenario are restarted by ``stop()`` only when ``restart_brokers=True``.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)

CLIENT_ID = "kafka-detective-traffic"


@dataclass(frozen=True)
class Phase:
    """One step of a scenario's timeline."""

    title: str
    seconds: float
    produce_rate: float                    # messages/s written to the topic
    consumers: int = 0                     # members of the consumer group during the phase
    consumer_rate: float | None = None     # messages/s each consumer processes (None: as fast as it can)
    frozen: bool = False                   # consumers stay in the group but stop polling and committing
    churn_seconds: float | None = None     # one consumer crashes and a new one joins this often
    actions: tuple[str, ...] = ()          # at the start: delete_records, kill_broker, start_broker
    note: str = ""                         # what an operator would see


@dataclass(frozen=True)
class TrafficScenario:
    name: str
    title: str
    story: str
    phases: tuple[Phase, ...]
    topic: str = "orders"
    group: str = "checkout"
    partitions: int = 3
    brokers: int = 1                       # 3: needs the 3-broker local cluster (kill_broker)
    replication: int = 1
    topic_configs: dict[str, str] = field(default_factory=dict)
    expected_cause: str | None = None      # the root cause id the analysis should name
    expected_alerts: tuple[str, ...] = ()  # alerts that should reach the Alertmanager

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def with_baseline(self, seconds: float) -> TrafficScenario:
        """The same story with its first (healthy) phase lasting at least ``seconds``."""
        first, *rest = self.phases
        return replace(self, phases=(replace(first, seconds=max(first.seconds, seconds)), *rest))

    @property
    def onset_seconds(self) -> float:
        """When the incident starts: the end of the healthy first phase."""
        return self.phases[0].seconds

    def verdict(self, cause: str | None) -> tuple[bool, str]:
        """Whether ``cause``, the online diagnosis at the end of the story, is the story's own cause, and the
        sentence that says so (a story without an expected cause accepts any diagnosis)."""
        if self.expected_cause is None:
            return True, "no expected cause"
        if cause == self.expected_cause:
            return True, f"as expected ({self.expected_cause})"
        return False, f"expected {self.expected_cause}, got {cause or 'no diagnosis'}"

    def scaled(self, seconds: float) -> TrafficScenario:
        """The same story in ``seconds`` in total (each phase scaled proportionally, at least 5 s)."""
        factor = seconds / self.seconds
        phases = tuple(replace(p, seconds=max(5.0, p.seconds * factor),
                               churn_seconds=None if p.churn_seconds is None else max(3.0, p.churn_seconds))
                       for p in self.phases)
        return replace(self, phases=phases)


def _s(name: str, title: str, story: str, phases: list[Phase], **kw: Any) -> TrafficScenario:
    return TrafficScenario(name=name, title=title, story=story, phases=tuple(phases), **kw)


SCENARIOS: dict[str, TrafficScenario] = {s.name: s for s in (
    _s("the-3am-mystery", "The 3 AM Mystery",
       "Every night at 03:00 the checkout consumers fall behind, and by morning it has cleared itself. The consumers "
       "are healthy; a nightly batch job on the producer side writes five times the usual rate.",
       [Phase("quiet night", 60, 40, consumers=2, consumer_rate=45,
              note="produce 40/s, two consumers with capacity 90/s: lag ~0"),
        Phase("03:00 - the nightly batch starts", 80, 250, consumers=2, consumer_rate=45,
              note="produce 250/s for the batch: the healthy consumers are outpaced"),
        Phase("batch finished", 40, 40, consumers=2, consumer_rate=45,
              note="produce back to 40/s: the backlog drains slowly")],
       expected_cause="producer_spike",
       expected_alerts=("KafkaConsumerLagBreachPredicted", "KafkaConsumerLagHigh", "KafkaConsumerLagSecondsHigh")),
    _s("consumers-down", "Consumers down",
       "The checkout consumers crash after a bad deploy; producers keep writing. The group is Empty and its lag grows "
       "at the full produce rate.",
       [Phase("normal traffic", 50, 100, consumers=2,
              note="produce 100/s, two consumers keep up"),
        Phase("consumers crashed (bad deploy)", 130, 100, consumers=0,
              note="group Empty, lag grows 100 messages/s")],
       expected_cause="consumer_down",
       expected_alerts=("KafkaConsumerGroupEmpty", "KafkaConsumerLagHigh", "KafkaConsumerLagSecondsHigh",
                        "KafkaConsumerLagBreachPredicted")),
    _s("the-vanishing-messages", "The Vanishing Messages",
       "Orders go missing without any error. The topic keeps messages for 30 s (compressed from hours); the "
       "consumers slow down, the oldest unconsumed message ages past retention and Kafka deletes it unread.",
       [Phase("normal traffic", 40, 60, consumers=2,
              note="produce 60/s, consumers keep up; retention.ms=30000"),
        Phase("consumers slow down", 50, 60, consumers=2, consumer_rate=6,
              note="consume 12/s: the oldest unconsumed message ages toward retention"),
        # Stuck on a slow batch, the consumers do not fetch again before the exporter reads the log-start offsets
        # (every minute): with a fetch right after the deletion they would reset to the new log start and commit
        # before the exporter saw the committed offset behind it.
        Phase("retention deletes the backlog", 80, 60, consumers=2, consumer_rate=6, frozen=True,
              actions=("delete_records",),
              note="the consumers are stuck on a slow batch; the log-start offset passes the committed offset: "
                   "messages lost")],
       topic_configs={"retention.ms": "30000", "segment.ms": "5000"},
       expected_cause="retention_loss", expected_alerts=("KafkaConsumerMessagesLost",)),
    _s("the-slowdown", "The Slowdown",
       "Nothing failed, but every hour the consumers get a bit slower (a leaking cache); the lag creeps up long before "
       "anyone notices.",
       [Phase("healthy", 50, 80, consumers=2, consumer_rate=60, note="capacity 120/s for 80/s"),
        Phase("degrading", 40, 80, consumers=2, consumer_rate=35, note="capacity 70/s: lag starts to grow"),
        Phase("degraded", 120, 80, consumers=2, consumer_rate=15, note="capacity 30/s: lag grows 50/s")],
       expected_cause="consumer_slowdown",
       expected_alerts=("KafkaConsumerLagBreachPredicted", "KafkaConsumerLagSecondsHigh")),
    _s("rebalance-storm", "Rebalance storm",
       "Consumers crash (OOM) and rejoin every few seconds; every rebalance stops consumption for the whole group.",
       [Phase("stable", 50, 80, consumers=3, consumer_rate=30, note="three consumers (capacity 90/s) keep up"),
        Phase("crash loop", 130, 80, consumers=3, consumer_rate=30, churn_seconds=4,
              note="a consumer crashes and rejoins every 4 s; every rebalance pauses the group")],
       expected_cause="rebalance_storm", expected_alerts=("KafkaConsumerRebalanceStorm",)),
    _s("the-ghost", "The Ghost",
       "Lag spikes that come and go on their own: now and then the consumers freeze for a while (stop-the-world GC "
       "pauses) but stay in the group, then catch up as if nothing happened. Each freeze alone looks like a stall; "
       "the second one, after a calm spell, shows the pattern.",
       [Phase("normal", 60, 60, consumers=2, note="consumers keep up"),
        Phase("freeze", 120, 60, consumers=2, frozen=True, note="members present, committed offset frozen"),
        Phase("recovered", 150, 60, consumers=2, note="caught up; calm"),
        Phase("freeze again", 120, 60, consumers=2, frozen=True, note="the same freeze, after a calm spell"),
        Phase("recovered", 30, 60, consumers=2, note="gone as if nothing happened")],
       expected_cause="intermittent", expected_alerts=("KafkaConsumerStalled",)),
    _s("the-storm", "The Storm",
       "A broker fails: its clients stall first, then it dies, partition leaders move, under-replicated "
       "partitions pile up and lag builds: a cascading failure (needs the 3-broker cluster). The traffic driver "
       "plays the clients' stall (its consumers stop committing for 35 s, as clients blocked on a failing broker "
       "do); the broker itself answers until it is killed.",
       [Phase("normal", 40, 80, consumers=3, consumer_rate=30,
              note="three brokers, three consumers with capacity 90/s for 80/s"),
        Phase("the consumers stall", 20, 80, consumers=3, consumer_rate=30, frozen=True,
              note="the consumers stop committing, as clients blocked on a failing broker do (played by the driver)"),
        Phase("the broker crashes", 15, 80, consumers=3, consumer_rate=30, frozen=True, actions=("kill_broker",),
              note="SIGKILL: leader elections, under-replicated partitions; the consumers still stalled"),
        Phase("broker still down", 30, 80, consumers=3, consumer_rate=30,
              note="the consumers work again on the new leaders; the partitions stay under-replicated"),
        Phase("broker back", 60, 80, consumers=3, consumer_rate=30, actions=("start_broker",),
              note="ISR recovers, the backlog drains slowly")],
       partitions=6, brokers=3, replication=3, topic_configs={"min.insync.replicas": "2"},
       expected_cause="broker_failure",
       expected_alerts=("KafkaBrokerMissing", "KafkaUnderReplicatedPartitions", "KafkaLeaderElections")),
    _s("broker-down", "Broker down",
       "One of three brokers crashes and stays down: leader elections and under-replicated partitions; the group "
       "symptoms it causes are inhibited by the broker alert (needs the 3-broker cluster).",
       [Phase("normal", 30, 50, consumers=2, note="three brokers"),
        Phase("broker crashed", 150, 50, consumers=2, actions=("kill_broker",),
              note="partitions under-replicated, leaders moved")],
       partitions=6, brokers=3, replication=3, expected_cause="broker_failure",
       expected_alerts=("KafkaBrokerMissing", "KafkaUnderReplicatedPartitions", "KafkaLeaderElections")),
)}
SCENARIOS["producer-burst"] = replace(SCENARIOS["the-3am-mystery"], name="producer-burst", title="Producer burst")


def get_scenario(name: str) -> TrafficScenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        from kafka_detective.errors import UserError

        raise UserError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None


# --------------------------------------------------------------------------------------------------------------


class _Bucket:
    """Token bucket: ``take(n)`` grants up to n tokens accumulated at ``rate`` per second (None: unlimited)."""

    def __init__(self, rate: float | None = None) -> None:
        self.rate = rate
        self.tokens = 0.0
        self.t = time.monotonic()

    def available(self) -> float:
        now = time.monotonic()
        if self.rate is None:
            self.t = now
            return float("inf")
        self.tokens = min(self.tokens + (now - self.t) * self.rate, max(1.0, self.rate))
        self.t = now
        return self.tokens

    def spend(self, n: float) -> None:
        if self.rate is not None:
            self.tokens -= n


class _Consumer(threading.Thread):
    """One group member: polls, 'processes' at a rate, commits; can be frozen, stopped or crashed."""

    def __init__(self, driver: TrafficDriver, index: int) -> None:
        super().__init__(name=f"traffic-consumer-{index}", daemon=True)
        self.driver = driver
        self.index = index
        self.bucket = _Bucket()
        self.frozen = False
        self.consumed = 0
        self._stop_event = threading.Event()
        self.error: str | None = None

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        from kafka import KafkaConsumer

        d = self.driver
        consumer = None
        try:
            consumer = KafkaConsumer(
                d.topic, bootstrap_servers=d.bootstrap, group_id=d.group, client_id=f"{CLIENT_ID}-{self.index}",
                enable_auto_commit=False, auto_offset_reset="earliest", session_timeout_ms=6000,
                heartbeat_interval_ms=1000, max_poll_interval_ms=300000, request_timeout_ms=15000)
            # kafka-python joins the group before its metadata knows the topic; the second rebalance that the
            # metadata then forces sometimes never completes on the client, leaving the member with nothing
            # (tests/integration/integration_support.py). Joining with every partition known avoids it; leaders do
            # not matter here (the client's snapshot is of partition ids), so a broker down does not hold it up.
            cluster = consumer._cluster
            while not self._stop_event.is_set() and len(cluster.partitions_for_topic(d.topic) or ()) \
                    < d.scenario.partitions:
                cluster.request_update()   # never blocks: the client's own thread fetches, even from a cluster down
                self._stop_event.wait(0.05)
            last_commit = time.monotonic()
            pending = False
            while not self._stop_event.is_set():
                if self.frozen:
                    self._stop_event.wait(0.2)
                    continue
                budget = self.bucket.available()
                if budget < 1:
                    self._stop_event.wait(0.05)
                    continue
                batches = consumer.poll(timeout_ms=200, max_records=int(min(500, budget)))
                n = sum(len(records) for records in batches.values())
                if n:
                    self.bucket.spend(n)
                    self.consumed += n
                    d._consumed_total += n
                    pending = True
                if pending and time.monotonic() - last_commit >= 0.5:
                    with contextlib.suppress(Exception):   # rebalancing: the next commit catches up
                        consumer.commit()
                        pending = False
                    last_commit = time.monotonic()
            if pending and not self.frozen:
                with contextlib.suppress(Exception):
                    consumer.commit()
        except Exception as error:   # a broker going away must not kill the driver
            self.error = f"{type(error).__name__}: {error}"
            log.debug("consumer %d: %s", self.index, self.error)
        finally:
            if consumer is not None:
                with contextlib.suppress(Exception):
                    consumer.close(autocommit=False)


class TrafficDriver:
    """Plays a ``TrafficScenario`` against a Kafka cluster (see the module docstring)."""

    def __init__(self, bootstrap: str, scenario: TrafficScenario, kafka: Any = None, topic: str | None = None,
                 group: str | None = None, restart_brokers: bool = False,
                 on_event: Callable[[float, str], None] | None = None) -> None:
        if scenario.brokers > 1 and (kafka is None or len(getattr(kafka, "broker_ids", [])) < scenario.brokers):
            raise ValueError(f"scenario {scenario.name} needs a local cluster of {scenario.brokers} brokers")
        self.bootstrap = bootstrap
        self.scenario = scenario
        self.kafka = kafka
        self.topic = topic or scenario.topic
        self.group = group or scenario.group
        self.restart_brokers = restart_brokers
        self.on_event = on_event
        self.events: list[tuple[float, str]] = []
        self.phase_index = -1
        self.started_at: float | None = None
        self.killed_brokers: list[int] = []
        self.produced = 0
        self._consumed_total = 0
        self._consumers: list[_Consumer] = []
        self._all_consumers: list[_Consumer] = []
        self._next_index = 0
        self._stop = threading.Event()
        self._done = threading.Event()
        # Nothing to produce until the timeline applies its first phase: the produce thread may start first, and
        # an unlimited bucket there would hand it an infinite number of messages to send.
        self._produce = _Bucket(rate=0.0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.RLock()

    # -- state for displays -------------------------------------------------------------------------------------

    @property
    def phase(self) -> Phase | None:
        i = self.phase_index
        return self.scenario.phases[i] if 0 <= i < len(self.scenario.phases) else None

    @property
    def elapsed(self) -> float:
        return 0.0 if self.started_at is None else time.monotonic() - self.started_at

    @property
    def consumed(self) -> int:
        return self._consumed_total

    @property
    def members(self) -> int:
        return len(self._consumers)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def event(self, text: str) -> None:
        t = self.elapsed
        self.events.append((t, text))
        log.info("traffic %s +%.0fs: %s", self.scenario.name, t, text)
        if self.on_event is not None:
            with contextlib.suppress(Exception):
                self.on_event(t, text)

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> TrafficDriver:
        self.create_topic()
        self.started_at = time.monotonic()
        for target in (self._produce_loop, self._timeline):
            thread = threading.Thread(target=target, name=f"traffic-{target.__name__.strip('_')}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Until the timeline's last phase has ended (the last phase keeps running until ``stop``)."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        with self._lock:
            self._consumers = []
            consumers = list(self._all_consumers)
        for consumer in consumers:
            consumer.stop()
        for consumer in consumers:
            consumer.join(timeout=30)
        if self.restart_brokers and self.killed_brokers and self.kafka is not None:
            with contextlib.suppress(Exception):
                self.kafka.restart_stopped()
            self.killed_brokers = []

    def __enter__(self) -> TrafficDriver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- pieces ---------------------------------------------------------------------------------------------------

    def create_topic(self) -> None:
        from kafka import KafkaAdminClient
        from kafka.errors import TopicAlreadyExistsError

        sc = self.scenario
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=CLIENT_ID, request_timeout_ms=30000)
        try:
            spec: dict[str, Any] = {"num_partitions": sc.partitions, "replication_factor": sc.replication}
            if sc.topic_configs:
                spec["configs"] = dict(sc.topic_configs)
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics({self.topic: spec})
            deadline = time.monotonic() + 60
            while True:
                (described,) = admin.describe_topics([self.topic])
                parts = described.get("partitions") or []
                if described.get("error_code") == 0 and len(parts) == sc.partitions and \
                        all(p["leader_id"] >= 0 for p in parts):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"topic {self.topic} has no leader for every partition: {described}")
                time.sleep(0.2)
        finally:
            admin.close()

    def _produce_loop(self) -> None:
        from kafka import KafkaProducer

        producer = None
        payload = b'{"order": "x", "amount": 42}'
        try:
            while not self._stop.is_set():
                if producer is None:
                    try:
                        producer = KafkaProducer(bootstrap_servers=self.bootstrap, client_id=f"{CLIENT_ID}-producer",
                                                 acks=1, linger_ms=20, retries=5, request_timeout_ms=15000)
                    except Exception as error:
                        self.event(f"producer cannot connect: {type(error).__name__}")
                        self._stop.wait(1.0)
                        continue
                n = int(self._produce.available())
                if n >= 1:
                    try:
                        for _ in range(n):
                            producer.send(self.topic, value=payload)
                        self._produce.spend(n)
                        self.produced += n
                    except Exception as error:
                        log.debug("produce failed: %s", error)
                self._stop.wait(0.1)
        finally:
            if producer is not None:
                with contextlib.suppress(Exception):
                    producer.close(timeout=5)

    def _timeline(self) -> None:
        try:
            for i, phase in enumerate(self.scenario.phases):
                if self._stop.is_set():
                    return
                self.phase_index = i
                self.event(f"phase {i + 1}/{len(self.scenario.phases)}: {phase.title}"
                           + (f" - {phase.note}" if phase.note else ""))
                self._apply(phase)
                for action in phase.actions:
                    self._action(action)
                end = time.monotonic() + phase.seconds
                next_churn = time.monotonic() + (phase.churn_seconds or 0)
                while not self._stop.is_set() and time.monotonic() < end:
                    if phase.churn_seconds and time.monotonic() >= next_churn:
                        self._churn(phase)
                        next_churn = time.monotonic() + phase.churn_seconds
                    self._stop.wait(0.2)
            self.event("timeline finished; the last phase keeps running")
        except Exception as error:
            self.event(f"timeline failed: {type(error).__name__}: {error}")
            log.exception("traffic timeline failed")
        finally:
            self._done.set()

    def _apply(self, phase: Phase) -> None:
        self._produce.rate = phase.produce_rate
        with self._lock:
            while len(self._consumers) > phase.consumers:
                consumer = self._consumers.pop()
                consumer.stop()
            while len(self._consumers) < phase.consumers:
                self._add_consumer(phase)
            for consumer in self._consumers:
                consumer.bucket.rate = phase.consumer_rate
                consumer.frozen = phase.frozen

    def _add_consumer(self, phase: Phase) -> None:
        consumer = _Consumer(self, self._next_index)
        self._next_index += 1
        consumer.bucket.rate = phase.consumer_rate
        consumer.frozen = phase.frozen
        consumer.start()
        self._consumers.append(consumer)
        self._all_consumers.append(consumer)

    def _churn(self, phase: Phase) -> None:
        with self._lock:
            if not self._consumers:
                return
            victim = self._consumers.pop(random.randrange(len(self._consumers)))
            victim.stop()
            self._add_consumer(phase)
        self.event(f"consumer {victim.index} crashed; consumer {self._next_index - 1} joins")

    def _action(self, action: str) -> None:
        if action == "delete_records":
            self.event(f"retention deletes every message of {self.topic} up to the log end "
                       f"(delete_records past the committed offset of {self.group})")
            self.delete_records()
        elif action == "kill_broker":
            victim = self.busiest_broker()
            self.event(f"broker {victim} crashes (SIGKILL)")
            self.kafka.kill_broker(victim)
            self.killed_brokers.append(victim)
        elif action == "start_broker":
            for broker in list(self.killed_brokers):
                self.event(f"broker {broker} restarts")
                self.kafka.start_broker(broker, wait=False)
                self.killed_brokers.remove(broker)
        else:
            raise ValueError(f"unknown action {action!r}")

    def delete_records(self) -> None:
        from kafka import KafkaAdminClient
        from kafka.structs import TopicPartition

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=CLIENT_ID)
        try:
            tps = [TopicPartition(self.topic, p) for p in range(self.scenario.partitions)]
            ends = admin.list_partition_offsets({tp: -1 for tp in tps})
            targets = {tp: _offset(info) for tp, info in ends.items()}
            admin.delete_records({tp: o for tp, o in targets.items() if o > 0})
        finally:
            admin.close()

    def busiest_broker(self) -> int:
        """The broker leading most partitions of the topic, never the one the bootstrap list starts with."""
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=CLIENT_ID)
        try:
            (described,) = admin.describe_topics([self.topic])
        finally:
            admin.close()
        counts: dict[int, int] = {}
        for p in described.get("partitions") or []:
            counts[p["leader_id"]] = counts.get(p["leader_id"], 0) + 1
        live = list(self.kafka.live_broker_ids)
        candidates = [b for b in live if b != live[0]] or live
        return max(candidates, key=lambda b: (counts.get(b, 0), b))


def _offset(info: Any) -> int:
    for attr in ("offset",):
        if hasattr(info, attr):
            return int(getattr(info, attr))
    if isinstance(info, tuple):
        return int(info[0])
    return int(info)
