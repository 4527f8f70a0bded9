"""`investigate`/`correlate`/`playbook`/`learn --prometheus` against a real Prometheus loaded with a trace.

The trace is turned into TSDB blocks with `promtool tsdb create-blocks-from openmetrics`, Prometheus serves
them on a free local port, and the commands read the history back with query_range over the trace's range.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kafka_detective.cli import main
from kafka_detective_tools.investigation.sources import samples_from_prometheus
from synthetic import scenario, write_samples_trace

REPO = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required for this test (install the Prometheus {name} binary on PATH)"
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> Iterator[tuple[str, list]]:
    root = tmp_path_factory.mktemp("prom")
    history = scenario("consumer_cpu_saturation", n=600, onset=400, noise=0.1).samples()
    trace = root / "trace.om.txt"
    write_samples_trace(trace, history)
    data = root / "data"
    subprocess.run([_tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(trace), str(data)],
                   check=True, capture_output=True)
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    port = _free_port()
    log = open(root / "prometheus.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([_tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={data}",
                             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None, (root / "prometheus.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "Prometheus not ready after 60 s"
            time.sleep(0.3)
        yield url, history
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _range_args(history) -> list[str]:
    span = int(history[-1].timestamp - history[0].timestamp)
    return ["--until", str(history[-1].timestamp), "--since", f"{span}s", "--step", "15s"]


def test_prometheus_source_matches_the_trace(prometheus) -> None:
    url, history = prometheus
    subject, samples = samples_from_prometheus(url, "checkout", None, None, start=history[0].timestamp,
                                               end=history[-1].timestamp, step=15)
    assert (subject.cluster, subject.group, subject.topic) == ("prod", "checkout", "orders")
    by_t = {s.timestamp: s for s in samples}
    matched = [(h, by_t[h.timestamp]) for h in history if h.timestamp in by_t]
    assert len(matched) >= 0.95 * len(history)
    for h, p in matched:
        assert (p.lag, p.log_end_offset, p.committed_offset, p.members, p.state) == \
            (h.lag, h.log_end_offset, h.committed_offset, h.members, h.state)
        assert p.consumer_cpu_ratio == pytest.approx(h.consumer_cpu_ratio)


def test_investigate_prometheus(prometheus, tmp_path, capsys) -> None:
    url, history = prometheus
    out = tmp_path / "report"
    rc = main(["investigate", "--prometheus", url, "--group", "checkout", "--topic", "orders",
               "--out", str(out), "--library-dir", str(tmp_path / "none"), *_range_args(history)])
    assert rc == 0, capsys.readouterr().err
    diag = json.loads((out / "diagnosis.json").read_text())
    assert diag["cause"] == "consumer_cpu_saturation"
    assert abs(diag["onset"] - history[400].timestamp) <= 120
    assert (out / "cpu.png").exists() and "Prometheus http://127.0.0.1" in (out / "report.md").read_text()


def test_correlate_and_playbook_prometheus(prometheus, capsys) -> None:
    url, history = prometheus
    assert main(["correlate", "--prometheus", url, "--group", "checkout", "--topic", "orders", "--json",
                 *_range_args(history)]) == 0
    rows = {r["signal"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["cpu"]["significant"] and rows["consume_rate"]["significant"]
    assert main(["playbook", "lag-spike", "--topic", "orders", "--group", "checkout", "--cluster", "prod",
                 "--prometheus", url, "--until", str(history[-1].timestamp), "--since", "1h"]) == 0
    out = capsys.readouterr().out
    assert "error" not in out.lower()
    lag_line = out.split("Current lag (messages)")[1].splitlines()
    assert any(line.strip().startswith("answer: ") and "no data" not in line for line in lag_line[:5])


def test_learn_prometheus(prometheus, tmp_path, capsys) -> None:
    url, history = prometheus
    lib = tmp_path / "patterns"
    lib.mkdir()
    # A library is its rules and the config.yaml their [[ placeholders ]] come from.
    for name in ("recording-rules.yaml", "config.yaml"):
        shutil.copy(REPO / "patterns" / name, lib)
    start = history[400].timestamp
    incident = tmp_path / "incident.yaml"
    incident.write_text(f"name: cpu saturation\nwindow: {{start: {start}, end: {start + 1800}}}\n"
                        "subject: {cluster: prod, consumergroup: checkout, topic: orders}\n"
                        "cause: consumer_cpu_saturation\n")
    assert main(["learn", "--incident", str(incident), "--prometheus", url, "--library-dir", str(lib),
                 "--before", "2h", "--after", "10m"]) == 0
    out = capsys.readouterr().out
    assert "fires on the incident: yes" in out and "promtool test rules (replay confirmation): passed" in out


def test_empty_answer_is_one_error(prometheus, capsys) -> None:
    url, history = prometheus
    rc = main(["investigate", "--prometheus", url, "--group", "nobody", "--topic", "orders",
               *_range_args(history)])
    err = capsys.readouterr().err
    assert rc == 2 and "has no kafka_consumergroup_lag_sum" in err and "Traceback" not in err


def test_cpu_query_is_used_and_an_empty_one_is_an_error(prometheus, capsys) -> None:
    url, history = prometheus
    query = 'avg(consumergroup:cpu_utilisation:ratio{consumergroup="checkout"}) * 1'
    assert main(["correlate", "--prometheus", url, "--group", "checkout", "--topic", "orders", "--json",
                 "--cpu-query", query, *_range_args(history)]) == 0
    rows = {r["signal"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["cpu"]["significant"]
    rc = main(["correlate", "--prometheus", url, "--group", "checkout", "--topic", "orders",
               "--cpu-query", 'node_cpu_seconds_total{job="nope"}', *_range_args(history)])
    err = capsys.readouterr().err
    assert rc == 2 and "--cpu-query returned nothing" in err
