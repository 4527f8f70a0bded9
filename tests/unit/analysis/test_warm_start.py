"""Warm start: parsing query_range answers into samples, replaying them, and failing cold and fast.

data/warm_start_query_range.json holds the answers a real Prometheus gave to `warm_start_queries` after
scraping a real exporter on a local Kafka for a dozen 1 s cycles (recorded by
tests/integration/test_warm_start.py with KAFKA_DETECTIVE_RECORD_WARM_START): one admin-committed group (Empty,
committed offset 1) on a one-partition topic receiving ~20 messages a second.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.analysis.warm_start import (
    MAX_POINTS_PER_SERIES,
    check_url,
    choose_step,
    redact_url,
    samples_from_query_range,
    warm_start,
    warm_start_queries,
)

RECORDED = json.loads((Path(__file__).parent / "data" / "warm_start_query_range.json").read_text())



def _warm_start_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    # Only the warm start's own records: clients of earlier tests may still log from their threads meanwhile.
    return [r for r in caplog.records if r.name == "kafka_detective.analysis.warm_start"]

def _values(field: str) -> list[tuple[float, float]]:
    (series,) = RECORDED["results"][field]
    return [(float(t), float(v)) for t, v in series["values"]]


def test_the_recorded_answers_become_one_batch_per_timestamp_oldest_first() -> None:
    batches = samples_from_query_range(RECORDED["cluster"], RECORDED["results"])
    lag = _values("lag")
    assert len(batches) == len(lag) == 12
    assert [b[0].timestamp for b in batches] == [t for t, _ in lag]
    for (_, value), (sample,) in zip(lag, batches, strict=True):
        assert (sample.cluster, sample.group, sample.topic) == (RECORDED["cluster"], RECORDED["group"],
                                                                RECORDED["topic"])
        assert sample.lag == value
        assert sample.committed_offset == 1 and sample.log_end_offset == sample.lag + 1
        assert (sample.state, sample.members) == ("Empty", 0)
        assert sample.retention_seconds == 7 * 86400
        assert sample.lag_seconds is not None and sample.lag_seconds > 0
        assert (sample.rebalances_total, sample.lost_messages_total, sample.offline_partitions) == (0, 0, 0)
        assert sample.brokers == 1, "the local Kafka is one broker: a broker lost later is seen against it"
    assert batches[-1][0].lag > batches[0][0].lag, "messages kept arriving while nothing was consumed"


def test_a_missing_field_takes_what_a_live_cycle_would_give() -> None:
    results = {k: v for k, v in RECORDED["results"].items()
               if k not in ("log_end_offset", "state", "members", "brokers")}
    (first,) = samples_from_query_range("c", results)[0]
    assert first.log_end_offset == first.committed_offset + first.lag
    assert (first.state, first.members, first.brokers) == ("Unknown", 0, None)
    assert samples_from_query_range("c", {}) == []


def test_replaying_gives_the_first_live_cycle_rates_forecasts_and_history() -> None:
    batches = samples_from_query_range(RECORDED["cluster"], RECORDED["results"])
    warm = OnlineAnalytics(history_seconds=600, history_points=600)
    assert warm.replay(batches[:-1]) == 11
    cold = OnlineAnalytics(history_seconds=600, history_points=600)
    live = batches[-1]
    warm.observe(live)
    cold.observe(live)
    subject = (RECORDED["cluster"], RECORDED["group"], RECORDED["topic"])
    assert [s.timestamp for s in warm.history(*subject)] == [b[0].timestamp for b in batches]
    assert len(cold.history(*subject)) == 1
    warm_result, cold_result = warm.result(*subject), cold.result(*subject)
    assert {"produce_rate", "consume_rate"} <= set(warm_result.anomaly_scores)
    assert "produce_rate" not in cold_result.anomaly_scores
    assert warm_result.predicted_lag
    assert warm.max_diagnoses == cold.max_diagnoses, "the replay gives the diagnosis budget back"


def test_queries_select_one_cluster_with_its_label_quoted() -> None:
    queries = warm_start_queries('we"ird')
    assert set(queries) == set(RECORDED["results"])
    assert all('{cluster="we\\"ird"}' in q for q in queries.values())


@pytest.mark.parametrize(("url", "problem"), [
    ("http://prometheus:9090", None),
    ("https://user:pw@prom.example/prometheus", None),
    ("http://[::1]:9090", None),
    ("ftp://prometheus:9090", "must be an http:// or https:// URL"),
    ("prometheus:9090", "must be an http:// or https:// URL"),
    ("http://", "has no host"),
    ("http://prometheus:99999", "is not a valid URL"),
    ("http://prometheus:9090/?x=1", "without ?query"),
])
def test_check_url(url: str, problem: str | None) -> None:
    found = check_url(url)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_credentials_never_reach_a_message() -> None:
    assert redact_url("https://admin:s3cr3t@prom:9090/x") == "https://admin:<redacted>@prom:9090/x"
    assert redact_url("http://[::1]:9090") == "http://[::1]:9090"
    assert "s3cr3t" not in (check_url("ftp://admin:s3cr3t@prom") or "")


def test_the_step_is_the_interval_unless_a_limit_needs_coarser() -> None:
    assert choose_step(7200, 15, subjects=100) == 15
    assert choose_step(30 * 86400, 15, subjects=1) == pytest.approx(30 * 86400 / MAX_POINTS_PER_SERIES, abs=0.001)
    assert choose_step(7200, 15, subjects=2_000) == 72   # 2000 subjects x 100 points = the replay limit


def _refusing_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://admin:s3cr3t@127.0.0.1:{s.getsockname()[1]}"


def test_nothing_listening_is_one_warning_and_a_cold_start(caplog: pytest.LogCaptureFixture) -> None:
    analytics = OnlineAnalytics()
    caplog.set_level(logging.INFO, logger="kafka_detective.analysis.warm_start")
    assert warm_start(analytics, _refusing_url(), "c", lookback=600, interval=1) == 0
    assert len(analytics) == 0
    (record,) = _warm_start_records(caplog)
    assert record.levelno == logging.WARNING and "starting cold" in record.getMessage()
    assert "s3cr3t" not in record.getMessage() and "admin:<redacted>@127.0.0.1" in record.getMessage()


def test_a_silent_server_costs_the_budget_not_a_hung_thread(caplog: pytest.LogCaptureFixture) -> None:
    """A Prometheus that accepts the connection and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        assert warm_start(OnlineAnalytics(), url, "c", lookback=600, interval=1, timeout=1.0) == 0
        assert time.monotonic() - started < 10
    assert any("starting cold" in r.getMessage() for r in _warm_start_records(caplog))


