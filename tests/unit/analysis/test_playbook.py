"""The lag-spike playbook: every PromQL parses (promtool), Explore links carry the query, execution works."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from kafka_detective.cli import main
from kafka_detective.errors import UserError
from kafka_detective_tools.investigation import playbook


def _promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is required for this test (install Prometheus' promtool on PATH)"
    return path


@pytest.mark.parametrize("cluster", [None, "prod"])
def test_every_query_parses_with_promtool(tmp_path, cluster) -> None:
    steps = playbook.lag_spike_playbook("orders", 'check"out', cluster, "6h",
                                        cpu_query='sum(rate(container_cpu_usage_seconds_total{pod=~"checkout-.*"}'
                                                  '[5m]))')
    assert [s.number for s in steps] == [1, 2, 3, 4]
    rules = tmp_path / "playbook.rules.yml"
    rules.write_text(playbook.rule_file(steps))
    result = subprocess.run([_promtool(), "check", "rules", str(rules)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{sum(len(s.queries) for s in steps)} rules found" in result.stdout


def test_explore_url_carries_the_query() -> None:
    expr = 'sum(kafka_consumergroup_lag_sum{consumergroup="a b"})'
    url = playbook.explore_url("http://grafana:3000/", expr, "6h", "prom-uid")
    parsed = urlparse(url)
    assert parsed.path == "/explore"
    state = json.loads(unquote(parse_qs(parsed.query)["left"][0]))
    assert state["queries"][0]["expr"] == expr
    assert state["datasource"] == "prom-uid" and state["range"]["from"] == "now-6h"
    assert " " not in url
    fixed = playbook.explore_url("http://g", expr, "1h", until=1_800_000_000)
    state = json.loads(unquote(parse_qs(urlparse(fixed).query)["left"][0]))
    assert state["range"] == {"from": "1799996400000", "to": "1800000000000"}


class _FakeProm(BaseHTTPRequestHandler):
    def do_GET(self):
        q = parse_qs(urlparse(self.path).query).get("query", [""])[0]
        if "node_memory" in q:
            body = {"status": "success", "data": {"resultType": "vector", "result": []}}
        else:
            body = {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"state": "Stable"} if "state" in q else {}, "value": [1, "1234.5"]}]}}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_execute_against_prometheus_prints_answers(capsys) -> None:
    server = HTTPServer(("127.0.0.1", 0), _FakeProm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        rc = main(["playbook", "lag-spike", "--topic", "orders", "--group", "checkout", "--prometheus", url,
                   "--grafana-url", "http://grafana"])
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert rc == 0
    assert "Step 4: Infrastructure correlation" in out
    assert "answer: 1,234" in out and "state=Stable" in out
    assert "no data" in out          # the memory query answered nothing
    assert "explore: http://grafana/explore" in out


def test_unreachable_prometheus_is_one_error() -> None:
    steps = playbook.lag_spike_playbook("t", "g")
    with pytest.raises(UserError, match="cannot reach Prometheus"):
        playbook.execute(steps, "http://127.0.0.1:9", timeout=2)
