"""A real Apache Kafka (KRaft) on loopback for tests, the demo and benchmarks.

``LocalKafka`` runs one or three combined broker+controller JVMs from the jars ``kafka_distribution`` fetches
from Maven Central. Every JVM runs in its own process group and is registered with the ``reaper``, which kills it
if this Python process dies in any way (even SIGKILL), so an interrupted test run never leaves brokers behind.

With ``security=KafkaSecurity()`` each broker also gets SASL_PLAINTEXT, SSL and SASL_SSL client listeners (PLAIN,
SCRAM and unsecured-JWS OAUTHBEARER; a throwaway CA and broker certificate are generated at every start), while
the inter-broker and controller listeners stay PLAINTEXT.

Run ``python -m kafka_detective_tools.sandbox.local_kafka --brokers 3`` for a cluster that lives until Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka_detective.errors import UserError
from kafka_detective_tools.sandbox.errors import KafkaSandboxError
from kafka_detective_tools.sandbox.kafka_distribution import (
    BROKER_MAIN,
    COMPAT_KAFKA_VERSIONS,
    DEFAULT_HEAP,
    DEFAULT_JVM_OPTS,
    KAFKA_VERSION,
    STORAGE_TOOL_MAIN,
    cds_archive,
    ensure_kafka_distribution,
    find_java,
    java_command,
    version_tuple,
)
from kafka_detective_tools.sandbox.reaper import Reaper
from kafka_detective_tools.sandbox.tls_material import generate_tls_material, write_private

log = logging.getLogger(__name__)


class PortTakenError(KafkaSandboxError):
    """A broker could not bind the port chosen for it: another process took it first."""


# --------------------------------------------------------------------------------------------------------------
# Security: SASL / TLS client listeners
# --------------------------------------------------------------------------------------------------------------

SECURE_PROTOCOLS = ("SASL_PLAINTEXT", "SSL", "SASL_SSL")
BROKER_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
_SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
# Names and passwords end up inside JAAS strings, Java properties and ``--add-scram 'M=[name=..,password=..]'``:
# allowing only these characters needs no quoting rules anywhere.
_CREDENTIAL = re.compile(r"^[A-Za-z0-9_.~-]{1,128}$")
_JAAS = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "OAUTHBEARER": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule",
}
OAUTHBEARER_UNSECURED_VALIDATOR = (
    "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler"
)


@dataclass(frozen=True)
class KafkaSecurity:
    """Secured client listeners for ``LocalKafka(security=...)``.

    ``protocols``: which of SASL_PLAINTEXT, SSL and SASL_SSL get a listener (PLAINTEXT always stays, for the
    brokers themselves and for test setup). ``mechanisms``: SASL mechanisms enabled on the SASL listeners.
    ``users``: name -> password, accepted by PLAIN and created as SCRAM credentials at format time; by default
    one user ``detective`` with a random password (kept in a kept workdir). OAUTHBEARER validates unsecured JWS
    tokens (``alg: none``) whose ``sub`` claim is the principal: a test mechanism only, never for production.
    """

    protocols: tuple[str, ...] = SECURE_PROTOCOLS
    mechanisms: tuple[str, ...] = ("PLAIN", "SCRAM-SHA-512", "OAUTHBEARER")
    users: Mapping[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        unknown = [p for p in self.protocols if p not in SECURE_PROTOCOLS]
        if unknown or not self.protocols:
            raise ValueError(f"protocols must be a non-empty subset of {SECURE_PROTOCOLS}, got {self.protocols}")
        unknown = [m for m in self.mechanisms if m not in BROKER_SASL_MECHANISMS]
        if unknown:
            raise ValueError(f"mechanisms must be among {BROKER_SASL_MECHANISMS}, got {unknown}")
        if any(p.startswith("SASL_") for p in self.protocols) and not self.mechanisms:
            raise ValueError("a SASL listener needs at least one mechanism")
        for name, password in (self.users or {}).items():
            if not (_CREDENTIAL.match(name) and _CREDENTIAL.match(password)):
                raise ValueError(f"user {name!r}: names and passwords may only use letters, digits and '_.~-'")

    @property
    def uses_tls(self) -> bool:
        return any(p in ("SSL", "SASL_SSL") for p in self.protocols)


# --------------------------------------------------------------------------------------------------------------
# LocalKafka
# --------------------------------------------------------------------------------------------------------------


def _free_ports(count: int) -> list[int]:
    # Hold every socket open until all are chosen so the kernel hands out distinct ports.
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _new_cluster_id() -> str:
    # Like Kafka's Uuid.randomUuid: an id starting with "-" (1 in 64) would be read as an option by
    # kafka-storage format.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class _Node:
    node_id: int
    port: int
    controller_port: int
    directory: Path
    # secured client listener ports by protocol (SASL_PLAINTEXT, SSL, SASL_SSL); empty without security
    listener_ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    # Set when we stop or kill the broker on purpose; any other exit is a crash worth reporting.
    stopped_on_purpose: bool = False

    @property
    def config_path(self) -> Path:
        return self.directory / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_dir(self) -> Path:
        return self.directory / "logs"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class _State:
    """Everything cleanup needs, kept apart from LocalKafka so the finalizer holds no reference to it."""

    nodes: dict[int, _Node] = field(default_factory=dict)
    temp_workdir: Path | None = None
    # pid of a broker dumping the class-data archive at exit -> (its temporary file, the archive's path)
    cds_dumps: dict[int, tuple[Path, Path]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    # The JVM leads its own process group (start_new_session), so the group id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _finish_cds_dump(state: _State, proc: subprocess.Popen[bytes]) -> None:
    dump = state.cds_dumps.pop(proc.pid, None)
    if dump is None or proc.poll() is None:
        return
    tmp, final = dump
    # Only a JVM that ran its shutdown normally (SIGTERM -> 143) has written the whole archive.
    if proc.returncode in (0, 143, -signal.SIGTERM) and tmp.exists() and tmp.stat().st_size > 0:
        os.replace(tmp, final)
    else:
        tmp.unlink(missing_ok=True)


def _terminate(state: _State, proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.pid in state.cds_dumps and timeout > 0:
        timeout = max(timeout, 20.0)
    if proc.poll() is None and timeout > 0:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("broker pid %d ignored SIGTERM for %.0fs; killing it", proc.pid, timeout)
    # Once reaped, the pid (and so the group id) may belong to someone else: only signal a live JVM.
    if proc.poll() is None:
        _signal_group(proc, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
    Reaper.send(f"-g {proc.pid}")
    _finish_cds_dump(state, proc)


def _cleanup(state: _State, graceful_timeout: float) -> None:
    with state.lock:
        procs = [n.proc for n in state.nodes.values() if n.proc is not None]
        # SIGTERM all first: with three combined nodes, stopping them one by one makes the last two wait for
        # a quorum that is already going away.
        for proc in procs:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + graceful_timeout
        for proc in procs:
            grace = 20.0 if proc.pid in state.cds_dumps else 0.0
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(grace, deadline - time.monotonic()))
        for proc in procs:
            _terminate(state, proc, 0)
        for node in state.nodes.values():
            node.proc = None
        if state.temp_workdir is not None:
            shutil.rmtree(state.temp_workdir, ignore_errors=True)
            Reaper.send(f"-d {state.temp_workdir}")
            state.temp_workdir = None


class LocalKafka:
    """One or more combined broker+controller KRaft nodes on 127.0.0.1.

    With three nodes, all three are controller voters (static ``controller.quorum.voters``), so any single node
    can be stopped or killed while the other two keep the quorum and serve clients.

    ``security`` (a ``KafkaSecurity``, or ``True`` for its defaults) adds secured client listeners beside
    PLAINTEXT: ``bootstrap_for_protocol("SASL_SSL")``, ``ca_file``, ``users`` and ``client_properties(...)`` say
    how to reach them. Broker-side secrets live only in the workdir's files (mode 0600), never in an argv.

    ``kafka_version`` picks the Apache Kafka release (default ``KAFKA_VERSION``; 3.x brokers run KRaft too).
    """

    def __init__(
        self,
        brokers: int = 1,
        workdir: Path | str | None = None,
        broker_overrides: Mapping[str, Any] | None = None,
        *,
        heap: str = DEFAULT_HEAP,
        jvm_opts: tuple[str, ...] = DEFAULT_JVM_OPTS,
        startup_timeout: float = 90.0,
        cache_dir: Path | str | None = None,
        security: KafkaSecurity | bool | None = None,
        kafka_version: str = KAFKA_VERSION,
    ) -> None:
        if brokers < 1:
            raise ValueError("brokers must be >= 1")
        self.brokers = brokers
        self.kafka_version = kafka_version
        if security is True:
            security = KafkaSecurity()
        self.security: KafkaSecurity | None = security or None
        self._users: dict[str, str] = {}
        self._tls: dict[str, Path] = {}
        self._requested_workdir = Path(workdir) if workdir is not None else None
        self._workdir: Path | None = None
        self.broker_overrides = dict(broker_overrides or {})
        self.heap = heap
        self.jvm_opts = tuple(jvm_opts)
        self.startup_timeout = startup_timeout
        self._cache_dir = cache_dir
        self._libs: Path | None = None
        self._java: str | None = None
        self.cluster_id: str | None = None
        self.startup_seconds: float | None = None
        self._state = _State()
        self._fresh_layout = True
        self._finalizer = weakref.finalize(self, _cleanup, self._state, 5.0)

    # -- properties ----------------------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise KafkaSandboxError("LocalKafka is not started")
        return self._workdir

    @property
    def broker_ids(self) -> list[int]:
        return sorted(self._state.nodes)

    @property
    def live_broker_ids(self) -> list[int]:
        return [i for i in self.broker_ids if self._state.nodes[i].running]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{self._node(i).port}" for i in self.broker_ids)

    def bootstrap_for(self, broker_id: int) -> str:
        return f"127.0.0.1:{self._node(broker_id).port}"

    def bootstrap_for_protocol(self, protocol: str) -> str:
        """Bootstrap servers of the client listener speaking ``protocol`` (PLAINTEXT, SASL_PLAINTEXT, SSL,
        SASL_SSL); raises ``KafkaSandboxError`` for a protocol this cluster was not started with."""
        if protocol == "PLAINTEXT":
            return self.bootstrap_servers
        if self.security is None or protocol not in self.security.protocols:
            enabled = ("PLAINTEXT", *(self.security.protocols if self.security else ()))
            raise KafkaSandboxError(f"no {protocol} listener (this cluster has {', '.join(enabled)})")
        return ",".join(f"127.0.0.1:{self._node(i).listener_ports[protocol]}" for i in self.broker_ids)

    @property
    def ca_file(self) -> Path:
        """PEM certificate of the throwaway CA that signed the brokers' certificate (SSL, SASL_SSL)."""
        if "ca" not in self._tls:
            raise KafkaSandboxError("no TLS listener: start LocalKafka with security including SSL or SASL_SSL")
        return self._tls["ca"]

    @property
    def users(self) -> dict[str, str]:
        """SASL users, name -> password (PLAIN, and SCRAM for the enabled SCRAM mechanisms)."""
        if self.security is None:
            raise KafkaSandboxError("no SASL users: LocalKafka was started without security")
        return dict(self._users)

    def client_properties(self, protocol: str, mechanism: str | None = None, user: str | None = None,
                          password: str | None = None) -> dict[str, str]:
        """Java client properties (for a tool's ``--command-config``) to reach the ``protocol`` listener.

        ``user`` defaults to the first user; ``password`` defaults to that user's (pass another to fail on
        purpose). With OAUTHBEARER the Java client makes its own unsecured token with ``sub=user``.
        """
        self.bootstrap_for_protocol(protocol)  # validates the protocol
        props = {"security.protocol": protocol}
        if protocol in ("SSL", "SASL_SSL"):
            props.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": str(self.ca_file),
                          "ssl.endpoint.identification.algorithm": "https"})
        if protocol.startswith("SASL_"):
            assert self.security is not None
            mechanism = mechanism or self.security.mechanisms[0]
            if mechanism not in self.security.mechanisms:
                raise KafkaSandboxError(f"{mechanism} is not enabled (enabled: {', '.join(self.security.mechanisms)})")
            user = user or next(iter(self._users))
            if password is None:
                password = self._users[user]
            props["sasl.mechanism"] = mechanism
            if mechanism == "OAUTHBEARER":
                props["sasl.jaas.config"] = f'{_JAAS["OAUTHBEARER"]} required unsecuredLoginStringClaim_sub="{user}";'
            else:
                module = _JAAS["PLAIN" if mechanism == "PLAIN" else "SCRAM"]
                props["sasl.jaas.config"] = f'{module} required username="{user}" password="{password}";'
        return props

    def write_client_properties(self, path: Path | str, protocol: str, mechanism: str | None = None,
                                user: str | None = None, password: str | None = None) -> Path:
        """``client_properties`` written to ``path`` (mode 0600); returns the path."""
        path = Path(path)
        write_private(path, _properties_text(self.client_properties(protocol, mechanism, user, password)))
        return path

    @property
    def libs(self) -> Path:
        if self._libs is None:
            raise KafkaSandboxError("LocalKafka is not started")
        return self._libs

    def broker_log(self, broker_id: int) -> Path:
        """The broker's server.log (log4j); JVM stdout/stderr (crashes, GC errors) go to ``console.log``."""
        return self._node(broker_id).log_dir / "server.log"

    def console_log(self, broker_id: int) -> Path:
        return self._node(broker_id).log_dir / "console.log"

    def _node(self, broker_id: int) -> _Node:
        try:
            return self._state.nodes[broker_id]
        except KeyError:
            raise KafkaSandboxError(f"no broker {broker_id} (brokers: {self.broker_ids})") from None

    # -- lifecycle -----------------------------------------------------------------------------------------

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalKafka:
        started = time.monotonic()
        self._libs = ensure_kafka_distribution(self._cache_dir, self.kafka_version)
        self._java = find_java()
        # Ports are picked free but only bound later by the JVM; on a busy machine another process (a client's
        # ephemeral port) can take one in between. A fresh cluster then simply retries with new ports.
        for attempt in range(1, 4):
            try:
                self._start_once()
                break
            except PortTakenError as exc:
                if attempt == 3 or not self._fresh_layout:
                    raise
                log.warning("retrying local Kafka start with new ports: %s", exc)
                if self._requested_workdir is not None:
                    (self.workdir / "cluster.json").unlink(missing_ok=True)
        self.startup_seconds = time.monotonic() - started
        log.info(
            "local Kafka %s (%d broker(s)) ready at %s in %.1fs",
            self.kafka_version,
            self.brokers,
            self.bootstrap_servers,
            self.startup_seconds,
        )
        return self

    def _start_once(self) -> None:
        with self._state.lock:
            if self._state.nodes and any(n.running for n in self._state.nodes.values()):
                raise KafkaSandboxError("LocalKafka is already running")
            self._prepare_workdir()
            try:
                self._prepare_nodes()
                for node in self._state.nodes.values():
                    self._spawn(node)
            except BaseException:
                _cleanup(self._state, 5.0)
                raise
        try:
            self.wait_ready(self.startup_timeout)
            self._create_offsets_topic(self.startup_timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float | None = None) -> None:
        """Stop every broker (SIGTERM, then SIGKILL after ``timeout``) and delete a temporary workdir.

        The default grace is short for a temporary workdir, whose data is deleted anyway: with three combined
        nodes the last one to stop waits ~5 s for a controller that is already gone.
        """
        if timeout is None:
            timeout = 2.0 if self._state.temp_workdir is not None else 20.0
        _cleanup(self._state, timeout)

    def _prepare_workdir(self) -> None:
        if self._requested_workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="kafka-detective-kafka-"))
            self._state.temp_workdir = self._workdir
            Reaper.send(f"+d {self._workdir}")
        else:
            self._workdir = self._requested_workdir.resolve()
            self._workdir.mkdir(parents=True, exist_ok=True)

    def _prepare_nodes(self) -> None:
        layout_file = self.workdir / "cluster.json"
        layout = json.loads(layout_file.read_text()) if layout_file.exists() else None
        security = self._prepare_security()
        # A kept workdir restarts the same cluster (same id, ports, data); anything else starts afresh.
        self._fresh_layout = not (
            layout
            and layout.get("version") == self.kafka_version
            and len(layout.get("nodes", [])) == self.brokers
            and layout.get("security") == security
        )
        if layout and not self._fresh_layout:
            self.cluster_id = layout["cluster_id"]
            ports = [(n["id"], n["port"], n["controller_port"], n.get("listener_ports", {})) for n in layout["nodes"]]
        else:
            self.cluster_id = _new_cluster_id()
            protocols = self.security.protocols if self.security else ()
            per_node = 2 + len(protocols)
            free = _free_ports(per_node * self.brokers)
            ports = []
            for i in range(self.brokers):
                mine = free[per_node * i : per_node * (i + 1)]
                ports.append((i + 1, mine[0], mine[1], dict(zip(protocols, mine[2:], strict=True))))
            for i in range(1, self.brokers + 1):
                shutil.rmtree(self.workdir / f"broker-{i}", ignore_errors=True)
            layout_file.write_text(
                json.dumps(
                    {
                        "version": self.kafka_version,
                        "cluster_id": self.cluster_id,
                        "security": security,
                        "nodes": [
                            {"id": i, "port": p, "controller_port": c, "listener_ports": lp} for i, p, c, lp in ports
                        ],
                    },
                    indent=2,
                )
            )
        self._state.nodes = {i: _Node(i, p, c, self.workdir / f"broker-{i}", lp) for i, p, c, lp in ports}
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self._state.nodes.values())
        for node in self._state.nodes.values():
            node.log_dir.mkdir(parents=True, exist_ok=True)
            # Holds the PLAIN users' passwords with security on: readable by the owner only.
            write_private(node.config_path, _properties_text(self._broker_properties(node, voters)))
        self._format_storage([n for n in self._state.nodes.values() if not (n.data_dir / "meta.properties").exists()])

    def _prepare_security(self) -> dict[str, Any] | None:
        """Users (generated once per kept workdir) and fresh TLS material; returns the layout's fingerprint."""
        if self.security is None:
            return None
        directory = self.workdir / "security"
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        users_file = directory / "users.json"
        if self.security.users:
            users = dict(self.security.users)
        elif users_file.exists():
            users = json.loads(users_file.read_text())
        else:
            users = {"detective": secrets.token_urlsafe(18)}
        write_private(users_file, json.dumps(users))
        self._users = users
        self._tls = generate_tls_material(directory / "tls") if self.security.uses_tls else {}
        digest = hashlib.sha256(json.dumps(sorted(users.items())).encode()).hexdigest()
        return {"protocols": list(self.security.protocols), "mechanisms": list(self.security.mechanisms),
                "users_sha256": digest}

    def _security_properties(self, node: _Node) -> dict[str, Any]:
        security = self.security
        if security is None:
            return {}
        props: dict[str, Any] = {}
        sasl_listeners = [p for p in security.protocols if p.startswith("SASL_")]
        if sasl_listeners:
            props["sasl.enabled.mechanisms"] = ",".join(security.mechanisms)
        for listener in sasl_listeners:
            prefix = f"listener.name.{listener.lower()}"
            props[f"{prefix}.sasl.enabled.mechanisms"] = ",".join(security.mechanisms)
            for mechanism in security.mechanisms:
                key = f"{prefix}.{mechanism.lower()}"
                if mechanism == "PLAIN":
                    users = " ".join(f'user_{name}="{password}"' for name, password in self._users.items())
                    props[f"{key}.sasl.jaas.config"] = f"{_JAAS['PLAIN']} required {users};"
                elif mechanism in _SCRAM_MECHANISMS:
                    props[f"{key}.sasl.jaas.config"] = f"{_JAAS['SCRAM']} required;"
                elif mechanism == "OAUTHBEARER":
                    props[f"{key}.sasl.jaas.config"] = (
                        f'{_JAAS["OAUTHBEARER"]} required unsecuredLoginStringClaim_sub="kafka-broker";'
                    )
                    props[f"{key}.sasl.server.callback.handler.class"] = OAUTHBEARER_UNSECURED_VALIDATOR
        if security.uses_tls:
            props["ssl.keystore.type"] = "PEM"
            props["ssl.keystore.location"] = str(self._tls["broker_keystore"])
            props["ssl.client.auth"] = "none"
        return props

    def _broker_properties(self, node: _Node, voters: str) -> dict[str, str]:
        rf = min(3, self.brokers)
        min_isr = min(2, rf)
        secured = "".join(f",{p}://127.0.0.1:{port}" for p, port in node.listener_ports.items())
        protocol_map = "".join(f",{p}:{p}" for p in node.listener_ports)
        props: dict[str, Any] = {
            "process.roles": "broker,controller",
            "node.id": node.node_id,
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}{secured}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}{secured}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": f"PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT{protocol_map}",
            "log.dirs": str(node.data_dir),
            # Fewer threads than the production defaults: up to three brokers share two cores with the tests.
            "num.network.threads": 2,
            "num.io.threads": 4,
            "background.threads": 4,
            "num.partitions": 1,
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": min_isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": min_isr,
            # Few offsets partitions so they spread over three brokers and different groups get different
            # coordinators, and so __consumer_offsets is created quickly.
            "offsets.topic.num.partitions": 10,
            "share.coordinator.state.topic.num.partitions": 3,
            "group.initial.rebalance.delay.ms": 0,
            # Retention and delete-records tests should see the log start offset move within seconds.
            "log.retention.check.interval.ms": 2000,
            "log.segment.delete.delay.ms": 1000,
            "file.delete.delay.ms": 1000,
            # KIP-848: the consumer protocol is on by default in 4.x; stated so a test failing on it says why.
            "group.coordinator.rebalance.protocols": "classic,consumer,streams",
            # Short KIP-848 session so a killed consumer leaves its group in seconds, not 45 s.
            "group.consumer.min.session.timeout.ms": 6000,
            "group.consumer.session.timeout.ms": 10000,
            "group.consumer.min.heartbeat.interval.ms": 1000,
            "group.consumer.heartbeat.interval.ms": 2000,
            # A killed broker is fenced (and its partitions get new leaders) after 6 s instead of 9 s.
            "broker.session.timeout.ms": 6000,
            "broker.heartbeat.interval.ms": 1000,
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
        }
        if version_tuple(self.kafka_version) < (4,):
            # 3.x knows neither share groups nor streams groups, and its KIP-848 consumer protocol is an early
            # access preview: classic groups only, as a 3.9 cluster in production runs.
            for key in [k for k in props if k.startswith("share.")]:
                del props[key]
            props["group.coordinator.rebalance.protocols"] = "classic"
        props.update(self._security_properties(node))
        props.update(self.broker_overrides)
        return {k: _prop_value(v) for k, v in props.items()}

    def _format_storage(self, nodes: list[_Node]) -> None:
        if not nodes:
            return
        assert self.cluster_id is not None
        args = ["format", "-t", self.cluster_id]
        scram = [m for m in (self.security.mechanisms if self.security else ()) if m in _SCRAM_MECHANISMS]
        procs = []
        for node in nodes:
            assert self._java is not None and self._libs is not None
            node_args = [*args, "-c", str(node.config_path)]
            if scram:
                # SCRAM credentials are metadata records written at format time. kafka-storage (argparse4j) reads
                # arguments from an @file, one per line, taken verbatim: the passwords never appear in an argv.
                argfile = node.directory / "format-scram.args"
                entries = [f"{m}=[name={n},password={pw}]" for m in scram for n, pw in self._users.items()]
                write_private(argfile, "".join(f"--add-scram\n{e}\n" for e in entries))
                node_args.append(f"@{argfile}")
            cmd = java_command(
                self._java,
                self._libs,
                STORAGE_TOOL_MAIN,
                node_args,
                heap="256m",
                jvm_opts=self.jvm_opts,
            )
            procs.append((node, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        errors = []
        for node, proc in procs:
            out, _ = proc.communicate(timeout=120)
            if proc.returncode != 0:
                errors.append(f"broker {node.node_id}: {out.strip()}")
        if errors:
            raise KafkaSandboxError("formatting KRaft storage failed:\n" + "\n".join(errors))

    def _spawn(self, node: _Node) -> None:
        assert self._java is not None and self._libs is not None
        node.stopped_on_purpose = False
        extra = [f"-Dkafka.logs.dir={node.log_dir}"]
        archive = cds_archive(self._libs, self._java)
        dump_to = None
        if not archive.exists() and not self._state.cds_dumps:
            dump_to = archive.with_name(f".{archive.name}.{os.getpid()}.{node.node_id}.tmp")
            extra.append(f"-XX:ArchiveClassesAtExit={dump_to}")
        cmd = java_command(
            self._java,
            self._libs,
            BROKER_MAIN,
            [str(node.config_path)],
            heap=self.heap,
            jvm_opts=self.jvm_opts,
            log4j_config=self._libs.parent / "log4j2-broker.xml",
            extra=extra,
        )
        with open(node.log_dir / "console.log", "ab") as console:
            node.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=node.directory,
                start_new_session=True,
            )
        Reaper.send(f"+g {node.proc.pid}")
        if dump_to is not None:
            self._state.cds_dumps[node.proc.pid] = (dump_to, archive)

    # -- single brokers ------------------------------------------------------------------------------------

    def stop_broker(self, broker_id: int, timeout: float = 30.0) -> None:
        """Controlled shutdown (SIGTERM): leadership moves away before the broker exits."""
        with self._state.lock:
            node = self._node(broker_id)
            if node.proc is not None:
                node.stopped_on_purpose = True
                _terminate(self._state, node.proc, timeout)

    def kill_broker(self, broker_id: int) -> None:
        """Crash (SIGKILL): the controller only notices when the broker's session times out."""
        with self._state.lock:
            node = self._node(broker_id)
            if node.proc is not None:
                node.stopped_on_purpose = True
                _terminate(self._state, node.proc, 0)

    def start_broker(self, broker_id: int, wait: bool = True, timeout: float = 60.0) -> None:
        """Restart a stopped broker with its ports and data; by default wait until it is back in the cluster."""
        with self._state.lock:
            node = self._node(broker_id)
            if node.running:
                raise KafkaSandboxError(f"broker {broker_id} is already running")
            self._spawn(node)
        if wait:
            self.wait_ready(timeout)

    def restart_stopped(self, timeout: float = 60.0) -> list[int]:
        """Start every broker that is not running (after stop/kill in a test) and wait; returns their ids."""
        with self._state.lock:
            stopped = [i for i in self.broker_ids if not self._state.nodes[i].running]
            for broker_id in stopped:
                self._spawn(self._state.nodes[broker_id])
        if stopped:
            self.wait_ready(timeout)
        return stopped

    # -- readiness -----------------------------------------------------------------------------------------

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the cluster's metadata lists exactly the running brokers, unfenced.

        After ``kill_broker`` this also waits for the dead broker to be fenced, i.e. for its session to expire.
        """
        deadline = time.monotonic() + timeout
        last_error: str = "no answer yet"
        while True:
            self._check_alive()
            live = set(self.live_broker_ids)
            if not live:
                raise KafkaSandboxError("no broker is running")
            if all(_port_open(self._node(i).port) for i in live):
                try:
                    seen = self._unfenced_brokers(live)
                    if seen == live:
                        return
                    last_error = f"metadata lists brokers {sorted(seen)}, running are {sorted(live)}"
                except Exception as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
            else:
                last_error = "ports not open yet"
            if time.monotonic() > deadline:
                raise KafkaSandboxError(
                    f"local Kafka not ready after {timeout:.0f}s ({last_error}); logs: "
                    + ", ".join(str(self.broker_log(i)) for i in sorted(live))
                )
            time.sleep(0.3)

    def _check_alive(self) -> None:
        for node in self._state.nodes.values():
            if node.proc is not None and node.proc.poll() is not None and not node.stopped_on_purpose:
                summary = _crash_summary(node.log_dir)
                error = PortTakenError if "Address already in use" in summary else KafkaSandboxError
                raise error(
                    f"broker {node.node_id} exited with code {node.proc.returncode}; see {node.log_dir}:\n{summary}"
                )

    def _create_offsets_topic(self, timeout: float) -> None:
        """Have ``__consumer_offsets`` created now, while every broker is up.

        Kafka creates it on the first group request, with replication factor min(3, brokers). A test that kills
        a broker of the 3-node cluster before any group was used would otherwise find that creation impossible
        (2 live brokers < RF 3) and no group could ever get a coordinator.
        """
        from kafka import KafkaAdminClient

        partitions = int(self.broker_overrides.get("offsets.topic.num.partitions", 10))
        deadline = time.monotonic() + timeout
        admin = KafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=5000, client_id="kafka-detective-sandbox"
        )
        try:
            while True:
                # FindCoordinator for any group is what triggers the creation.
                with contextlib.suppress(Exception):
                    admin.describe_groups(["kafka-detective-sandbox-warmup"])
                with contextlib.suppress(Exception):
                    (topic,) = admin.describe_topics(["__consumer_offsets"])
                    parts = topic.get("partitions") or []
                    if len(parts) == partitions and all(p["leader_id"] >= 0 for p in parts):
                        return
                if time.monotonic() > deadline:
                    raise KafkaSandboxError(f"__consumer_offsets was not created within {timeout:.0f}s")
                time.sleep(0.3)
        finally:
            admin.close()

    def _unfenced_brokers(self, live: set[int]) -> set[int]:
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(
            bootstrap_servers=",".join(self.bootstrap_for(i) for i in sorted(live)),
            request_timeout_ms=5000,
            # Something else listening on a port we picked must not hold a readiness probe for 30 s.
            bootstrap_timeout_ms=5000,
            client_id="kafka-detective-sandbox",
        )
        try:
            cluster = admin.describe_cluster()
        finally:
            admin.close()
        return {b["broker_id"] for b in cluster["brokers"] if not b.get("is_fenced", False)}


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _crash_summary(log_dir: Path) -> str:
    # The end of server.log is shutdown chatter; the cause is in its first ERROR lines or on the console.
    server = _tail(log_dir / "server.log", 2000).splitlines()
    errors = [line for line in server if " ERROR " in line or "Exception:" in line][:8]
    console = _tail(log_dir / "console.log", 10)
    return "\n".join([*errors, console] if console else errors or server[-15:])


def _prop_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _properties_text(props: Mapping[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in props.items())


# --------------------------------------------------------------------------------------------------------------
# python -m kafka_detective_tools.sandbox.local_kafka
# --------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kafka_detective_tools.sandbox.local_kafka",
        description="Run a local Apache Kafka (KRaft) on 127.0.0.1 until interrupted.",
    )
    parser.add_argument("--brokers", type=int, default=1, choices=(1, 2, 3, 4, 5))
    parser.add_argument("--workdir", type=Path, help="keep data here (reused on the next run); default: temporary")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="extra broker property (repeatable)"
    )
    parser.add_argument(
        "--security", action="store_true",
        help="also SASL_PLAINTEXT, SSL and SASL_SSL listeners (PLAIN, SCRAM-SHA-512, unsecured OAUTHBEARER)",
    )
    parser.add_argument("--kafka-version", default=KAFKA_VERSION,
                        help=f"Apache Kafka release, fetched from Maven Central (default {KAFKA_VERSION}; "
                        f"tested: {', '.join(COMPAT_KAFKA_VERSIONS)} too)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # kafka-python narrates every readiness probe
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set needs KEY=VALUE, got {item!r}")
        overrides[key] = value

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with LocalKafka(args.brokers, workdir=args.workdir, broker_overrides=overrides,
                        security=args.security, kafka_version=args.kafka_version) as kafka:
            print(f"bootstrap servers: {kafka.bootstrap_servers}", flush=True)
            if kafka.security is not None:
                for protocol in kafka.security.protocols:
                    print(f"{protocol}: {kafka.bootstrap_for_protocol(protocol)}", flush=True)
                print(f"SASL users and CA: {kafka.workdir / 'security'}", flush=True)
            print(f"workdir: {kafka.workdir}  (ready in {kafka.startup_seconds:.1f}s; Ctrl-C to stop)", flush=True)
            while not stop.wait(1.0):
                kafka._check_alive()
            print("stopping…", flush=True)
    except (UserError, KafkaSandboxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
