"""The HTTP endpoint under stress and attack: auth, TLS, idle connections, hang-ups, bursts, IPv6, busy ports.

Every test runs a real server on a free loopback port and talks to it over real sockets.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import select
import socket
import ssl
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from endpoint_support import PASSWORD, auth_header, client_context, request, tls_config, web_file
from kafka_detective.metrics.exposition import Exposition, family
from kafka_detective.serving.http import LISTEN_BACKLOG, MetricsApp, MetricsServer, ServingError
from kafka_detective.serving.web_config import load_web_config


def exposition(series: int = 200) -> Exposition:
    exp = Exposition()
    lag = family("kafka_consumergroup_lag")
    for i in range(series):
        lag.add(("c", f"group-{i}", "orders-with-a-long-topic-name", str(i % 12)), i)
    exp.publish("c", [lag])
    return exp


@contextlib.contextmanager
def running(series: int = 200, address: str = "127.0.0.1", **kw: object) -> Iterator[MetricsServer]:
    srv = MetricsServer(MetricsApp(exposition(series), []), address, 0, **kw)  # type: ignore[arg-type]
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


# --- basic auth ---------------------------------------------------------------------------------------------------

@pytest.fixture
def with_auth(tmp_path, password_hash):
    with running(web_config_file=web_file(tmp_path, {"basic_auth_users": {"prometheus": password_hash}})) as srv:
        yield srv


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/readyz", "/", "/nope"])
def test_every_path_needs_credentials(with_auth, path):
    status, headers, body = request(with_auth, path)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic realm=")
    assert b"kafka_" not in body


@pytest.mark.parametrize(("user", "password"), [("prometheus", "wrong"), ("nobody", PASSWORD), ("", "")])
def test_wrong_credentials_get_401(with_auth, user, password):
    status, headers, _ = request(with_auth, headers=auth_header(user, password))
    assert status == 401 and "WWW-Authenticate" in headers


def test_good_credentials_get_the_metrics(with_auth):
    status, _, body = request(with_auth, headers=auth_header("prometheus", PASSWORD))
    assert status == 200 and b"kafka_consumergroup_lag{" in body


def test_excluded_paths_stay_open_for_probes(tmp_path, password_hash):
    config = {"basic_auth_users": {"prometheus": password_hash}, "auth_excluded_paths": ["/healthz", "/readyz"]}
    with running(web_config_file=web_file(tmp_path, config)) as srv:
        assert request(srv, "/healthz")[0] == 200
        assert request(srv, "/readyz")[0] == 200
        assert request(srv, "/metrics")[0] == 401


# --- TLS --------------------------------------------------------------------------------------------------------

def test_tls_with_basic_auth(tmp_path, pki, password_hash):
    config = {**tls_config(pki), "basic_auth_users": {"prometheus": password_hash},
              "http_server_config": {"headers": {"Strict-Transport-Security": "max-age=31536000"}}}
    with running(web_config_file=web_file(tmp_path, config)) as srv:
        assert srv.url.startswith("https://")
        status, headers, body = request(srv, headers=auth_header("prometheus", PASSWORD), context=client_context(pki))
        assert status == 200 and b"kafka_consumergroup_lag{" in body
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert request(srv, context=client_context(pki))[0] == 401
        # Plain HTTP to the TLS port fails, and does not take the server down.
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            request(srv)
        assert request(srv, headers=auth_header("prometheus", PASSWORD), context=client_context(pki))[0] == 200


def test_mutual_tls_requires_a_certificate_from_the_ca_with_an_allowed_san(tmp_path, pki):
    config = tls_config(pki, client_ca_file=str(pki["ca"]), client_auth_type="RequireAndVerifyClientCert",
                        client_allowed_sans=["prometheus.monitoring"])
    with running(web_config_file=web_file(tmp_path, config)) as srv:
        assert request(srv, context=client_context(pki, "client"))[0] == 200
        for refused in (None, "stranger", "other"):  # no cert, another CA, a SAN not on the list
            with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
                request(srv, context=client_context(pki, refused))
        assert request(srv, context=client_context(pki, "client"))[0] == 200


def test_a_silent_tls_client_does_not_block_other_clients(tmp_path, pki):
    # The handshake runs in the connection's thread: a client that connects and says nothing holds only that.
    with running(web_config_file=web_file(tmp_path, tls_config(pki))) as srv, \
            socket.create_connection(("127.0.0.1", srv.port)):
        assert request(srv, "/healthz", context=client_context(pki))[0] == 200


# --- idle connections, hang-ups, bursts ----------------------------------------------------------------------------

def test_an_idle_connection_is_closed_after_the_idle_timeout():
    with running(idle_timeout=0.5) as srv, socket.create_connection(("127.0.0.1", srv.port)) as silent:
        silent.settimeout(30)  # a bound for the failure case only: the close comes after 0.5 s
        assert silent.recv(1) == b""


def test_a_keep_alive_connection_is_closed_once_idle():
    with running(idle_timeout=0.5) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == b"ok\n"
        assert response.headers.get("Connection") != "close"
        assert conn.sock.recv(1) == b""
        conn.close()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.went_away = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if "went away" in record.getMessage():
            self.went_away.set()


def test_a_client_that_hangs_up_mid_response_is_logged_at_debug_without_a_traceback(capfd):
    records = _Records()
    logger = logging.getLogger("kafka_detective.serving.http")
    logger.addHandler(records)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with running(series=60000) as srv:  # several MB: far more than the socket buffers hold
            for _ in range(3):
                client = socket.socket()
                client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                client.connect(("127.0.0.1", srv.port))
                client.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                client.recv(1)  # the response has started
                # RST instead of FIN: the server's next write fails with ECONNRESET / EPIPE.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            assert records.went_away.wait(30), [r.getMessage() for r in records.records]
            assert request(srv, "/healthz")[0] == 200
    finally:
        logger.removeHandler(records)
        logger.setLevel(old_level)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipeError" not in err and "ConnectionResetError" not in err
    assert all(r.levelno == logging.DEBUG for r in records.records if "went away" in r.getMessage())


def test_the_listen_backlog_holds_a_burst_of_connections_before_any_is_accepted():
    # The server is bound but not started: every connection waits in the kernel's accept queue. With a
    # backlog of 5 the kernel completes only ~6 handshakes and drops the other SYNs.
    srv = MetricsServer(MetricsApp(exposition(), []), "127.0.0.1", 0)
    assert LISTEN_BACKLOG >= 128
    clients = []
    started = False
    try:
        for _ in range(100):
            client = socket.socket()
            client.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                client.connect(("127.0.0.1", srv.port))
            clients.append(client)
        pending = list(clients)
        connected = 0
        while pending:
            # A bound for the failure case: with the backlog, every handshake completes at once on loopback.
            _, writable, _ = select.select([], pending, [], 5)
            if not writable:
                break
            for client in writable:
                if client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected += 1
                pending.remove(client)
        assert connected == 100
        srv.start()
        started = True
        for client in clients[:5]:
            client.setblocking(True)
            client.settimeout(10)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert client.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        for client in clients:
            client.close()
        if started:
            srv.stop()
        else:
            srv.httpd.server_close()  # shutdown() would wait for a serve_forever that never ran


def test_fifty_parallel_scrapes_are_all_answered():
    with running(series=2000) as srv, ThreadPoolExecutor(50) as pool:
        barrier = threading.Barrier(50)

        def scrape(_: int) -> int:
            barrier.wait()
            return request(srv)[0]

        assert list(pool.map(scrape, range(50))) == [200] * 50


# --- addresses ----------------------------------------------------------------------------------------------------

def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="this host has no IPv6 loopback")


@needs_ipv6
@pytest.mark.parametrize("address", ["::1", "[::1]"])
def test_listens_on_ipv6_loopback(address):
    with running(address=address) as srv:
        assert srv.url == f"http://[::1]:{srv.port}"
        assert request(srv, "/healthz", host="::1")[0] == 200


@needs_ipv6
def test_the_ipv6_wildcard_serves_ipv4_clients_too():
    with running(address="::") as srv:
        assert request(srv, "/healthz", host="::1")[0] == 200
        if srv.httpd.dual_stack:
            assert request(srv, "/healthz", host="127.0.0.1")[0] == 200


def test_a_port_in_use_is_one_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ServingError) as error:
            MetricsServer(MetricsApp(exposition(), []), "127.0.0.1", port)
        assert str(error.value).startswith(f"listen_port {port}: address already in use")


def test_an_address_of_another_host_is_one_clear_error():
    with pytest.raises(ServingError, match=r"listen_address 192\.0\.2\.1: not an address of this host"):
        MetricsServer(MetricsApp(exposition(), []), "192.0.2.1", 0)


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kafka_detective", "serve", "--bootstrap-server", "127.0.0.1:1",
                           *args], capture_output=True, text=True, timeout=120)


def test_serve_on_a_port_in_use_exits_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = _serve("--listen-address", "127.0.0.1", "--listen-port", str(port))
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "kafka-detective serve:" in line]
    assert lines == [f"kafka-detective serve: listen_port {port}: address already in use (on 127.0.0.1)"], proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_check_config_validates_the_web_config(tmp_path):
    bad = web_file(tmp_path, {"tls_server_config": {"cert_file": "nope.crt", "key_file": "nope.key"}})
    proc = _serve("--web.config.file", bad, "--check-config")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"kafka-detective serve: web config {bad}: tls_server_config.cert_file: cannot read {tmp_path}/nope.crt: "
        "No such file or directory"]


def test_load_web_config_is_what_the_server_uses(tmp_path, password_hash):
    config = load_web_config(web_file(tmp_path, {"basic_auth_users": {"prometheus": password_hash}}))
    with running(web_config=config) as srv:
        assert request(srv)[0] == 401


def test_serve_with_a_web_config_serves_https_with_basic_auth(tmp_path, pki, password_hash):
    """The flag end to end: `serve --web.config.file` (Kafka unreachable: /metrics is served all the same)."""
    config = {**tls_config(pki), "basic_auth_users": {"prometheus": password_hash}}
    proc = subprocess.Popen([sys.executable, "-m", "kafka_detective", "serve", "--bootstrap-server", "127.0.0.1:1",
                             "--listen-address", "127.0.0.1", "--listen-port", "0",
                             "--web.config.file", web_file(tmp_path, config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until serve prints its URL (or exits: then the line is empty)
        assert line.startswith("kafka-detective: serving https://127.0.0.1:"), line + proc.stderr.read()
        port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
        status, _, body = request(port, headers=auth_header("prometheus", PASSWORD), context=client_context(pki))
        assert status == 200 and b"kafka_detective_build_info{" in body
        assert request(port, context=client_context(pki))[0] == 401
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def test_web_config_file_from_the_config_file_is_checked_too(tmp_path):
    bad = web_file(tmp_path, {"basic_auth_users": {"prometheus": "not-a-hash"}})
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"web_config_file": bad,
                                      "clusters": [{"name": "c", "bootstrap_servers": ["127.0.0.1:1"]}]}))
    proc = subprocess.run([sys.executable, "-m", "kafka_detective", "serve", "--config", str(config), "--check-config"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"kafka-detective serve: web config {bad}: basic_auth_users.prometheus: is not a bcrypt hash "
        "(make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)"]
