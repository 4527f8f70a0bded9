from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.metrics.catalogue import CATALOGUE
from kafka_detective.metrics.exposition import Exposition, family
from kafka_detective.metrics.family import labelset


def test_clusters_merge_under_one_header_per_family_and_escape_labels():
    exposition = Exposition()
    for cluster in ("b", "a"):
        lag = family("kafka_consumergroup_lag")
        lag.add((cluster, 'we"ird\\group\n', "t", "0"), 5)
        exposition.publish(cluster, [lag])
    text = exposition.static_body().decode()
    assert text.count("# TYPE kafka_consumergroup_lag gauge") == 1
    parsed = {f.name: f for f in text_string_to_metric_families(text)}
    samples = parsed["kafka_consumergroup_lag"].samples
    assert [s.labels["cluster"] for s in samples] == ["a", "b"]
    assert samples[0].labels["consumergroup"] == 'we"ird\\group\n'


def test_republishing_replaces_a_clusters_series():
    exposition = Exposition()
    first = family("kafka_consumergroup_lag")
    first.add(("c", "gone", "t", "0"), 1)
    exposition.publish("c", [first])
    exposition.publish("c", [family("kafka_consumergroup_lag")])
    assert b"gone" not in exposition.static_body()


def test_catalogue_names_are_unique_and_counters_end_in_total():
    names = [spec.name for spec in CATALOGUE]
    assert len(names) == len(set(names))
    for spec in CATALOGUE:
        assert (spec.type == "counter") == spec.name.endswith("_total"), spec.name
        assert spec.labels[:1] == ("cluster",) or spec.name == "kafka_detective_build_info", spec.name


def _publish_partitions(exposition: Exposition, names: list[str]) -> None:
    lag = family("kafka_consumergroup_lag")
    for name in names:
        lag.add(("c", name, "t", "0"), 1)
    exposition.publish("c", [lag])


def test_labelset_cache_stays_near_the_live_label_sets_under_churn():
    labelset.cache_clear()
    exposition = Exposition()
    live = [f"group-{i}" for i in range(2000)]
    largest = 0
    for cycle in range(100):
        # 100 groups renamed per cycle: 10,000 label sets are used once and never again.
        live = live[100:] + [f"new-{cycle}-{i}" for i in range(100)]
        _publish_partitions(exposition, live)
        largest = max(largest, labelset.cache_info().currsize)
    assert largest <= 2 * 2000 + 100, largest


def test_labelset_cache_is_kept_while_the_label_sets_do_not_change():
    labelset.cache_clear()
    exposition = Exposition()
    live = [f"group-{i}" for i in range(3000)]
    for _ in range(10):
        _publish_partitions(exposition, live)
    info = labelset.cache_info()
    assert info.misses == 3000 and info.hits == 9 * 3000, info
