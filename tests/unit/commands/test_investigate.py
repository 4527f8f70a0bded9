"""`kafka-detective investigate` / `correlate` / `learn` on trace files: outputs and one-line errors."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from kafka_detective.cli import main
from synthetic import scenario, write_samples_trace

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def spike_trace(tmp_path_factory) -> tuple[Path, list]:
    path = tmp_path_factory.mktemp("traces") / "spike.om.txt"
    history = scenario("producer_spike", n=600, onset=400, noise=0.1).samples()
    write_samples_trace(path, history)
    return path, history


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_investigate_trace_writes_report_and_plots(tmp_path, spike_trace, capsys) -> None:
    trace, _ = spike_trace
    out = tmp_path / "report"
    rc = main(["investigate", "--trace", str(trace), "--group", "checkout", "--out", str(out),
               "--library-dir", str(tmp_path / "no-library")])
    assert rc == 0
    assert capsys.readouterr().out.strip() == str(out / "report.md")
    text = (out / "report.md").read_text()
    assert "**Producer traffic spike** (`producer_spike`)" in text
    for name in ("lag", "lag_seconds", "rates", "rebalances"):
        png = out / f"{name}.png"
        assert f"]({name}.png)" in text
        width, height = _png_size(png)
        assert width >= 800 and height >= 300
    assert "| `kafka_topic_produce_rate_messages_per_second` |" in text
    assert "## Runbook: Producer traffic spike on checkout/orders" in text
    assert "Sequence (signals that deviated from the pre-onset baseline, in order): " in text
    assert "produce_rate up" in text
    diag = json.loads((out / "diagnosis.json").read_text())
    assert diag["cause"] == "producer_spike" and diag["consumergroup"] == "checkout"


def test_investigate_lists_learned_incident(tmp_path, spike_trace, capsys) -> None:
    trace, history = spike_trace
    lib = tmp_path / "patterns"
    lib.mkdir()
    shutil.copy(REPO / "patterns" / "config.yaml", lib)   # learn extends a valid library
    shutil.copy(REPO / "patterns" / "recording-rules.yaml", lib)
    incident = tmp_path / "incident.yaml"
    start = history[400].timestamp
    incident.write_text(f"name: import spike\nwindow: {{start: {start}, end: {start + 1800}}}\n"
                        "subject: {cluster: prod, consumergroup: checkout, topic: orders}\ncause: producer_spike\n"
                        "notes: nightly import\n")
    assert main(["learn", "--incident", str(incident), "--history", str(trace), "--library-dir", str(lib),
                 "--no-promtool"]) == 0
    learned_out = capsys.readouterr().out
    assert "precision 100%" in learned_out and (lib / "learned" / "import-spike.yaml").exists()
    out = tmp_path / "inv"
    assert main(["investigate", "--trace", str(trace), "--group", "checkout", "--topic", "orders",
                 "--out", str(out), "--library-dir", str(lib)]) == 0
    assert "| import-spike | `producer_spike` |" in (out / "report.md").read_text()


def test_correlate_command(spike_trace, capsys) -> None:
    trace, _ = spike_trace
    assert main(["correlate", "--trace", str(trace), "--group", "checkout", "--topic", "orders"]) == 0
    out = capsys.readouterr().out
    assert "produce_rate" in out and "Significant:" in out and "Method: Lag is the running sum" in out
    assert main(["correlate", "--trace", str(trace), "--group", "checkout", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any(r["signal"] == "produce_rate" and r["significant"] for r in data["rows"])


@pytest.mark.parametrize("argv, message", [
    (["investigate", "--trace", "{missing}", "--group", "g"], "cannot read trace"),
    (["investigate", "--trace", "{bad}", "--group", "g"], "malformed sample line"),
    (["investigate", "--trace", "{trace}", "--group", "nope"], "no lag series for group 'nope'"),
    (["correlate", "--prometheus", "http://127.0.0.1:9", "--group", "g", "--topic", "t", "--timeout", "2"],
     "cannot reach Prometheus"),
    (["learn", "--incident", "{missing}"], "cannot read incident"),
])
def test_errors_are_one_line(tmp_path, spike_trace, capsys, argv, message) -> None:
    bad = tmp_path / "bad.om.txt"
    bad.write_text("# TYPE x gauge\nthis is not a sample\n# EOF\n")
    paths = {"missing": str(tmp_path / "missing.txt"), "bad": str(bad), "trace": str(spike_trace[0])}
    argv = [a.format(**paths) for a in argv]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_learn_without_history_is_an_error(tmp_path, capsys) -> None:
    incident = tmp_path / "incident.yaml"
    incident.write_text("window: {start: 1, end: 2}\nsubject: {cluster: c, consumergroup: g, topic: t}\n"
                        "cause: consumer_down\n")
    assert main(["learn", "--incident", str(incident)]) == 2
    assert "--history TRACE or --prometheus URL" in capsys.readouterr().err
