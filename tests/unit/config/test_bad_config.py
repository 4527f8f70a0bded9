"""Bad configuration through the real CLI (`serve --check-config`): one line naming the field, exit 2, no traceback.

One test per class of bad input from docs/reliability.md ("Bad input").
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CLUSTER = "clusters:\n  - name: prod\n    bootstrap_servers: [\"127.0.0.1:9092\"]\n"

Check = Callable[..., tuple[int, list[str], str]]


def one_error(result: tuple[int, list[str], str], *parts: str) -> str:
    code, lines, out = result
    assert code == 2, (code, lines, out)
    assert len(lines) == 1, lines
    assert "valid" not in out
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


def test_config_that_is_not_utf8_names_the_file_and_line(check: Check, tmp_path: Path) -> None:
    line = one_error(check(CLUSTER.encode() + b"log_level: \xff\xfe\n"), "config.yaml", "not UTF-8 text")
    assert "byte 0xff at line 4" in line


def test_deeply_nested_yaml_is_refused_before_the_stack_runs_out(check: Check) -> None:
    one_error(check(CLUSTER + "analysis: " + "[" * 5000 + "]" * 5000 + "\n"), "config.yaml line 4",
              "nested deeper than 64 levels")


def test_duplicate_keys_name_the_key_and_both_lines(check: Check) -> None:
    one_error(check(CLUSTER + "interval_seconds: 15\ninterval_seconds: 30\n"), "config.yaml line 5",
              "duplicate key 'interval_seconds' (first defined on line 4)")
    # nested mappings too: the second `name` of the cluster would silently rename it
    one_error(check(CLUSTER + "    name: other\n"), "line 4", "duplicate key 'name' (first defined on line 2)")


def test_yaml_merge_keys_are_not_duplicates(check: Check) -> None:
    # the YAML way of overriding a merged-in default, which must stay possible
    merged = "    <<: {client_id: a}\n    client_id: b\n    bootstrap"
    code, lines, out = check(CLUSTER.replace("    bootstrap", merged))
    assert (code, lines) == (0, []), lines
    assert "configuration is valid" in out


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_non_finite_numbers_are_rejected(check: Check, value: str) -> None:
    one_error(check(CLUSTER + f"interval_seconds: {value}\n"), "config: interval_seconds: must be a finite number")
    one_error(check(CLUSTER.replace("    bootstrap", f"    request_timeout_seconds: {value}\n    bootstrap")),
              "clusters[0].request_timeout_seconds: must be a finite number")
    one_error(check(CLUSTER + f"analysis:\n  problem_hold_seconds: {value}\n"), "analysis.problem_hold_seconds")


def test_non_finite_interval_from_the_environment_and_the_flag(check: Check, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setenv("KAFKA_DETECTIVE_INTERVAL_SECONDS", "nan")
    one_error(check(CLUSTER), "interval_seconds: must be a finite number, got nan")
    monkeypatch.delenv("KAFKA_DETECTIVE_INTERVAL_SECONDS")
    one_error(check(CLUSTER, "--interval-seconds", "inf"), "argument --interval-seconds: must be a finite number")


@pytest.mark.parametrize(("text", "field", "message"), [
    ("interval_seconds: 0.01", "interval_seconds", "must be at least 0.1, got 0.01"),
    ("interval_seconds: 1.0e+300", "interval_seconds", "must be at most 86400"),
    ("interval_seconds: 1e3", "interval_seconds", "must be a number, got the string '1e3' (YAML reads an exponent "
     "without a dot and a sign as text: write 1.0e+3, not 1e3)"),
    ("config_refresh_seconds: 1000000000000", "config_refresh_seconds", "must be at most 604800"),
    ("listen_port: 70000", "listen_port", "must be between 0 and 65535"),
    ("analysis:\n  history_points: 10000000", "analysis.history_points", "must be at most 100000"),
    ("analysis:\n  horizons_seconds: [300, 99999999]", "analysis.horizons_seconds[1]", "must be at most 604800"),
])
def test_out_of_range_numbers_name_the_field(check: Check, text: str, field: str, message: str) -> None:
    one_error(check(CLUSTER + text + "\n"), f"config: {field}: {message}")


@pytest.mark.parametrize(("server", "message"), [
    ("kafka:99999", "port must be between 1 and 65535, got 99999 in 'kafka:99999'"),
    ("kafka:0", "port must be between 1 and 65535, got 0"),
    ("kafka", "must be host:port, got 'kafka'"),
    ("::1:9092", "IPv6 addresses go in brackets, e.g. [::1]:9092"),
    ("[kafka]:9092", "'kafka' in brackets is not an IPv6 address"),
    ("999.1.1.1:9092", "'999.1.1.1' is not an IPv4 address"),
])
def test_bootstrap_servers_are_host_and_port(check: Check, server: str, message: str) -> None:
    config = CLUSTER.replace('["127.0.0.1:9092"]', f'["127.0.0.1:9092", "{server}"]')
    one_error(check(config), f"config: clusters[0].bootstrap_servers[1]: {message}")


def test_ipv6_bootstrap_servers_in_brackets_are_accepted(check: Check) -> None:
    code, lines, _ = check(CLUSTER.replace('"127.0.0.1:9092"', '"[::1]:9092", "[fe80::1%eth0]:9093"'))
    assert (code, lines) == (0, [])


@pytest.mark.parametrize(("protocol", "use"), [("PLAINTEXT", "use SSL"), ("SASL_PLAINTEXT", "use SASL_SSL")])
def test_a_tls_block_under_a_plaintext_protocol_is_an_error(check: Check, tmp_path: Path, protocol: str,
                                                            use: str) -> None:
    secret = tmp_path / "password"
    secret.write_text("pw\n")
    sasl = (f"    sasl: {{mechanism: PLAIN, username: u, password_file: {secret}}}\n"
            if protocol.startswith("SASL") else "")
    config = CLUSTER + f"    security_protocol: {protocol}\n{sasl}    tls:\n      ca_file: /etc/ca.crt\n"
    one_error(check(config), f"config: clusters[0].tls: is set but security_protocol {protocol} does not use TLS",
              use)


def test_an_empty_tls_block_under_plaintext_is_harmless(check: Check) -> None:
    assert check(CLUSTER + "    tls: {}\n")[:2] == (0, [])


def test_the_cli_entry_point_prints_one_line_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(CLUSTER.encode() + b"interval_seconds: .inf\n")
    result = subprocess.run([sys.executable, "-m", "kafka_detective", "serve", "--config", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kafka-detective serve: config: interval_seconds: must be a finite number, got inf"]


def test_a_bad_series_selection_names_the_field(check: Check) -> None:
    one_error(check(CLUSTER + "metrics:\n  exclude: ['kafka_(lag']\n"),
              "config: metrics.exclude[0]: invalid regular expression: missing ), unterminated subpattern")
    one_error(check(CLUSTER + "metrics:\n  topics:\n    granularity: partitions\n"),
              "config: metrics.topics.granularity: must be one of partition, topic, got 'partitions'")
    one_error(check(CLUSTER + "    metrics: {profile: slim}\n"),
              "config: clusters[0].metrics.profile: must be one of default, lean, got 'slim'")
    code, lines, out = check(CLUSTER + "metrics:\n  profile: lean\n")
    assert (code, lines) == (0, []) and "configuration is valid" in out
