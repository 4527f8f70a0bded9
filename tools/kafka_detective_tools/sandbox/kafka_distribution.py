"""The Apache Kafka jars from Maven Central, and the ``java`` command lines that run them.

``ensure_kafka_distribution`` resolves ``kafka_2.13`` and ``kafka-tools`` with their dependencies into a cache
outside the repository (no Kafka tarball, no Docker); ``java_command`` builds the command line of a broker or of one
of Kafka's tools from that classpath, with the sandbox's JVM flags and log configuration.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from kafka_detective_tools.sandbox.errors import KafkaSandboxError, MissingToolError

log = logging.getLogger(__name__)

KAFKA_VERSION = "4.4.0"
# Older Kafka lines the compatibility tests also run against (tests/integration/test_compat_kafka39.py);
# `scripts/setup.sh` fetches their jars too. Any other version of org.apache.kafka:kafka_2.13 works the same way.
COMPAT_KAFKA_VERSIONS: tuple[str, ...] = ("3.9.1",)
SCALA_BINARY_VERSION = "2.13"
# Kafka's Maven artifacts depend on log4j-core and slf4j-api but not on the binding between them (the binary
# distribution ships it), so without this the broker would log nothing at all.
LOG4J_VERSION = "2.25.5"
MIN_JAVA_MAJOR = 17
INSTALL_HINT = "install Java 17+ and Maven, e.g. `apt-get install openjdk-17-jre-headless maven`"

# One JVM per broker on a 2-core CI box: a small heap, the serial collector and the C1 compiler only (C2
# compiling Kafka's hot paths keeps a core busy for a minute after start) keep three brokers from starving the
# tests beside them; C1 code is fast enough for test and demo traffic. Pass jvm_opts=() for production flags.
DEFAULT_HEAP = "512m"
DEFAULT_JVM_OPTS: tuple[str, ...] = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
    "-Djava.net.preferIPv4Stack=true",
    # JVM warnings (e.g. a stale class-data archive) go to stderr so tool output on stdout stays parseable.
    "-Xlog:disable",
    "-Xlog:all=warning:stderr",
)

BROKER_MAIN = "kafka.Kafka"
STORAGE_TOOL_MAIN = "kafka.tools.StorageTool"
_COMPLETE_MARKER = ".complete"


def cache_root() -> Path:
    env = os.environ.get("KAFKA_DETECTIVE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "kafka-detective"


def find_java() -> str:
    """Path of a ``java`` that is at least version 17 (Kafka 4 brokers refuse older runtimes)."""
    candidates = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(str(Path(java_home) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    seen_versions = []
    for java in candidates:
        if not os.access(java, os.X_OK):
            continue
        major = _java_major(java)
        if major is not None and major >= MIN_JAVA_MAJOR:
            return java
        seen_versions.append(f"{java} is version {major}")
    found = f" (found: {'; '.join(seen_versions)})" if seen_versions else " (no `java` on PATH or in JAVA_HOME)"
    raise MissingToolError(f"the local Kafka needs Java {MIN_JAVA_MAJOR}+{found}: {INSTALL_HINT}")


@functools.lru_cache(maxsize=8)
def _java_version_text(java: str) -> str:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stderr + out.stdout


def _java_major(java: str) -> int | None:
    match = re.search(r'version "(\d+)(?:\.(\d+))?', _java_version_text(java))
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major


def find_maven() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise MissingToolError(f"fetching the Kafka jars needs Maven (`mvn` is not on PATH): {INSTALL_HINT}")
    return mvn


def distribution_dir(cache_dir: Path | str | None = None, version: str = KAFKA_VERSION) -> Path:
    """``<cache>/kafka-<version>``; ``cache_dir`` overrides the cache root like ``KAFKA_DETECTIVE_CACHE`` does."""
    root = Path(cache_dir).expanduser() if cache_dir else cache_root()
    return root / f"kafka-{version}"


def version_tuple(version: str) -> tuple[int, ...]:
    """'3.9.1' -> (3, 9, 1); a suffix such as '-rc1' is ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3])


def _pom(version: str = KAFKA_VERSION) -> str:
    deps = [
        ("org.apache.kafka", f"kafka_{SCALA_BINARY_VERSION}", version),
        ("org.apache.kafka", "kafka-tools", version),
        ("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION),
    ]
    dep_xml = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>"
        for g, a, v in deps
    )
    return f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-detective</groupId>
  <artifactId>kafka-sandbox</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dep_xml}
  </dependencies>