def test_an_answer_that_is_not_prometheus_is_a_cold_start(caplog: pytest.LogCaptureFixture) -> None:
    """An HTTP server that answers 401 with HTML, as an auth proxy in front of Prometheus does."""
    class Deny(_Handler):
        def do_GET(self) -> None:
            self.reply(401, "text/html", b"<html>login</html>")

    with _serving(Deny) as url:
        assert warm_start(OnlineAnalytics(), url, "c", lookback=600, interval=1) == 0
    (record,) = [r for r in caplog.records if "warm start" in r.getMessage()]
    assert "HTTP 401" in record.getMessage()


@pytest.mark.parametrize(("analysis", "expected"), [
    ({}, (None, None)),
    ({"warm_start_url": ""}, (None, None)),
    ({"warm_start_url": "http://prometheus:9090", "warm_start_lookback_seconds": 86400},
     ("http://prometheus:9090", 86400)),
])
def test_config_fields(analysis: dict[str, Any], expected: tuple[Any, Any]) -> None:
    from kafka_detective.config import parse_config

    config = parse_config({"clusters": [{"name": "a", "bootstrap_servers": ["k:9092"]}], "analysis": analysis})
    assert (config.analysis.warm_start_url, config.analysis.warm_start_lookback_seconds) == expected


@pytest.mark.parametrize(("analysis", "message"), [
    ({"warm_start_url": "prometheus:9090"}, "analysis.warm_start_url: must be an http:// or https:// URL"),
    ({"warm_start_url": 9090}, "analysis.warm_start_url: must be a string"),
    ({"warm_start_lookback_seconds": 0}, "analysis.warm_start_lookback_seconds: must be greater than 0"),
])
def test_config_rejects_bad_values_naming_the_field(analysis: dict[str, Any], message: str) -> None:
    from kafka_detective.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=message):
        parse_config({"clusters": [{"name": "a", "bootstrap_servers": ["k:9092"]}], "analysis": analysis})


class _Handler(BaseHTTPRequestHandler):
    def reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A loopback HTTP server answering with `handler`; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


_RECORDED_BY_QUERY = {q: RECORDED["results"][f] for f, q in warm_start_queries(RECORDED["cluster"]).items()}


class _RecordedPrometheus(_Handler):
    """Answers the warm start's queries with the recorded answers of a real Prometheus."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)["query"][0]
        if url.path == "/api/v1/query":   # the count of group/topics
            data = {"resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]}
        else:
            data = {"resultType": "matrix", "result": _RECORDED_BY_QUERY[query]}
        self.reply(200, "application/json", json.dumps({"status": "success", "data": data}).encode())


@pytest.fixture
def recorded_prometheus() -> Iterator[str]:
    with _serving(_RecordedPrometheus) as url:
        yield url


def test_the_whole_path_over_http_replays_every_recorded_point(recorded_prometheus: str,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kafka_detective.analysis.warm_start")
    analytics = OnlineAnalytics(history_seconds=600, history_points=600)
    assert warm_start(analytics, recorded_prometheus, RECORDED["cluster"], lookback=600, interval=1) == 12
    assert len(analytics.history(RECORDED["cluster"], RECORDED["group"], RECORDED["topic"])) == 12
    (record,) = _warm_start_records(caplog)
    assert "12 samples of 1 group/topic(s) over the last 10m (step 1s)" in record.getMessage()


def test_a_replay_longer_than_the_budget_keeps_what_it_fed(recorded_prometheus: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    class Slow(OnlineAnalytics):
        def observe(self, samples: Any) -> None:
            time.sleep(1.0)
            super().observe(samples)

    caplog.set_level(logging.INFO, logger="kafka_detective.analysis.warm_start")
    analytics = Slow(history_seconds=600, history_points=600)
    fed = warm_start(analytics, recorded_prometheus, RECORDED["cluster"], lookback=600, interval=1, timeout=5.0)
    assert 1 <= fed < 12
    (record,) = _warm_start_records(caplog)
    assert record.levelno == logging.INFO and "out of time before" in record.getMessage()
    history = analytics.history(RECORDED["cluster"], RECORDED["group"], RECORDED["topic"])
    assert [s.timestamp for s in history] == [t for t, _ in _values("lag")][:fed], "the oldest points, in order"
