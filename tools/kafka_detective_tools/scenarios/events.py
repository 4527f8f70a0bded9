"""Scenario events: what happens to the simulated cluster and when, one typed class per kind.

Scenarios (the library in `simulator.py`, the families in `families.py`) write their events as `Event` records:
a kind, a window, a target and a dict of parameters, as a scenario file would hold them. `parse_events` turns a
scenario's records into the typed events below, in one place, and an error names the event and its wrong field.
Every typed event knows its target (a topic, a group or a broker id) and applies itself to one simulation step
(`Step`), in the order the scenario lists them: the simulator's random draws, and so its traces, depend on it.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from kafka_detective_tools.scenarios.simulator import Scenario, _GroupState, _TopicState

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0


@dataclass
class Event:
    """An event as a scenario writes it; `parse_events` checks it and makes it one of the typed events."""

    kind: str                 # a key of EVENT_KINDS
    onset: float              # seconds since the start of the trace
    end: float
    target: str = ""          # group, topic or broker id (as text), depending on kind
    params: dict = field(default_factory=dict)


class ScenarioError(ValueError):
    """A scenario's event is malformed: the message names the scenario, the event and the field."""


def ramp(t: float, onset: float, end: float) -> float:
    """0 before `onset`, 1 after `end`, linear in between."""
    if t <= onset:
        return 0.0
    if t >= end:
        return 1.0
    return (t - onset) / (end - onset)


@dataclass
class Step:
    """One simulation step as the events see it: the time, the cluster, and the effects the events gather.

    The effect fields start neutral at every step; the simulator reads them after every event has been applied.
    """

    rel: float                            # seconds since the start of the trace
    t: float                              # absolute time
    length: float                         # the scenario's step
    rng: random.Random
    topics: dict[str, _TopicState]
    groups: dict[str, _GroupState]
    brokers: tuple[int, ...]
    disk_base: list[float]                # each broker's disk usage (ratio) without events
    disk_used: list[float]                # each broker's disk usage (ratio) this step
    cpu: dict[str, float]                 # group -> consumer CPU ratio before the consumption's own load
    produce_mult: dict[str, float] = field(init=False)   # topic -> produce rate multiplier
    extra_produce: dict[str, float] = field(init=False)  # topic -> messages re-produced this step (retries)
    offline_partitions: dict[str, set[int]] = field(init=False)   # topic -> partitions without a leader
    cap_mult: dict[str, float] = field(init=False)       # group -> consumer capacity multiplier
    members: dict[str, int] = field(init=False)
    state: dict[str, str] = field(init=False)
    stalled: dict[str, bool] = field(init=False)         # group -> committed offset frozen
    new_rebalance: dict[str, int] = field(init=False)    # group -> rebalances starting this step
    frozen: dict[str, dict[int, float]] = field(default_factory=dict)   # group -> partition -> share consumed
    skew_share: float = 0.7               # leader share of the skewed broker
    skew: int | None = None               # the broker leading most partitions, if any
    down_now: set[int] = field(default_factory=set)
    election_now: list[tuple[str, int]] = field(default_factory=list)   # (topic, partition) electing a leader

    def __post_init__(self) -> None:
        self.produce_mult = {name: 1.0 for name in self.topics}
        self.extra_produce = {name: 0.0 for name in self.topics}
        self.offline_partitions = {name: set() for name in self.topics}
        self.cap_mult = {name: 1.0 for name in self.groups}
        self.members = {name: gs.spec.members for name, gs in self.groups.items()}
        self.state = {name: "Stable" for name in self.groups}
        self.stalled = {name: False for name in self.groups}
        self.new_rebalance = {name: 0 for name in self.groups}

    def starts(self, onset: float) -> bool:
        """Whether an event with this onset starts during this step."""
        return onset <= self.rel < onset + self.length


# --- the typed events ---------------------------------------------------------------------------------------
# The first field after onset and end is the target: `topic`, `group` or `broker`; the others are the parameters.


