"""Kafka's own command-line tools, run from the sandbox's classpath, as an independent reference.

Tests compare what the exporter computes with what ``kafka-consumer-groups`` says, and start KIP-848 consumers
with Kafka's console consumer (kafka-python cannot speak the ``consumer`` group protocol).

Gotchas of the 4.x tools handled here:

- ``ConsumerGroupCommand`` exits 0 even when it fails; the failure is an ``Error: ...`` line on stdout.
- "Consumer group 'x' has no active members." is printed (to stderr in 4.4, to stdout in older releases) before
  the table; absent values are ``-``.
- Columns are padded to the widest value, and ``COORDINATOR (ID)`` holds a space in both header and values
  (``127.0.0.1:9092  (1)``), so rows are cut at the header's column positions, not split on whitespace.
- The console consumer's ``--consumer-property`` is deprecated in 4.x in favour of ``--command-property``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kafka_detective_tools.sandbox.kafka_distribution import (
    ensure_kafka_distribution,
    find_java,
    java_command,
)

CONSUMER_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer"
TOOL_HEAP = "256m"

OFFSET_COLUMNS = (
    "GROUP",
    "TOPIC",
    "PARTITION",
    "CURRENT-OFFSET",
    "LOG-END-OFFSET",
    "LAG",
    "CONSUMER-ID",
    "HOST",
    "CLIENT-ID",
)
_INT_COLUMNS = frozenset(
    {"PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "#MEMBERS", "#PARTITIONS", "GROUP-EPOCH",
     "TARGET-ASSIGNMENT-EPOCH", "CURRENT-EPOCH", "TARGET-EPOCH"}
)  # fmt: skip


class KafkaToolError(RuntimeError):
    """A Kafka command-line tool failed; the message carries its own error text."""


class GroupNotFoundError(KafkaToolError):
    pass


def _java_and_libs() -> tuple[str, Path]:
    return find_java(), ensure_kafka_distribution()


def tool_command(main_class: str, args: Sequence[str]) -> list[str]:
    """``java -cp '<libs>/*' <main_class> <args>`` with the sandbox's JVM flags and quiet logging."""
    java, libs = _java_and_libs()
    return java_command(java, libs, main_class, list(args), heap=TOOL_HEAP)


