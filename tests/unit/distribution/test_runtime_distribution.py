"""The exporter's distribution is the runtime only: its wheel holds no tools, and `serve` runs without them.

The container image installs exactly this wheel (Dockerfile: pyproject.toml, README.md and exporter/ only), so
what these tests prove of the wheel holds for the image.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# What the tools distribution brings and the exporter must never need.
TOOL_ONLY_MODULES = ("numpy", "scipy", "matplotlib", "_jsonnet", "cryptography", "kafka_detective_tools")


def test_the_exporter_wheel_holds_the_runtime_package_only(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "exporter", source / "exporter", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("kafka_detective-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names}
    assert packages == {"kafka_detective", wheel.name.split("-py3")[0] + ".dist-info"}, packages
    rooms = {n.split("/")[1] for n in names if n.startswith("kafka_detective/") and n.count("/") >= 2}
    assert rooms == {"analysis", "commands", "gathering", "kafka", "metrics", "pipeline", "serving", "signals"}
    commands = {Path(n).stem for n in names if n.startswith("kafka_detective/commands/")}
    assert commands == {"__init__", "_argtypes", "serve"}
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and not [r for r in requires if any(m in r for m in ("numpy", "scipy", "matplotlib", "jsonnet"))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Runs `kafka-detective serve` in a Python where every tool-only module fails to import, as in the image.
SERVE_WITHOUT_TOOLS = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not installed here")
            return None

    sys.meta_path.insert(0, Block())
    from kafka_detective.cli import main
    sys.exit(main(sys.argv[2:]))
""")


def test_serve_runs_and_serves_metrics_without_the_tools_or_their_libraries(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        # Kafka at a closed port: the exporter must still serve its own metrics, cluster_up 0.
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_WITHOUT_TOOLS, ",".join(TOOL_ONLY_MODULES), "serve",
             "--bootstrap-server", f"127.0.0.1:{_free_port()}", "--listen-address", "127.0.0.1",
             "--listen-port", str(port), "--interval-seconds", "1"],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline, page = time.monotonic() + 90, ""
        while 'kafka_detective_cluster_up{cluster="default"} 0' not in page.splitlines():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"no cluster_up 0 on /metrics within 90 s:\n{page}\n{log.read_text()}"
            time.sleep(0.2)   # between polls, answered or not: the first cycle against a closed port takes a while
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            except OSError:
                continue
        assert "kafka_detective_build_info" in page
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "is not installed here" in log.read_text(), "the blocker must have been in the way of the tools' commands"


@pytest.mark.parametrize("command", ["investigate", "demo"])
def test_a_tools_command_without_the_tools_says_how_to_get_them(command: str) -> None:
    done = subprocess.run([sys.executable, "-c", SERVE_WITHOUT_TOOLS, ",".join(TOOL_ONLY_MODULES), command],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "invalid choice" in done.stderr and "kafka-detective-tools" in done.stderr, done.stderr
