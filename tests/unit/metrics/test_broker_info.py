"""kafka_broker_info carries both its own labels and kafka_exporter's (`id`, `address`), so dashboards and alerts
written for either exporter keep matching."""

from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.gathering.snapshot import Broker, ClusterState, Snapshot
from kafka_detective.metrics.cluster import families
from kafka_detective.metrics.exposition import header
from kafka_detective.metrics.view import CollectionStats, View
from kafka_detective.signals.derive import Derived


def _broker_info(*brokers: Broker) -> list[dict[str, str]]:
    state = ClusterState(brokers=brokers, controller_id=brokers[0].broker_id, partitions={}, collected_at=1.0)
    stats = CollectionStats(up=True, phase_seconds={}, phase_errors_total={}, cycles_total=1,
                            last_success_timestamp=1.0, requests_total={})
    view = View("prod", Snapshot("prod", 1.0, state=state), Derived(), stats)
    (info,) = [f for f in families(view) if f.spec.name == "kafka_broker_info"]
    text = header(info.spec) + info.render()
    (parsed,) = text_string_to_metric_families(text)
    return [s.labels for s in parsed.samples]


def test_broker_info_has_kafka_exporter_labels_beside_its_own() -> None:
    (labels,) = _broker_info(Broker(3, "kafka-3.kafka", 9093, "eu-1a"))
    assert labels == {"cluster": "prod", "broker_id": "3", "host": "kafka-3.kafka", "port": "9093",
                      "rack": "eu-1a", "id": "3", "address": "kafka-3.kafka:9093"}


def test_ipv6_broker_address_is_bracketed() -> None:
    (labels,) = _broker_info(Broker(1, "fd00::5", 9092, None))
    assert labels["address"] == "[fd00::5]:9092"
    assert labels["rack"] == ""
