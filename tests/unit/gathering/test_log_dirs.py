"""Log-dirs phase: DescribeLogDirs answers become one LogDir per broker directory."""

from __future__ import annotations

import kafka.errors as Errors
import pytest

from kafka_detective.gathering.log_dirs import collect_log_dirs
from kafka_detective.gathering.snapshot import LogDir

from .kafka_fakes import FakeAdmin, FakeKafka, LogDirAnswer

STORAGE_ERROR = Errors.KafkaStorageError.errno


def test_sizes_are_summed_per_directory_and_sorted_by_broker_and_path():
    kafka = FakeKafka(log_dirs={
        2: [LogDirAnswer("/b", (5, 6), total_bytes=1000, usable_bytes=400)],
        1: [LogDirAnswer("/z", (1, 2, 3), total_bytes=2000, usable_bytes=1500), LogDirAnswer("/a", ())],
    })
    dirs = collect_log_dirs(FakeAdmin(kafka)).dirs
    assert dirs == (
        LogDir(1, "/a", 0, None, None, False),   # -1 volume sizes (before KIP-827): no series, not a fake 0
        LogDir(1, "/z", 6, 2000, 1500, False),
        LogDir(2, "/b", 11, 1000, 400, False),
    )


def test_a_directory_the_broker_reports_in_error_is_flagged_and_the_others_are_kept():
    kafka = FakeKafka(log_dirs={1: [LogDirAnswer("/ok", (7,)), LogDirAnswer("/failed", (), error_code=STORAGE_ERROR)],
                                3: [LogDirAnswer("/ok", (9,))]})
    dirs = {(d.broker_id, d.path): d for d in collect_log_dirs(FakeAdmin(kafka)).dirs}
    assert dirs[(1, "/failed")].error is True
    assert (dirs[(1, "/ok")].error, dirs[(1, "/ok")].size_bytes) == (False, 7)
    assert (dirs[(3, "/ok")].error, dirs[(3, "/ok")].size_bytes) == (False, 9)


def test_a_broker_that_does_not_answer_fails_the_whole_phase():
    """kafka-python asks the brokers one after another and raises on the first failure: nothing partial comes
    back, so the cycle keeps the previous log dirs and counts an error."""
    kafka = FakeKafka(log_dirs={1: [LogDirAnswer("/d", (1,))], 2: [LogDirAnswer("/d", (2,))]})
    admin = FakeAdmin(kafka)
    kafka.live = {1, 3}
    with pytest.raises(Errors.KafkaConnectionError):
        collect_log_dirs(admin)
