"""A real Prometheus scrapes the exporter over TLS with basic auth; wrong credentials and plain HTTP are refused.

The exporter serves a static exposition (no Kafka needed): what is under test is the endpoint, its web config
file in the exporter-toolkit format, and that Prometheus' own scrape client agrees with it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from kafka_detective.metrics.exposition import Exposition, family
from kafka_detective.serving.http import MetricsApp
from kafka_detective.serving.scrape_front import ScrapeFront
from kafka_detective_tools.sandbox.stack import PrometheusServer
from kafka_detective_tools.sandbox.tls_material import generate_tls_material

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_support import wait_until

pytestmark = [pytest.mark.e2e]

PASSWORD = "scrape-me-üöß"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("endpoint")
    tls = generate_tls_material(workdir / "tls", hosts=("127.0.0.1", "localhost"))
    web_config = workdir / "web-config.yml"
    web_config.write_text(yaml.safe_dump({
        # Relative paths: the exporter-toolkit resolves them against the web config's directory.
        "tls_server_config": {"cert_file": "tls/broker.crt", "key_file": "tls/broker.key"},
        "basic_auth_users": {"prometheus": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()},
    }))
    exposition = Exposition()
    lag = family("kafka_consumergroup_lag")
    lag.add(("secure", "orders-service", "orders", "0"), 42)
    exposition.publish("secure", [lag])
    # The scrape front, as `serve` runs it: its own process owns the socket, TLS and basic auth.
    server = ScrapeFront(MetricsApp(exposition, []), "127.0.0.1", 0, web_config_file=str(web_config))
    server.start()
    target = f"127.0.0.1:{server.port}"

    def job(name: str, **extra: Any) -> dict[str, Any]:
        return {"job_name": name, "static_configs": [{"targets": [target]}], **extra}

    tls_client = {"ca_file": str(tls["ca"])}
    prometheus = PrometheusServer(workdir / "prometheus", [], [], None)
    prometheus.config["scrape_configs"] = [
        job("good", scheme="https", tls_config=tls_client,
            basic_auth={"username": "prometheus", "password": PASSWORD}),
        job("wrong-password", scheme="https", tls_config=tls_client,
            basic_auth={"username": "prometheus", "password": "guess"}),
        job("no-credentials", scheme="https", tls_config=tls_client),
        job("plain-http", basic_auth={"username": "prometheus", "password": PASSWORD}),
    ]
    (workdir / "prometheus").mkdir(exist_ok=True)
    prometheus.start()
    try:
        yield {"prometheus": prometheus, "server": server}
    finally:
        prometheus.stop()
        server.stop()


def _targets(prometheus: PrometheusServer) -> dict[str, dict[str, Any]]:
    return {t["labels"]["job"]: t for t in prometheus.api("targets")["activeTargets"]}


def test_prometheus_scrapes_over_tls_with_basic_auth(secured):
    prometheus = secured["prometheus"]
    wait_until(lambda: prometheus.value('up{job="good"}') == 1, 60, "the TLS + basic auth target is up")
    assert prometheus.value('kafka_consumergroup_lag{job="good", consumergroup="orders-service"}') == 42
    assert secured["server"].url.startswith("https://")


@pytest.mark.parametrize(("job", "error"), [
    ("wrong-password", "HTTP status 401"),
    ("no-credentials", "HTTP status 401"),
    ("plain-http", "http://"),  # the TLS port drops a plain request (the error wording varies by version)
])
def test_prometheus_with_wrong_credentials_or_no_tls_is_refused(secured, job, error):
    prometheus = secured["prometheus"]
    wait_until(lambda: _targets(prometheus)[job]["health"] == "down", 60, f"the {job} target is down")
    assert prometheus.value(f'up{{job="{job}"}}') == 0
    last_error = _targets(prometheus)[job]["lastError"]
    assert last_error and error in last_error
    assert prometheus.value(f'kafka_consumergroup_lag{{job="{job}"}}') is None
