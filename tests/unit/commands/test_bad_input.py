"""Bad files and flags given to the offline commands: one line naming the file or flag, a non-zero exit, never a
traceback. Each test runs the real CLI entry point (`main([...])`, or a subprocess where the process matters)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_detective.cli import main
from synthetic import scenario, write_samples_trace


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.strip().splitlines(), captured.out


def one_line(result: tuple[int, list[str], str], code: int, *parts: str) -> str:
    assert result[0] == code, result
    assert len(result[1]) == 1, result[1]
    for part in parts:
        assert part in result[1][0], result[1][0]
    return result[1][0]


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("traces") / "spike.om"
    write_samples_trace(path, scenario("producer_spike", n=200, onset=120, noise=0.1).samples())
    return path


@pytest.fixture
def latin1_trace(tmp_path: Path, trace: Path) -> Path:
    """The trace with one label value written in Latin-1 (é as the single byte 0xe9) on its line 5."""
    lines = trace.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b'group="checkout"', b'group="caf\xe9"', 1)
    assert b"\xe9" in lines[4], lines[4]
    path = tmp_path / "latin1.om"
    path.write_bytes(b"\n".join(lines))
    return path


# --- files that are not UTF-8 ---------------------------------------------------------------------------------


def test_anomalies_csv_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(b"timestamp,value\n1790000000,1\n1790000030,2\xff\n")
    line = one_line(run(["anomalies", "--csv", str(src), "--out", str(tmp_path / "o.csv")], capsys), 2)
    assert line == f"kafka-detective anomalies: {src}: not UTF-8 text: byte 0xff at line 3"


@pytest.mark.parametrize("command", ["investigate", "correlate"])
def test_trace_not_utf8(command: str, tmp_path: Path, latin1_trace: Path, capsys: pytest.CaptureFixture[str]
                        ) -> None:
    argv = [command, "--trace", str(latin1_trace), "--group", "checkout"]
    if command == "investigate":
        argv += ["--out", str(tmp_path / "report")]
    line = one_line(run(argv, capsys), 2)
    assert line == f"kafka-detective {command}: trace {latin1_trace}: not UTF-8 text: byte 0xe9 at line 5"


def test_learn_incident_and_history_not_utf8(tmp_path: Path, latin1_trace: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    incident = tmp_path / "incident.yaml"
    incident.write_bytes(b"window: {start: 1, end: 2}\nsubject: {cluster: c, consumergroup: g, topic: t}\n"
                         b"cause: consumer_down\nnotes: caf\xe9\n")
    one_line(run(["learn", "--incident", str(incident), "--history", "x"], capsys), 2,
             f"kafka-detective learn: incident {incident}: not UTF-8 text: byte 0xe9 at line 4")
    incident.write_bytes(b"window: {start: 1, end: 2}\nsubject: {cluster: c, consumergroup: g, topic: t}\n"
                         b"cause: consumer_down\n")
    one_line(run(["learn", "--incident", str(incident), "--history", str(latin1_trace)], capsys), 2,
             f"trace {latin1_trace}: not UTF-8 text: byte 0xe9 at line 5")


def test_learn_incident_with_duplicate_keys_or_deep_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    incident = tmp_path / "incident.yaml"
    incident.write_text("window: {start: 1, end: 2}\ncause: consumer_down\ncause: producer_spike\n")
    one_line(run(["learn", "--incident", str(incident)], capsys), 2,
             f"incident {incident} line 3: invalid YAML: duplicate key 'cause' (first defined on line 2)")
    incident.write_text("notes: " + "[" * 4000 + "]" * 4000 + "\n")
    one_line(run(["learn", "--incident", str(incident)], capsys), 2, "nested deeper than 64 levels")


# --- outputs that cannot be written ---------------------------------------------------------------------------


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A regular file: a path under it cannot be created, whoever runs the tests (root included)."""
    path = tmp_path / "plain-file"
    path.write_text("x")
    return path


