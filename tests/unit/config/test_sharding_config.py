"""The `sharding` block and `--shard` / `--total-shards` / `--pod`, through the real CLI (`serve --check-config`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kafka_detective.config import ShardingConfig, load_config

CLUSTER = "clusters:\n  - name: prod\n    bootstrap_servers: [\"127.0.0.1:9092\"]\n"

Check = Callable[..., tuple[int, list[str], str]]


def test_not_sharded_by_default() -> None:
    assert load_config(environ={}, overrides={"bootstrap_servers": ["127.0.0.1:9092"]}).sharding == ShardingConfig()


@pytest.mark.parametrize(("block", "flags", "shard", "total"), [
    ("sharding: {shard: 2, total_shards: 3}\n", (), 2, 3),
    ("", ("--shard", "1", "--total-shards", "4"), 1, 4),
    ("sharding: {shard: 2, total_shards: 3}\n", ("--shard", "0"), 0, 3),          # a flag overrides its key only
    ("sharding: {total_shards: 3}\n", ("--pod", "kafka-detective-2"), 2, 3),     # a StatefulSet pod's ordinal
    ("sharding: {total_shards: 3, pod: ''}\n", (), 0, 3),                        # empty: unset (outside Kubernetes)
])
def test_the_shard_comes_from_the_file_the_flags_or_the_pod_name(check: Check, block: str, flags: tuple[str, ...],
                                                                  shard: int, total: int) -> None:
    code, errors, out = check(CLUSTER + block, *flags)
    assert (code, errors) == (0, [])
    assert f"shard {shard} of {total}" in out


@pytest.mark.parametrize(("block", "flags", "field", "message"), [
    ("sharding: {shard: 3, total_shards: 3}\n", (), "sharding.shard",
     "shard 3 is not between 0 and total_shards - 1 (2)"),
    ("", ("--shard", "1"), "sharding.shard", "shard 1 is not between 0 and total_shards - 1 (0)"),
    ("sharding: {shard: -1, total_shards: 2}\n", (), "sharding.shard", "shard -1 is not between 0"),
    ("sharding: {total_shards: 0}\n", (), "sharding.total_shards", "must be greater than 0"),
    ("sharding: {total_shards: 3}\n", ("--pod", "kafka-detective-7"), "sharding.pod", "shard 7 is not between 0"),
    ("sharding: {total_shards: 3}\n", ("--pod", "kafka-detective"), "sharding.pod",
     "does not end with a StatefulSet ordinal"),
    ("sharding: {total_shards: 3, shard: 1}\n", ("--pod", "kd-1"), "sharding.pod", "set either shard or pod"),
    ("sharding: {shards: 3}\n", (), "sharding.shards", "unknown field"),
    ("sharding: {total_shards: two}\n", (), "sharding.total_shards", "must be an integer"),
])
def test_a_bad_shard_names_the_field_and_exits_2(check: Check, block: str, flags: tuple[str, ...], field: str,
                                                 message: str) -> None:
    code, errors, out = check(CLUSTER + block, *flags)
    assert code == 2 and len(errors) == 1, (code, errors, out)
    assert f"config: {field}: " in errors[0] and message in errors[0], errors[0]


@pytest.mark.parametrize(("flag", "value"), [("--shard", "-1"), ("--total-shards", "0"), ("--shard", "x")])
def test_bad_shard_flags_are_refused_by_the_command_line(check: Check, flag: str, value: str) -> None:
    code, errors, _ = check(CLUSTER, flag, value)
    assert code == 2 and f"argument {flag}" in errors[-1], errors
