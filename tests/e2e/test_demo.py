"""`kafka-detective demo` as a user runs it (the Makefile's `make demo`), in a short mode."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]


def demo(*args: str, env: dict[str, str] | None = None, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kafka_detective", "demo", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_list_scenarios_names_the_case_studies():
    proc = demo("--list-scenarios", timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in ("the-3am-mystery", "the-vanishing-messages", "the-slowdown", "the-storm", "the-ghost",
                 "consumers-down"):
        assert re.search(rf"^{name}\s", proc.stdout, flags=re.M), name


def test_missing_tools_are_named_with_how_to_get_them(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(bin_dir)
    proc = demo("--out", str(tmp_path / "out"), env=env, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for needed in ("Java 17", "prometheus", "prometheus-alertmanager", "apt-get install"):
        assert needed in message, message
    assert "Traceback" not in proc.stderr


def test_short_demo_solves_consumers_down_writes_the_report_and_cleans_up(tmp_path):
    out = tmp_path / "demo"
    proc = demo("--scenario", "consumers-down", "--duration", "45", "--check", "--out", str(out), "--plain")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-4000:]
    assert "KafkaConsumerGroupEmpty [critical] -> pager" in proc.stdout, proc.stdout[-4000:]
    assert "runbooks/KafkaConsumerGroupEmpty.md" in proc.stdout
    assert re.search(r"first diagnosis consumer_down", proc.stdout), proc.stdout[-4000:]
    # --check: the exit status above says the online diagnosis at the end is the story's; the summary says so too
    assert "diagnosis: consumer_down (confidence" in proc.stdout and "as expected (consumer_down)" in proc.stdout
    match = re.search(r"investigation report: (\S+)", proc.stdout)
    assert match, proc.stdout[-4000:]
    report = Path(match.group(1))
    assert report.is_file() and report.parent.parent == out
    assert "# Investigation: consumer group `checkout` on topic `orders`" in report.read_text()
    assert (out / "notifications.json").is_file()
    # the investigation pages: the URL printed, the case file as HTML, screenshots taken by headless Chromium
    assert re.search(r"investigation pages: http://127\.0\.0\.1:\d+/detective ", proc.stdout), proc.stdout[-4000:]
    assert "Consumer group down" in (report.parent / "report.html").read_text()
    assert (out / "detective.png").stat().st_size > 0 and (out / "detective-case.png").stat().st_size > 0
    # the delivered alert links to the case file (case_url from case_base_url, expanded by Prometheus)
    assert re.search(r"case file: http://127\.0\.0\.1:\d+/detective/case\?cluster=demo&group=checkout&topic=orders",
                     proc.stdout), proc.stdout[-4000:]
    # every process the demo started is gone
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", proc.stdout)]
    assert ports
    assert [p for p in ports if port_open(p)] == []
    assert "everything started by the demo is stopped" in proc.stdout


def test_the_vanishing_messages_end_with_retention_loss_online(tmp_path):
    """A case study at its own timeline (2.5 minutes): the exporter's online diagnosis at the end is the story's
    (--check), and the loss is paged with that diagnosis."""
    out = tmp_path / "demo"
    proc = demo("--scenario", "the-vanishing-messages", "--check", "--out", str(out), "--plain", timeout=480)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "as expected (retention_loss)" in proc.stdout, proc.stdout[-4000:]
    assert "KafkaConsumerMessagesLost [critical] -> pager  diagnosis=retention_loss" in proc.stdout, \
        proc.stdout[-4000:]