def run_tool(main_class: str, args: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion; raises ``KafkaToolError`` on a non-zero exit or an ``Error:`` line."""
    cmd = tool_command(main_class, args)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise KafkaToolError(f"{main_class} {' '.join(args)} did not finish in {timeout:.0f}s") from exc
    error = _error_text(proc.stdout) or _error_text(proc.stderr)
    if proc.returncode != 0 or error:
        message = error or (proc.stderr.strip() or proc.stdout.strip())[-2000:]
        exc_type = GroupNotFoundError if "GroupIdNotFoundException" in message else KafkaToolError
        raise exc_type(f"{main_class.rsplit('.', 1)[-1]} {' '.join(args)}: {message}")
    return proc


def _error_text(text: str) -> str | None:
    lines = text.strip().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Error:"):
            # Deletion failures list the groups on the following "* ..." lines.
            return "\n".join([line, *(x for x in lines[i + 1 :] if x.startswith("* "))])
    return None


def _value(column: str, raw: str) -> Any:
    raw = raw.strip()
    if raw in ("", "-"):
        return None
    if column in _INT_COLUMNS:
        with contextlib.suppress(ValueError):
            return int(raw)
    return raw


def parse_table(text: str, first_column: str = "GROUP") -> list[dict[str, Any]]:
    """Rows of every table in ``text`` whose header starts with ``first_column``, keyed by header names.

    Values are cut at the header's column starts (values are padded to the column width), which keeps
    ``127.0.0.1:9092  (1)`` whole; a row whose cut would land inside a word falls back to a whitespace split.
    Non-table lines (blank, "has no active members", warnings) are skipped.
    """
    rows: list[dict[str, Any]] = []
    header: list[tuple[str, int]] | None = None
    for line in text.splitlines():
        if not line.strip():
            header = None
            continue
        if line.startswith(first_column + " ") or line.strip() == first_column:
            header = _header_columns(line)
            continue
        if header is None:
            continue
        rows.append(_split_row(line, header))
    return rows


def _header_columns(line: str) -> list[tuple[str, int]]:
    # Header names are separated by at least one space, except "COORDINATOR (ID)", which holds one.
    names = re.finditer(r"COORDINATOR \(ID\)|\S+", line)
    return [(m.group(0), m.start()) for m in names]


def _split_row(line: str, header: list[tuple[str, int]]) -> dict[str, Any]:
    starts = [start for _, start in header]
    aligned = all(start == 0 or start >= len(line) or line[start - 1] == " " for start in starts)
    if aligned:
        cells = [line[start:end] for start, end in zip(starts, [*starts[1:], None], strict=True)]
    else:
        # Columns no longer line up (a value wider than its column): fall back to whitespace, letting the last
        # column keep any spaces and re-joining the coordinator's "host:port  (id)".
        names = [name for name, _ in header]
        if "COORDINATOR (ID)" in names:
            i = names.index("COORDINATOR (ID)")
            cells = line.split(None, len(header))
            cells[i : i + 2] = [" ".join(cells[i : i + 2])]
        else:
            cells = line.split(None, len(header) - 1)
        cells += [""] * (len(header) - len(cells))
    return {name: _value(name, cell) for (name, _), cell in zip(header, cells, strict=True)}


def _consumer_groups(
    bootstrap: str, *args: str, timeout: float = 60.0, command_config: Path | str | None = None
) -> str:
    # Security settings (and their secrets) go in a properties file, never on the command line.
    config = ["--command-config", str(command_config)] if command_config else []
    return run_tool(CONSUMER_GROUP_COMMAND, ["--bootstrap-server", bootstrap, *config, *args], timeout=timeout).stdout


def describe_group_offsets(
    bootstrap: str, group: str, timeout: float = 60.0, *, command_config: Path | str | None = None
) -> list[dict[str, Any]]:
    """``kafka-consumer-groups --describe --group G``: one dict per partition with lowercase keys.

    Every consumer-groups wrapper takes ``command_config``: a client properties file (security protocol, SASL,
    trust store; see ``LocalKafka.write_client_properties``) for a secured listener.

    Keys: group, topic, partition, current_offset, log_end_offset, lag, consumer_id, host, client_id; a ``-`` in
    the tool's output (no committed offset, no member) is ``None``. Raises ``GroupNotFoundError``.
    """
    rows = parse_table(
        _consumer_groups(bootstrap, "--describe", "--group", group, timeout=timeout, command_config=command_config)
    )
    return [_snake(row) for row in rows if row.get("TOPIC") is not None]


def describe_group_state(
    bootstrap: str, group: str, timeout: float = 60.0, *, command_config: Path | str | None = None
) -> dict[str, Any]:
    """``--describe --state --verbose``: coordinator ("host:port"), coordinator_id, assignment_strategy, state,
    members (int), and for KIP-848 groups group_epoch / target_assignment_epoch."""
    rows = parse_table(
        _consumer_groups(bootstrap, "--describe", "--group", group, "--state", "--verbose", timeout=timeout,
                         command_config=command_config)
    )
    if not rows:
        raise GroupNotFoundError(f"no state reported for group {group!r}")
    raw = dict(rows[0])
    coordinator = raw.pop("COORDINATOR (ID)", None) or ""
    row = _snake(raw)
    match = re.match(r"(\S+)\s+\((-?\d+)\)", coordinator)
    row["coordinator"] = match.group(1) if match else (coordinator or None)
    row["coordinator_id"] = int(match.group(2)) if match else None
    row["members"] = row.pop("#members", None)
    return row


def describe_group_members(
    bootstrap: str, group: str, verbose: bool = False, timeout: float = 60.0, *,
    command_config: Path | str | None = None,
) -> list[dict[str, Any]]:
    """``--describe --members``: consumer_id, host, client_id, partitions (count); with ``verbose`` also
    current_epoch, current_assignment, target_epoch, target_assignment (KIP-848 groups) or the assignment."""
    args = ["--describe", "--group", group, "--members"] + (["--verbose"] if verbose else [])
    rows = parse_table(_consumer_groups(bootstrap, *args, timeout=timeout, command_config=command_config))
    members = []
    for raw in rows:
        row = _snake(raw)
        row["partitions"] = row.pop("#partitions", None)
        members.append(row)
    return members


def list_groups(
    bootstrap: str, timeout: float = 60.0, *, command_config: Path | str | None = None
) -> dict[str, dict[str, Any]]:
    """Every group with its type (``Classic``/``Consumer``/...) and state, from ``--list --type --state``."""
    rows = parse_table(
        _consumer_groups(bootstrap, "--list", "--type", "--state", timeout=timeout, command_config=command_config)
    )
    return {row["GROUP"]: {"type": row.get("TYPE"), "state": row.get("STATE")} for row in rows if row.get("GROUP")}


def delete_group(
    bootstrap: str, group: str, timeout: float = 60.0, *, command_config: Path | str | None = None
) -> None:
    """Delete a group (it must have no members). Raises ``GroupNotFoundError`` if it does not exist."""
    _consumer_groups(bootstrap, "--delete", "--group", group, timeout=timeout, command_config=command_config)


def _snake(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name.lower().replace("-", "_"): value for name, value in row.items()}


# --------------------------------------------------------------------------------------------------------------
# Consumers and producers
# --------------------------------------------------------------------------------------------------------------


def start_console_consumer(
    bootstrap: str,
    topic: str,
    group: str,
    protocol: str = "classic",
    extra_props: Mapping[str, Any] | None = None,
    from_beginning: bool = True,
) -> subprocess.Popen[bytes]:
    """Kafka's console consumer in ``group``, discarding what it reads; ``protocol="consumer"`` is KIP-848.

    It runs in its own process group: ``stop_console_consumer`` (SIGTERM) makes it leave the group at once,
    SIGKILL (``proc.kill()``) leaves the member to expire after the group's session timeout. The caller owns the
    process and must stop it.
    """
    if protocol not in ("classic", "consumer"):
        raise ValueError(f"protocol must be 'classic' or 'consumer', not {protocol!r}")
    props: dict[str, Any] = {"group.protocol": protocol, **(extra_props or {})}
    args = ["--bootstrap-server", bootstrap, "--topic", topic, "--group", group]
    if from_beginning:
        args.append("--from-beginning")
    for key, value in props.items():
        args += ["--command-property", f"{key}={value}"]
    return subprocess.Popen(
        tool_command(CONSOLE_CONSUMER, args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_console_consumer(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM (the consumer leaves its group), then SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)


def produce(
    bootstrap: str,
    topic: str,
    count: int,
    *,
    partition: int | None = None,
    key: bytes | None = None,
    value_size: int = 32,
) -> None:
    """Send ``count`` messages with kafka-python and wait for every acknowledgement.

    Without ``partition`` or ``key`` the messages are spread round-robin over the partitions, so a topic with
    P partitions gets ``count / P`` each (the remainder on the first ones), which tests can predict.
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, client_id="kafka-detective-sandbox")
    try:
        partitions: list[int | None] = [partition]
        if partition is None and key is None:
            found = producer.partitions_for(topic)
            partitions = sorted(found) if found else [None]
        payload = b"x" * value_size
        futures = [
            producer.send(topic, value=payload, key=key, partition=partitions[i % len(partitions)])
            for i in range(count)
        ]
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close(timeout=10)
