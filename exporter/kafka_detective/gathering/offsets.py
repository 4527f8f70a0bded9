"""Offsets phase: log-end offsets of every partition each cycle, log-start offsets every minute.

One ListOffsets request per leader broker and offset spec, routed by the leaders this cycle's metadata reported
and all sent at once (`kafka.list_offsets`), whatever the number of partitions. Offline partitions are not
asked: they have no leader.

Log-end offsets are read every cycle: lag is computed from them and must be exact. Log-start offsets move only
when retention or DeleteRecords removes the head of a log, and feed the oldest-offset series and the
lost-messages signal; they are read every `LOG_START_REFRESH_SECONDS` (60 s), and in between for the partitions
that need it at once: a partition without a log-start offset yet (new, or a failed read), and one whose log-end
offset fell below the log-start offset kept (a topic deleted and re-created, a truncated log). So a
DeleteRecords or a retention pass shows on `kafka_topic_partition_oldest_offset` and
`kafka_consumergroup_lost_messages` within a minute, not within a cycle; this halves the offsets requests of
most cycles (at 10,000 partitions a ListOffsets answer is ~10,000 Python objects to build and decode).

A leader that fails its request (unreachable, or any partition error such as a leader that moved) keeps the
previous offsets of its partitions, and the phase counts as failed (the error counter and the log say which
leader); the other leaders' partitions are fresh. Offline partitions keep their previous offsets without
failing the phase: nothing can change them until a leader is elected.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from kafka_detective.gathering.snapshot import ClusterState, Offsets, PartialResult, TopicPartition
from kafka_detective.kafka.list_offsets import EARLIEST, LATEST, LeaderOffsets, list_offsets

# Longest age of a log-start offset (seconds). Retention deletes whole segments, typically hours apart.
LOG_START_REFRESH_SECONDS = 60.0


def _partial(offsets: Offsets, failures: dict[int, BaseException]) -> PartialResult:
    leaders = ", ".join(f"{leader}: {error!r}" for leader, error in sorted(failures.items()))
    return PartialResult(f"ListOffsets failed for leader(s) {leaders}", offsets, failures)


def _apply(answers: dict[int, LeaderOffsets], into: dict[TopicPartition, int],
           failures: dict[int, BaseException]) -> None:
    for leader, answer in answers.items():
        if answer.error is not None:
            failures.setdefault(leader, answer.error)
        else:
            into.update(answer.offsets)


def collect_offsets(admin: Any, state: ClusterState, previous: Offsets | None = None) -> Offsets:
    now = time.time()
    by_leader: dict[int, list[TopicPartition]] = defaultdict(list)
    for key, partition in state.partitions.items():
        if partition.leader >= 0:
            by_leader[partition.leader].append(key)
    # An offline partition accepts no writes and deletes nothing, so its last offsets read are still its offsets:
    # they stay (with its lag series) instead of vanishing while a restarted cluster elects leaders. Every
    # partition keeps its previous offsets until a leader answers for it.
    known_end = previous.log_end if previous is not None else {}
    known_start = previous.log_start if previous is not None else {}
    log_end = {k: known_end[k] for k in state.partitions if k in known_end}
    log_start = {k: known_start[k] for k in state.partitions if k in known_start}
    start_due = previous is None or now - previous.log_start_collected_at >= LOG_START_REFRESH_SECONDS
    starts = by_leader if start_due else {
        leader: [k for k in keys if k not in known_start] for leader, keys in by_leader.items()}
    answers = list_offsets(admin, {LATEST: by_leader, EARLIEST: starts})
    failures: dict[int, BaseException] = {}
    _apply(answers[LATEST], log_end, failures)
    _apply(answers[EARLIEST], log_start, failures)
    fresh_starts = {k for answer in answers[EARLIEST].values() for k in answer.offsets}
    behind = defaultdict(list)  # a log-start offset kept but above the log end: the log was cut or re-created
    for leader, keys in by_leader.items():
        behind[leader] = [k for k in keys if k not in fresh_starts and k in log_start and k in log_end
                          and log_end[k] < log_start[k]]
    if any(behind.values()):
        _apply(list_offsets(admin, {EARLIEST: behind})[EARLIEST], log_start, failures)
    start_read_at = now if start_due and not failures else (previous.log_start_collected_at if previous else 0.0)
    offsets = Offsets(log_end=log_end, log_start=log_start, collected_at=time.time(),
                      log_start_collected_at=start_read_at)
    if failures:
        raise _partial(offsets, failures)
    return offsets