@dataclass(frozen=True)
class ScenarioEvent:
    onset: float
    end: float
    # When `apply` runs: "active" from the onset until the end, "since_onset" from the onset on (the effect
    # outlasts the end), "start" at the step the event starts only.
    WINDOW: ClassVar[str] = "active"

    def applies(self, step: Step) -> bool:
        if self.WINDOW == "active":
            return self.onset <= step.rel < self.end
        if self.WINDOW == "since_onset":
            return step.rel >= self.onset
        return step.starts(self.onset)

    def apply(self, step: Step) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Produce(ScenarioEvent):
    """A producer spike or batch: the topic's rate times `factor`, reached linearly over `ramp` seconds."""

    topic: str
    factor: float
    ramp: float = 0.0

    def apply(self, step: Step) -> None:
        f = min(1.0, (step.rel - self.onset) / self.ramp) if self.ramp else 1.0
        step.produce_mult[self.topic] *= 1.0 + (self.factor - 1.0) * f


@dataclass(frozen=True)
class ProduceGrowth(ScenarioEvent):
    """A slow growth of the produce rate, `per_hour` of the base rate per hour; it stays after the end."""

    WINDOW: ClassVar[str] = "since_onset"
    topic: str
    per_hour: float

    def apply(self, step: Step) -> None:
        step.produce_mult[self.topic] *= 1.0 + self.per_hour * (min(step.rel, self.end) - self.onset) / HOUR


@dataclass(frozen=True)
class Capacity(ScenarioEvent):
    """A consumer slowdown: capacity times `factor` (over `ramp` seconds if given), CPU towards `cpu` if given."""

    group: str
    factor: float
    ramp: float = 0.0
    cpu: float | None = None

    def apply(self, step: Step) -> None:
        f = ramp(step.rel, self.onset, self.onset + self.ramp) if self.ramp else 1.0
        step.cap_mult[self.group] *= 1.0 + (self.factor - 1.0) * f
        if self.cpu is not None:
            step.cpu[self.group] = step.cpu[self.group] + (self.cpu - step.cpu[self.group]) * f


@dataclass(frozen=True)
class DeathSpiral(ScenarioEvent):
    """Consumers slow down as their backlog grows: capacity times factor / (1 + lag / lag_scale), for good."""

    WINDOW: ClassVar[str] = "since_onset"
    group: str
    factor: float
    lag_scale: float

    def apply(self, step: Step) -> None:
        g = step.groups[self.group]
        lag = step.topics[g.spec.topic].log_end - g.consumed
        step.cap_mult[self.group] *= self.factor / (1.0 + max(0.0, lag) / self.lag_scale)


@dataclass(frozen=True)
class Down(ScenarioEvent):
    """Every consumer of the group stops: the group is Empty."""

    group: str

    def apply(self, step: Step) -> None:
        step.members[self.group] = 0
        step.state[self.group] = "Empty"
        step.cap_mult[self.group] = 0.0


@dataclass(frozen=True)
class Stall(ScenarioEvent):
    """Members stay in the group but consume and commit nothing (a poison message)."""

    group: str

    def apply(self, step: Step) -> None:
        step.stalled[self.group] = True


@dataclass(frozen=True)
class RebalanceStorm(ScenarioEvent):
    """The group rebalances every `min_gap`-`max_gap` seconds, losing members, at `factor` of its capacity."""

    group: str
    factor: float = 0.6
    min_gap: float = 30.0
    max_gap: float = 90.0

    def apply(self, step: Step) -> None:
        g = step.groups[self.group]
        t, rng = step.t, step.rng
        if g.next_storm_rebalance is None or g.next_storm_rebalance < t - self.max_gap:
            g.next_storm_rebalance = t
        if t >= g.next_storm_rebalance:
            step.new_rebalance[self.group] += 1
            g.rebalance_until = t + rng.uniform(20, 45)
            g.next_storm_rebalance = t + rng.uniform(self.min_gap, self.max_gap)
        step.cap_mult[self.group] *= self.factor
        step.members[self.group] = max(1, g.spec.members - rng.choice((0, 1, 1, 2)))


@dataclass(frozen=True)
class Deploy(ScenarioEvent):
    """A rolling restart: two quick rebalances."""

    WINDOW: ClassVar[str] = "start"
    group: str

    def apply(self, step: Step) -> None:
        step.new_rebalance[self.group] += 2
        step.groups[self.group].rebalance_until = step.t + 20


