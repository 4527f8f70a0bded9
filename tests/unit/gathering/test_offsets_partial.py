"""When one leader fails, the others' offsets are fresh and the failing leader's keep their previous values."""

import pytest
from kafka.structs import OffsetAndTimestamp

from kafka_detective.gathering.offsets import collect_offsets
from kafka_detective.gathering.snapshot import ClusterState, Offsets, PartialResult, PartitionState


class OneLeaderDown:
    """Answers ListOffsets like kafka-python: the whole call fails if any partition's leader (2) is down."""

    def list_partition_offsets(self, specs):
        if any(tp.partition == 1 for tp in specs):
            raise ConnectionError("leader 2 unreachable")
        return {tp: OffsetAndTimestamp(100 if spec == -1 else 10, -1, None) for tp, spec in specs.items()}


def test_partial_offsets_keep_fresh_and_previous_values():
    state = ClusterState((), 1, {("t", 0): PartitionState("t", 0, 1, 0, (1,), (1,), ()),
                                 ("t", 1): PartitionState("t", 1, 2, 0, (2,), (2,), ())}, 0.0)
    previous = Offsets({("t", 0): 50, ("t", 1): 60}, {("t", 0): 5, ("t", 1): 6}, 0.0)
    with pytest.raises(PartialResult) as partial:
        collect_offsets(OneLeaderDown(), state, previous)
    offsets = partial.value.value
    assert offsets.log_end == {("t", 0): 100, ("t", 1): 60}
    assert offsets.log_start == {("t", 0): 10, ("t", 1): 6}
    assert "leader(s) 2" in str(partial.value)
