"""Kafka's own command-line tools: output parsing (recorded 4.4.0 output) and runs against a real broker."""

# The recorded tool output below is kept verbatim, wide columns and trailing padding included.
# ruff: noqa: E501, W291

from __future__ import annotations

import time

import pytest
from kafka import KafkaAdminClient, TopicPartition

from kafka_detective_tools.sandbox import kafka_tools
from kafka_detective_tools.sandbox.local_kafka import LocalKafka

# Recorded from kafka-consumer-groups 4.4.0. The stderr preamble is folded in: older releases print it on stdout.
OFFSETS_NO_MEMBERS = """
Consumer group 'g1' has no active members.

GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
g1              t1              0          0               10              10              -               -               -
g1              t1              1          -               10              -               -               -               -
"""

OFFSETS_WITH_MEMBER = """
GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                              HOST            CLIENT-ID
g1              t1              0          0               10              10              kafka-python-3.0.12-67f22a19-02fa-4047-940f-e0bdc4a8ce0e /127.0.0.1      kafka-python-3.0.12
g1              t1              2          10              10              0               kafka-python-3.0.12-67f22a19-02fa-4047-940f-e0bdc4a8ce0e /127.0.0.1      kafka-python-3.0.12
"""

STATE_VERBOSE = """
GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                GROUP-EPOCH     TARGET-ASSIGNMENT-EPOCH   #MEMBERS
g848            127.0.0.1:48015  (1)      uniform              Stable               2               2                         1
"""

MEMBERS_VERBOSE = """
GROUP           CONSUMER-ID            HOST            CLIENT-ID        #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   
g848            O2O2pStrTneZ64O2NpcN9A /127.0.0.1      console-consumer 3               2               t1:0,1,2             2               t1:0,1,2            
"""


def test_parse_offsets_without_members() -> None:
    rows = kafka_tools.parse_table(OFFSETS_NO_MEMBERS)
    assert rows == [
        {"GROUP": "g1", "TOPIC": "t1", "PARTITION": 0, "CURRENT-OFFSET": 0, "LOG-END-OFFSET": 10, "LAG": 10,
         "CONSUMER-ID": None, "HOST": None, "CLIENT-ID": None},
        {"GROUP": "g1", "TOPIC": "t1", "PARTITION": 1, "CURRENT-OFFSET": None, "LOG-END-OFFSET": 10, "LAG": None,
         "CONSUMER-ID": None, "HOST": None, "CLIENT-ID": None},
    ]  # fmt: skip


def test_parse_offsets_with_member() -> None:
    rows = kafka_tools.parse_table(OFFSETS_WITH_MEMBER)
    assert [r["PARTITION"] for r in rows] == [0, 2]
    assert rows[0]["CONSUMER-ID"] == "kafka-python-3.0.12-67f22a19-02fa-4047-940f-e0bdc4a8ce0e"
    assert rows[0]["HOST"] == "/127.0.0.1" and rows[1]["CLIENT-ID"] == "kafka-python-3.0.12"


def test_parse_state_keeps_coordinator_whole() -> None:
    (row,) = kafka_tools.parse_table(STATE_VERBOSE)
    assert row["COORDINATOR (ID)"] == "127.0.0.1:48015  (1)"
    assert row["STATE"] == "Stable" and row["#MEMBERS"] == 1 and row["TARGET-ASSIGNMENT-EPOCH"] == 2


def test_parse_members_verbose() -> None:
    (row,) = kafka_tools.parse_table(MEMBERS_VERBOSE)
    assert row["CLIENT-ID"] == "console-consumer" and row["#PARTITIONS"] == 3
    assert row["CURRENT-ASSIGNMENT"] == "t1:0,1,2" and row["TARGET-ASSIGNMENT"] == "t1:0,1,2"


def test_parse_falls_back_to_whitespace_when_columns_do_not_line_up() -> None:
    text = (
        "GROUP  COORDINATOR (ID)  ASSIGNMENT-STRATEGY  STATE  #MEMBERS\n"
        "a-much-longer-group-name 10.0.0.1:9092  (7) range Stable 3\n"
    )
    (row,) = kafka_tools.parse_table(text)
    assert row == {"GROUP": "a-much-longer-group-name", "COORDINATOR (ID)": "10.0.0.1:9092 (7)",
                   "ASSIGNMENT-STRATEGY": "range", "STATE": "Stable", "#MEMBERS": 3}  # fmt: skip


def test_error_lines_are_failures_even_with_exit_code_zero() -> None:
    out = (
        "\nError: Deletion of some consumer groups failed:\n"
        "* Group 'g' could not be deleted due to: org.apache.kafka.common.errors.GroupIdNotFoundException: x\n"
    )
    assert "GroupIdNotFoundException" in (kafka_tools._error_text(out) or "")
    assert kafka_tools._error_text(OFFSETS_NO_MEMBERS) is None


@pytest.mark.kafka
def test_unknown_group_raises_group_not_found(kafka: LocalKafka) -> None:
    with pytest.raises(kafka_tools.GroupNotFoundError):
        kafka_tools.describe_group_offsets(kafka.bootstrap_servers, "no-such-group")
    with pytest.raises(kafka_tools.GroupNotFoundError):
        kafka_tools.delete_group(kafka.bootstrap_servers, "no-such-group")


@pytest.mark.kafka
def test_produce_spreads_messages_round_robin(kafka: LocalKafka, new_topic) -> None:
    topic = new_topic("produce", partitions=3)
    kafka_tools.produce(kafka.bootstrap_servers, topic, 10)
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    try:
        ends = admin.list_partition_offsets({TopicPartition(topic, p): -1 for p in range(3)})
    finally:
        admin.close()
    assert sorted(_offset(v) for v in ends.values()) == [3, 3, 4]


def _offset(value: object) -> int:
    # kafka-python returns an OffsetAndTimestamp-like tuple or a dict depending on the request version.
    if isinstance(value, dict):
        return int(value["offset"])
    return int(getattr(value, "offset", value))  # type: ignore[arg-type]


@pytest.mark.kafka
def test_classic_console_consumer_joins_and_is_killable(kafka: LocalKafka, new_topic) -> None:
    bootstrap = kafka.bootstrap_servers
    topic = new_topic("classic", partitions=1)
    group = f"gc-{topic}"
    kafka_tools.produce(bootstrap, topic, 5)
    proc = kafka_tools.start_console_consumer(bootstrap, topic, group, protocol="classic")
    try:
        deadline = time.monotonic() + 60
        state: dict = {}
        while time.monotonic() < deadline:
            try:
                state = kafka_tools.describe_group_state(bootstrap, group)
            except kafka_tools.GroupNotFoundError:
                state = {}
            if state.get("state") == "Stable":
                break
            time.sleep(0.5)
        assert state.get("state") == "Stable" and state["assignment_strategy"] == "range", state
        assert kafka_tools.list_groups(bootstrap)[group]["type"] == "Classic"
    finally:
        proc.kill()  # SIGKILL: must not hang the test; the member then expires with its session
        proc.wait(10)
    assert proc.returncode == -9