@dataclass(frozen=True)
class Elections(ScenarioEvent):
    """Repeated leader elections on the topic (`per_step`: chance of one per step); its consumers at `factor`."""

    topic: str
    per_step: float = 0.4
    factor: float = 0.35

    def apply(self, step: Step) -> None:
        rng = step.rng
        if step.starts(self.onset) or rng.random() < self.per_step:
            for _ in range(rng.randint(1, 3)):
                step.election_now.append((self.topic, rng.randrange(step.topics[self.topic].spec.partitions)))
        for gname, g in step.groups.items():
            if g.spec.topic == self.topic:
                step.cap_mult[gname] *= self.factor


@dataclass(frozen=True)
class BrokerDown(ScenarioEvent):
    """The broker fails: every group rebalances and runs at `factor`; its partitions are offline for a while."""

    broker: int
    factor: float = 0.5
    offline_seconds: float = 120.0

    def apply(self, step: Step) -> None:
        step.down_now.add(self.broker)
        starts = step.starts(self.onset)
        for gname in step.groups:
            step.cap_mult[gname] *= self.factor
            if starts:
                step.new_rebalance[gname] += 1 + step.rng.randrange(2)
                step.groups[gname].rebalance_until = step.t + step.rng.uniform(30, 90)
        if step.rel < self.onset + self.offline_seconds:
            for tname, ts in step.topics.items():
                step.offline_partitions[tname] = {i for i, b in enumerate(ts.leaders) if b == self.broker}


@dataclass(frozen=True)
class Skew(ScenarioEvent):
    """The broker leads `share` of the partitions and becomes the bottleneck: every group at `factor`."""

    broker: int
    share: float = 0.7
    factor: float = 0.55
    ramp: float = 0.0

    def apply(self, step: Step) -> None:
        step.skew = self.broker
        step.skew_share = self.share
        for gname in step.groups:
            step.cap_mult[gname] *= 1.0 - (1.0 - self.factor) * ramp(step.rel, self.onset, self.onset + self.ramp)


@dataclass(frozen=True)
class Disk(ScenarioEvent):
    """The broker's disk fills up to `to` by the end (and stays); past 90 % every group runs at `factor`."""

    WINDOW: ClassVar[str] = "since_onset"
    broker: int
    to: float
    factor: float = 0.5

    def apply(self, step: Step) -> None:
        b = step.brokers.index(self.broker)
        f = ramp(step.rel, self.onset, self.end)
        step.disk_used[b] = step.disk_base[b] + (self.to - step.disk_base[b]) * f
        if step.disk_used[b] > 0.9:
            for gname in step.groups:
                step.cap_mult[gname] *= self.factor


@dataclass(frozen=True)
class Retention(ScenarioEvent):
    """The topic's retention becomes `seconds`."""

    WINDOW: ClassVar[str] = "start"
    topic: str
    seconds: float

    def apply(self, step: Step) -> None:
        step.topics[self.topic].retention = self.seconds


@dataclass(frozen=True)
class PartialStall(ScenarioEvent):
    """A few partitions frozen, the others move."""

    group: str
    partitions: tuple[int, ...]

    def apply(self, step: Step) -> None:
        step.frozen.setdefault(self.group, {}).update({i: 0.0 for i in self.partitions})


@dataclass(frozen=True)
class SlowPartition(ScenarioEvent):
    """One partition consumed at `share` of its part."""

    group: str
    partition: int
    share: float = 0.5

    def apply(self, step: Step) -> None:
        step.frozen.setdefault(self.group, {})[self.partition] = self.share


@dataclass(frozen=True)
class RetrySpiral(ScenarioEvent):
    """Failed messages are re-produced to the topic; the bigger the backlog, the more time out (up to max_fail)."""

    group: str
    lag_scale: float
    fail: float = 0.2
    max_fail: float = 0.8
    factor: float = 0.7

    def apply(self, step: Step) -> None:
        g = step.groups[self.group]
        lag = max(0.0, step.topics[g.spec.topic].log_end - g.consumed)
        fail = min(self.max_fail, self.fail + lag / self.lag_scale)
        step.extra_produce[g.spec.topic] += fail * g.last_consumed
        step.cap_mult[self.group] *= self.factor