def test_evaluate_json_unwritable_fails_before_the_replay(tmp_path: Path, a_file: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    scenarios = tmp_path / "scenarios"
    assert main(["simulate", "--scenario", "producer-spike", "--out", str(scenarios)]) == 0
    capsys.readouterr()
    target = a_file / "results.json"
    line = one_line(run(["evaluate", "--scenarios", str(scenarios), "--json", str(target)], capsys), 2)
    assert line == f"kafka-detective evaluate: --json {target}: cannot write: Not a directory"
    line = one_line(run(["evaluate", "--scenarios", str(scenarios), "--json", str(tmp_path)], capsys), 2)
    assert line == f"kafka-detective evaluate: --json {tmp_path}: is a directory"
    good = tmp_path / "results.json"
    assert main(["evaluate", "--scenarios", str(scenarios), "--json", str(good), "--quiet"]) == 0
    assert good.read_text().startswith("{")


def test_evaluate_compare_rules_is_checked_before_the_replay(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("groups: []\n")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    line = one_line(run(["evaluate", "--scenarios", str(scenarios), "--compare-rules", str(rules)], capsys), 2)
    assert line == "kafka-detective evaluate: --compare-rules needs --prometheus"
    missing = tmp_path / "before.yaml"
    line = one_line(run(["evaluate", "--scenarios", str(scenarios), "--prometheus", "--compare-rules", str(missing)],
                        capsys), 2)
    assert line == f"kafka-detective evaluate: --compare-rules {missing}: no such rule file"
    (scenarios / "train").mkdir()
    line = one_line(run(["evaluate", "--scenarios", str(scenarios), "--prometheus", "--compare-rules", str(rules)],
                        capsys), 2)
    assert line.startswith(f"kafka-detective evaluate: --compare-rules: {scenarios} holds scenario families")


def test_simulate_out_unwritable(a_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = a_file / "scenarios"
    line = one_line(run(["simulate", "--scenario", "producer-spike", "--out", str(target)], capsys), 2)
    assert line == f"kafka-detective simulate: --out {target}: cannot write there: Not a directory"


def test_simulate_list_needs_no_out_and_generating_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, err, out = run(["simulate", "--list"], capsys)
    assert (code, err) == (0, [])
    assert "producer-spike" in out
    one_line(run(["simulate"], capsys), 2, "kafka-detective simulate: --out DIR is required (or --list)")


# --- numeric flags ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "message"), [
    (["correlate", "--trace", "t", "--group", "g", "--max-shift", "-1"], "argument --max-shift: must be 0 or more"),
    (["correlate", "--trace", "t", "--group", "g", "--max-shift", "2.5"], "argument --max-shift: must be an integer"),
    (["correlate", "--trace", "t", "--group", "g", "--alpha", "nan"], "argument --alpha: must be a finite number"),
    (["correlate", "--trace", "t", "--group", "g", "--alpha", "1"], "argument --alpha: must be between 0 and 1"),
    (["serve", "--listen-port", "99999"], "argument --listen-port: must be between 0 and 65535, got '99999'"),
    (["serve", "--interval-seconds", "-5"], "argument --interval-seconds: must be greater than 0"),
    (["learn", "--incident", "i.yaml", "--timeout", "inf"], "argument --timeout: must be a finite number"),
    (["playbook", "lag-spike", "--topic", "t", "--group", "g", "--timeout", "0"],
     "argument --timeout: must be greater than 0"),
    (["demo", "--refresh", "-1"], "argument --refresh: must be greater than 0"),
    (["investigate", "--prometheus", "http://127.0.0.1:9", "--group", "g", "--timeout", "-1"],
     "argument --timeout: must be greater than 0"),
])
def test_numeric_flags_are_validated_by_the_parser(argv: list[str], message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line(run(argv, capsys), 2, f"kafka-detective {argv[0]}: error: {message}")
    assert line.endswith(f"(see kafka-detective {argv[0]} --help)")


@pytest.mark.parametrize("since", ["nan", "inf", "-5"])
def test_non_finite_durations_are_rejected(trace: Path, since: str, capsys: pytest.CaptureFixture[str]) -> None:
    one_line(run(["correlate", "--trace", str(trace), "--group", "checkout", "--since", since], capsys), 2,
             f"kafka-detective correlate: duration must be a positive number of seconds: '{since}'")


def test_a_range_prometheus_would_refuse_is_one_line_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 has nothing listening: the error must come from the points limit, before Prometheus is asked.
    one_line(run(["investigate", "--prometheus", "http://127.0.0.1:9", "--group", "g", "--since", "1d", "--step",
                  "7s"], capsys), 2,
             "kafka-detective investigate: range / step gives more than 11000 points; use a larger --step than 7s")


# --- the last-resort handler -----------------------------------------------------------------------------------


def test_an_unexpected_os_error_is_one_line_unless_debugging(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from kafka_detective_tools.commands import simulate

    def broken(args: object) -> int:
        raise PermissionError(13, "Permission denied", "/var/lib/somewhere")

    monkeypatch.setattr(simulate, "run", broken)
    monkeypatch.delenv("KAFKA_DETECTIVE_DEBUG", raising=False)
    line = one_line(run(["simulate", "--list"], capsys), 1)
    assert line == "kafka-detective: error: Permission denied: /var/lib/somewhere"
    monkeypatch.setenv("KAFKA_DETECTIVE_DEBUG", "1")
    with pytest.raises(PermissionError):
        main(["simulate", "--list"])


def test_a_reader_that_hangs_up_is_not_an_error_message(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`kafka-detective simulate --list | head -1`: stdout is gone, so nothing is printed and the exit is 1."""
    from kafka_detective_tools.commands import simulate

    def hung_up(args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(simulate, "run", hung_up)
    assert run(["simulate", "--list"], capsys)[:2] == (1, [])


def test_an_unexpected_decode_error_is_one_line_naming_the_byte(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from kafka_detective_tools.commands import simulate

    def undecodable(args: object) -> int:
        b"ok\xff".decode("utf-8")
        return 0

    monkeypatch.setattr(simulate, "run", undecodable)
    monkeypatch.delenv("KAFKA_DETECTIVE_DEBUG", raising=False)
    line = one_line(run(["simulate", "--list"], capsys), 1)
    assert line == "kafka-detective: error: input is not UTF-8 text: byte 0xff"
