"""Helpers of the integration tests (imported via sys.path, like tests/e2e/e2e_support.py): reading a collector's
rendered exposition back as series, with prometheus_client's parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.gathering.loop import ClusterCollector

Samples = dict[str, dict[tuple, float]]


def series(collector: ClusterCollector) -> Samples:
    """Family name -> {sorted label items: value}, parsed from the rendered exposition text."""
    text = collector.exposition.static_body().decode()
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def pick(samples: Samples, name: str, **labels: str) -> dict[tuple, float]:
    wanted = set(labels.items())
    return {k: v for k, v in samples.get(name, {}).items() if wanted <= set(k)}


def one(samples: Samples, name: str, **labels: str) -> float:
    found = pick(samples, name, **labels)
    assert len(found) == 1, f"{name}{labels}: {found}"
    return next(iter(found.values()))
