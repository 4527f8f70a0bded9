import gzip
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.metrics.exposition import Exposition, family
from kafka_detective.serving.http import MetricsApp, MetricsServer


@pytest.fixture
def server():
    exposition = Exposition()
    for cluster in ("a", "b"):
        lag = family("kafka_consumergroup_lag")
        for i in range(2000):
            lag.add((cluster, f"group-{i}", "orders", str(i % 12)), i)
        exposition.publish(cluster, [lag])
    srv = MetricsServer(MetricsApp(exposition, []), "127.0.0.1", 0)
    srv.start()
    yield srv
    srv.stop()


def get(port, path, gzip_ok=False):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def test_plain_and_gzip_bodies_carry_the_same_series(server):
    _, headers, plain = get(server.port, "/metrics")
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    _, headers, zipped = get(server.port, "/metrics", gzip_ok=True)
    assert headers["Content-Encoding"] == "gzip"
    unzipped = gzip.decompress(zipped)  # several gzip members, as Prometheus' reader accepts
    assert len(zipped) < len(plain) / 3

    def series(body):
        return sorted((s.name, tuple(sorted(s.labels.items())), s.value)
                      for f in text_string_to_metric_families(body.decode()) for s in f.samples
                      if not s.name.startswith(("process_", "python_")))

    assert series(plain) == series(unzipped)
    lags = [s for s in series(plain) if s[0] == "kafka_consumergroup_lag"]
    assert len(lags) == 4000
    assert b"kafka_detective_build_info{" in plain


def test_health_endpoints(server):
    assert get(server.port, "/healthz")[0] == 200
    assert get(server.port, "/readyz")[0] == 200
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(server.port, "/nope")
    assert missing.value.code == 404
