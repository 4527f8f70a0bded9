"""/metrics of a real exporter run agrees with the catalogue, docs/metrics.md and promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.config import parse_config
from kafka_detective.exporter import Exporter
from kafka_detective.metrics.catalogue import BY_NAME, CATALOGUE
from kafka_detective_tools.sandbox import kafka_tools

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_support import subscribed_consumer

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PREFIXES = ("process_", "python_")
# Rendered only at topics granularity topic (docs/configuration.md, Series): not on this default page.
TOPIC_SUMS = {s.name for s in CATALOGUE if s.replaces}


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: run scripts/setup.sh (Debian package prometheus)"
    return path


def check_metrics(text: str) -> list[str]:
    """promtool's lint findings; fails on a parse error (exit 1). Exit 3 means lint findings only."""
    result = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 3), result.stderr + result.stdout
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


def allowed_lint(findings: list[str]) -> None:
    """kafka_exporter's `_sum` names are kept on purpose so existing dashboards work; nothing else may lint."""
    compatible_sums = {s.name for s in CATALOGUE if s.kafka_exporter_compatible and s.name.endswith("_sum")}
    for line in findings:
        name = line.split()[0]
        assert name in compatible_sums and '"_sum" suffix' in line, line


@pytest.fixture(scope="module")
def scraped(kafka) -> str:
    topic = f"catalogue-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    try:
        admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}}, wait_for_metadata=True)
    finally:
        admin.close()
    kafka_tools.produce(kafka.bootstrap_servers, topic, 30)
    consumer = subscribed_consumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id="it-catalogue",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    consumer.poll(5000, max_records=5)
    consumer.commit()
    config = parse_config(
        {
            "listen_address": "127.0.0.1",
            "listen_port": 0,
            "interval_seconds": 1,
            "clusters": [{"name": "it", "bootstrap_servers": kafka.bootstrap_servers.split(",")}],
        }
    )
    try:
        with Exporter(config) as exporter:
            deadline = time.monotonic() + 60
            while True:
                with urllib.request.urlopen(f"http://127.0.0.1:{exporter.port}/metrics", timeout=10) as r:
                    text = r.read().decode()
                if "kafka_consumergroup_lag{" in text and "kafka_topic_retention_seconds{" in text:
                    return text
                assert time.monotonic() < deadline, "exporter never exposed lag"
                time.sleep(0.5)
    finally:
        consumer.close()


def test_real_metrics_pass_promtool(scraped):
    allowed_lint(check_metrics(scraped))


def test_every_exposed_family_is_catalogued_with_its_labels(scraped):
    seen: set[tuple[str, tuple]] = set()
    exposed: set[str] = set()
    for fam in text_string_to_metric_families(scraped):
        if fam.name.startswith(RUNTIME_PREFIXES):
            continue
        for sample in fam.samples:
            spec = BY_NAME.get(sample.name)
            assert spec is not None, f"{sample.name} is exposed but not in the catalogue"
            assert tuple(sample.labels) == spec.labels, f"{sample.name}: {sample.labels} vs {spec.labels}"
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in seen, f"duplicate series {key}"
            seen.add(key)
            exposed.add(sample.name)
    declared = set(re.findall(r"^# TYPE (\S+) ", scraped, flags=re.M))
    catalogued = {s.name for s in CATALOGUE} - TOPIC_SUMS
    assert catalogued <= declared, f"catalogued but never declared: {catalogued - declared}"
    assert not TOPIC_SUMS & declared, "the per-topic sums of topic granularity are not on the default page"
    # The families a plain cluster with one lagging group must produce (analysis families need history).
    must = {
        s.name for s in CATALOGUE if s.concern in ("cluster", "offsets", "groups", "lag", "topic_configs", "log_dirs")
    } - TOPIC_SUMS
    optional = {
        "kafka_broker_log_dir_total_bytes",
        "kafka_broker_log_dir_usable_bytes",
        "kafka_topic_retention_bytes",
        "kafka_consumergroup_epoch",
        "kafka_consumergroup_lost_messages",
        "kafka_topic_produce_rate_messages_per_second",
        "kafka_consumergroup_consume_rate_messages_per_second",
    }
    assert must - optional <= exposed, f"missing families: {sorted(must - optional - exposed)}"


def test_docs_metrics_md_lists_exactly_the_catalogue(scraped):
    docs = (ROOT / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"^\|\s*`([a-z_:]+)`", docs, flags=re.M)) - TOPIC_SUMS
    declared = {n for n in re.findall(r"^# TYPE (\S+) ", scraped, flags=re.M) if not n.startswith(RUNTIME_PREFIXES)}
    assert documented == declared, (
        f"documented but not exposed: {sorted(documented - declared)}; exposed but undocumented: "
        f"{sorted(declared - documented)}"
    )
