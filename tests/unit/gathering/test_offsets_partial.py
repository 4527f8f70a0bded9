"""ListOffsets per leader: a failing leader keeps its previous offsets, and log-start offsets are read every
`LOG_START_REFRESH_SECONDS` (sooner for a partition that needs it), log-end offsets every cycle."""

import pytest

from kafka_detective.gathering import offsets as offsets_module
from kafka_detective.gathering.offsets import LOG_START_REFRESH_SECONDS, collect_offsets
from kafka_detective.gathering.snapshot import ClusterState, Offsets, PartialResult, PartitionState

from .kafka_fakes import TOPIC, FakeAdmin, FakeKafka


def state_of(kafka: FakeKafka) -> ClusterState:
    return ClusterState((), 1, {(TOPIC, p): PartitionState(TOPIC, p, leader, 0, (leader,), (leader,), ())
                                for p, (leader, _) in kafka.partitions.items()}, 0.0)


def list_offsets_sent(kafka: FakeKafka) -> int:
    return sum(1 for api, _ in kafka.sent if api == "ListOffsetsRequest")


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1_767_000_000.0
        monkeypatch.setattr(offsets_module.time, "time", lambda: self.now)


def test_partial_offsets_keep_fresh_and_previous_values():
    kafka = FakeKafka(partitions={0: (1, 100), 1: (2, 200)})
    admin = FakeAdmin(kafka)
    kafka.live = {1}  # leader 2 refuses connections
    previous = Offsets({(TOPIC, 0): 50, (TOPIC, 1): 60}, {(TOPIC, 0): 5, (TOPIC, 1): 6}, 0.0)
    with pytest.raises(PartialResult) as partial:
        collect_offsets(admin, state_of(kafka), previous)
    offsets = partial.value.value
    assert offsets.log_end == {(TOPIC, 0): 100, (TOPIC, 1): 60}
    assert offsets.log_start == {(TOPIC, 0): 0, (TOPIC, 1): 6}
    assert "leader(s) 2" in str(partial.value)


def test_log_start_offsets_are_read_every_refresh_period_log_end_offsets_every_cycle(monkeypatch):
    clock = Clock(monkeypatch)
    kafka = FakeKafka()
    admin, state = FakeAdmin(kafka), state_of(kafka)
    first = collect_offsets(admin, state)
    assert list_offsets_sent(kafka) == 6  # latest and earliest, one request each per leader
    kafka.log_start = 7
    kafka.partitions = {p: (leader, end + 10) for p, (leader, end) in kafka.partitions.items()}
    clock.now += LOG_START_REFRESH_SECONDS - 1
    second = collect_offsets(admin, state, first)
    assert list_offsets_sent(kafka) == 9  # latest only
    assert second.log_end == {(TOPIC, 0): 110, (TOPIC, 1): 210, (TOPIC, 2): 310}
    assert second.log_start == first.log_start == {(TOPIC, 0): 0, (TOPIC, 1): 0, (TOPIC, 2): 0}
    clock.now += 1
    third = collect_offsets(admin, state, second)
    assert list_offsets_sent(kafka) == 15
    assert third.log_start == {(TOPIC, 0): 7, (TOPIC, 1): 7, (TOPIC, 2): 7}
    assert third.log_start_collected_at == clock.now


def test_a_new_partition_and_a_log_cut_below_its_kept_start_are_read_at_once(monkeypatch):
    Clock(monkeypatch)
    kafka = FakeKafka(partitions={0: (1, 100), 1: (1, 200)}, log_start=40)
    admin = FakeAdmin(kafka)
    first = collect_offsets(admin, state_of(kafka))
    kafka.partitions = {0: (1, 100), 1: (1, 20), 2: (1, 300)}  # partition 1 re-created, partition 2 added
    kafka.log_start = 3
    second = collect_offsets(admin, state_of(kafka), first)
    assert second.log_start == {(TOPIC, 0): 40, (TOPIC, 1): 3, (TOPIC, 2): 3}
    assert second.log_start_collected_at == first.log_start_collected_at
