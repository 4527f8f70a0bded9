import gzip
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.metrics.exposition import Exposition, family
from kafka_detective.serving.http import MetricsApp, MetricsServer, accepts_gzip


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


# --- content negotiation -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "gzip_expected"), [
    (None, False),
    ("", False),
    ("gzip", True),
    ("GZIP", True),
    ("x-gzip", True),
    ("gzip, deflate, br", True),
    ("gzip;q=0", False),
    ("gzip; q=0.0", False),
    ("gzip;q=0.001", True),
    ("deflate", False),
    ("*", True),
    ("*;q=0", False),
    ("*;q=0, identity", False),
    ("gzip;q=0, *", False),
    ("identity;q=1, gzip;q=0.5", False),
    ("identity;q=0.5, gzip;q=0.5", True),
    ("identity;q=0, gzip;q=0.2", True),
    ("gzip;q=abc", False),
    ("gzip;q=2", False),
    ("gzip;q=nan", False),
    ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
])
def test_accepts_gzip_honours_q_values(header, gzip_expected):
    assert accepts_gzip(header) is gzip_expected


def test_gzip_q0_gets_identity_from_the_server(server):
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/metrics",
                                     headers={"Accept-Encoding": "gzip;q=0, identity"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] is None
        assert response.headers["Vary"] == "Accept-Encoding"
        assert b"kafka_consumergroup_lag{" in response.read()


def test_stop_ends_keep_alive_connections():
    """A stopped exporter must not go on answering on a connection a scraper keeps open: Prometheus would keep
    reading `up == 1` from a process that has stopped serving."""
    import http.client

    srv = MetricsServer(MetricsApp(Exposition(), []), "127.0.0.1", 0)
    srv.start()
    connection = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200 and response.read() == b"ok\n"
        assert not response.will_close          # HTTP/1.1 keep-alive: the same connection serves the next one
        srv.stop()
        with pytest.raises((http.client.HTTPException, OSError)):
            connection.request("GET", "/healthz")
            connection.getresponse().read()
    finally:
        connection.close()