</project>
"""


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_kafka_distribution(cache_dir: Path | str | None = None, version: str = KAFKA_VERSION) -> Path:
    """Directory holding every jar the broker and Kafka's tools need (``java -cp '<dir>/*'``).

    The jars land in ``<cache>/kafka-<version>/libs``, where ``<cache>`` is ``cache_dir``, else
    ``$KAFKA_DETECTIVE_CACHE``, else ``~/.cache/kafka-detective`` (outside the repository). Safe when several processes
    (pytest-xdist workers, the demo) ask at once: one resolves under a file lock, and ``libs`` only appears,
    by rename, once complete.
    """
    dist = distribution_dir(cache_dir, version)
    libs = dist / "libs"
    if (dist / _COMPLETE_MARKER).exists() and libs.is_dir():
        _write_log4j_configs(dist)
        return libs
    find_java()
    mvn = find_maven()
    with _file_lock(dist / ".lock"):
        if not ((dist / _COMPLETE_MARKER).exists() and libs.is_dir()):
            _resolve_jars(mvn, dist, libs, version)
    _write_log4j_configs(dist)
    return libs


def _resolve_jars(mvn: str, dist: Path, libs: Path, version: str = KAFKA_VERSION) -> None:
    started = time.monotonic()
    log.info("fetching Apache Kafka %s jars from Maven Central into %s", version, libs)
    staging = Path(tempfile.mkdtemp(prefix="libs-staging-", dir=dist))
    try:
        pom = staging / "pom.xml"
        pom.write_text(_pom(version))
        cmd = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging / 'libs'}",
            "-DincludeScope=runtime",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=staging, timeout=1800)
        jars = list((staging / "libs").glob("*.jar")) if (staging / "libs").is_dir() else []
        if proc.returncode != 0 or not any(j.name.startswith(f"kafka_{SCALA_BINARY_VERSION}-") for j in jars):
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
            raise KafkaSandboxError(
                f"could not fetch Apache Kafka {version} from Maven Central "
                f"(`{' '.join(cmd)}` exited {proc.returncode}):\n{tail}"
            )
        if libs.exists():  # left by an interrupted earlier attempt (no completion marker)
            shutil.rmtree(libs)
        os.rename(staging / "libs", libs)
        (dist / "pom.xml").write_text(_pom(version))
        (dist / _COMPLETE_MARKER).write_text(f"{version}\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("fetched %d jars in %.1fs", len(list(libs.glob("*.jar"))), time.monotonic() - started)


# The broker logs to a file per node (console output would interleave three brokers); ${sys:kafka.logs.dir}
# is set per JVM. Tools log warnings to stderr only, so their stdout stays parseable.
_BROKER_LOG4J = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="server" fileName="${sys:kafka.logs.dir}/server.log">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="org.apache.kafka.raft" level="WARN"/>
    <Logger name="org.apache.kafka.storage.internals.log" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="kafka.server.KafkaConfig" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="server"/></Root>
  </Loggers>
</Configuration>
"""

_TOOLS_LOG4J = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="ERROR">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
"""


# Kafka 3.x logs through slf4j 1.7 with reload4j (log4j 1) beside the log4j2 binding added above; whichever binding
# slf4j picks, the same files get the same lines.
_BROKER_LOG4J1 = """log4j.rootLogger=WARN, server
log4j.appender.server=org.apache.log4j.FileAppender
log4j.appender.server.File=${kafka.logs.dir}/server.log
log4j.appender.server.layout=org.apache.log4j.PatternLayout
log4j.appender.server.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.raft=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.server.KafkaConfig=WARN
"""

_TOOLS_LOG4J1 = """log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


def _write_if_changed(path: Path, text: str) -> None:
    # Replace atomically so a broker starting in another process never reads half a file.
    if path.exists() and path.read_text() == text:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_log4j_configs(dist: Path) -> None:
    _write_if_changed(dist / "log4j2-broker.xml", _BROKER_LOG4J)
    _write_if_changed(dist / "log4j2-tools.xml", _TOOLS_LOG4J)
    _write_if_changed(dist / "log4j1-broker.properties", _BROKER_LOG4J1)
    _write_if_changed(dist / "log4j1-tools.properties", _TOOLS_LOG4J1)


def tools_log4j_config(libs: Path) -> Path:
    return libs.parent / "log4j2-tools.xml"


def classpath(libs: Path) -> str:
    return f"{libs}/*"


def cds_archive(libs: Path, java: str) -> Path:
    """Class-data-sharing archive of the broker's classes for this JVM build and classpath.

    Loading ~3000 classes from jars dominates a broker's start on a slow box; with the archive (dumped once,
    when the first broker ever started exits cleanly) a broker is ready about a second sooner.
    """
    ident = f"{os.path.realpath(java)}|{_java_version_text(java)}|{libs}|{KAFKA_VERSION}"
    return libs.parent / f"cds-{hashlib.sha1(ident.encode()).hexdigest()[:12]}.jsa"


def java_command(
    java: str,
    libs: Path,
    main: str,
    args: list[str],
    *,
    heap: str,
    jvm_opts: tuple[str, ...] = DEFAULT_JVM_OPTS,
    log4j_config: Path | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """``java ... -cp '<libs>/*' main args`` with the sandbox's JVM flags (shared by brokers and tools)."""
    archive = cds_archive(libs, java)
    cmd = [java, f"-Xmx{heap}", *jvm_opts]
    if archive.exists():
        cmd.append(f"-XX:SharedArchiveFile={archive}")
    log4j2 = log4j_config or tools_log4j_config(libs)
    cmd.append(f"-Dlog4j2.configurationFile={log4j2}")
    # The log4j 1 twin of that file, for 3.x releases (ignored by 4.x, which has no log4j 1 on its classpath).
    log4j1 = log4j2.with_name(log4j2.name.replace("log4j2-", "log4j1-")).with_suffix(".properties")
    cmd.append(f"-Dlog4j.configuration=file:{log4j1}")
    return [*cmd, *(extra or []), "-cp", classpath(libs), main, *args]