@dataclass(frozen=True)
class Rebalance(ScenarioEvent):
    """One rebalance (a decoy: a member restarted)."""

    WINDOW: ClassVar[str] = "start"
    group: str

    def apply(self, step: Step) -> None:
        step.new_rebalance[self.group] += 1
        step.groups[self.group].rebalance_until = step.t + 15


@dataclass(frozen=True)
class Cpu(ScenarioEvent):
    """The consumers' CPU busy at `to` or more, throughput unaffected (a decoy)."""

    group: str
    to: float

    def apply(self, step: Step) -> None:
        step.cpu[self.group] = max(step.cpu[self.group], self.to)


EVENT_KINDS: dict[str, type[ScenarioEvent]] = {
    "produce": Produce,
    "produce_growth": ProduceGrowth,
    "capacity": Capacity,
    "death_spiral": DeathSpiral,
    "down": Down,
    "stall": Stall,
    "rebalance_storm": RebalanceStorm,
    "deploy": Deploy,
    "elections": Elections,
    "broker_down": BrokerDown,
    "skew": Skew,
    "disk": Disk,
    "retention": Retention,
    "partial_stall": PartialStall,
    "slow_partition": SlowPartition,
    "retry_spiral": RetrySpiral,
    "rebalance": Rebalance,
    "cpu": Cpu,
}


# --- parsing ------------------------------------------------------------------------------------------------


def _number(value: Any) -> float:
    # kept as given (an int stays an int): a retention in seconds is emitted as written
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TypeError(f"expected an integer, got {value!r}") from None


def _integers(value: Any) -> tuple[int, ...]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise TypeError(f"expected a list of integers, got {value!r}")
    return tuple(_integer(v) for v in value)


# parameter annotation (as text: annotations are postponed) -> check and conversion
_PARAMETER: dict[str, Callable[[Any], Any]] = {
    "float": _number,
    "float | None": _number,
    "int": _integer,
    "tuple[int, ...]": _integers,
}


def parse_event(record: Event, sc: Scenario) -> ScenarioEvent:
    """The typed event of `record`; ScenarioError naming the field when the kind, target or a parameter is wrong."""
    cls = EVENT_KINDS.get(record.kind)
    if cls is None:
        raise ScenarioError(f"kind: unknown event kind {record.kind!r} (known: {', '.join(EVENT_KINDS)})")
    try:
        onset, end = _number(record.onset), _number(record.end)
    except TypeError as error:
        raise ScenarioError(f"onset/end: {error}") from None
    target_field, *parameters = [f for f in dataclasses.fields(cls) if f.name not in ("onset", "end")]
    values: dict[str, Any] = {"onset": onset, "end": end}
    if target_field.name == "broker":
        try:
            values["broker"] = int(record.target)
        except ValueError:
            raise ScenarioError(f"target: expected a broker id, got {record.target!r}") from None
        if values["broker"] not in sc.brokers:
            raise ScenarioError(f"target: no broker {record.target} (brokers: {list(sc.brokers)})")
    else:
        known = [t.name for t in sc.topics] if target_field.name == "topic" else [g.name for g in sc.groups]
        if record.target not in known:
            raise ScenarioError(f"target: no {target_field.name} {record.target!r} (known: {', '.join(known)})")
        values[target_field.name] = record.target
    names = {f.name for f in parameters}
    unknown = sorted(set(record.params) - names)
    if unknown:
        raise ScenarioError(f"params.{unknown[0]}: not a parameter of {record.kind} (parameters: "
                            f"{', '.join(sorted(names)) or 'none'})")
    for f in parameters:
        if f.name not in record.params:
            if f.default is dataclasses.MISSING:
                raise ScenarioError(f"params.{f.name}: missing (required by {record.kind})")
            continue
        try:
            values[f.name] = _PARAMETER[str(f.type)](record.params[f.name])
        except TypeError as error:
            raise ScenarioError(f"params.{f.name}: {error}") from None
    return cls(**values)


def parse_events(sc: Scenario) -> list[ScenarioEvent]:
    """The scenario's events, typed and in their order; ScenarioError names the scenario, event and field."""
    events = []
    for i, record in enumerate(sc.events):
        try:
            events.append(parse_event(record, sc))
        except ScenarioError as error:
            raise ScenarioError(f"scenario {sc.name!r}, event {i} ({record.kind}): {error}") from None
    return events
