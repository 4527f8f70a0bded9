"""The chart's `sharding`: a StatefulSet of `shards` pods whose ordinals are their shards, every pod scraped."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helm_chart_support import CHART, KUBERNETES_VERSION, Rendered

from kafka_detective.cli import main

CLUSTERS = [{"name": "c", "bootstrap_servers": ["kafka:9092"]}]
EVERYTHING = CHART / "ci" / "everything-values.yaml"


def sharded(helm_runner, shards: int = 3, values: tuple[Path, ...] = (), **more: Any) -> Rendered:
    overrides = {"sharding": {"enabled": True, "shards": shards}, **more}
    if not values:
        overrides["clusters"] = CLUSTERS
    return helm_runner.template(list(values), overrides)


def test_sharding_runs_a_statefulset_instead_of_the_deployment_and_it_passes_the_kubernetes_schemas(helm_runner):
    rendered = sharded(helm_runner, values=(EVERYTHING,))
    assert not rendered.of_kind("Deployment")
    statefulset = rendered.one("StatefulSet")
    assert statefulset["spec"]["replicas"] == 3
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    for doc in rendered:
        if not doc["apiVersion"].startswith("monitoring.coreos.com/"):
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_every_shard_is_scraped_through_the_services_endpoints(helm_runner):
    rendered = sharded(helm_runner, values=(EVERYTHING,))
    statefulset, service, monitor = (rendered.one(kind) for kind in ("StatefulSet", "Service", "ServiceMonitor"))
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    budget = rendered.one("PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


@pytest.mark.parametrize("shards", [1, 3])
def test_each_pod_takes_its_ordinal_as_its_shard(helm_runner, tmp_path, capsys, shards):
    """The rendered arguments, with POD_NAME as Kubernetes sets it, through the exporter's own command line."""
    rendered = sharded(helm_runner, shards)
    statefulset = rendered.one("StatefulSet")
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in container["env"]
    config = next(cm for cm in rendered.of_kind("ConfigMap") if "config.yaml" in cm["data"])["data"]["config.yaml"]
    path = tmp_path / "config.yaml"
    path.write_text(config)
    assert container["command"] == ["kafka-detective"]
    for ordinal in range(shards):
        pod = f"{statefulset['metadata']['name']}-{ordinal}"
        args = [pod if arg == "$(POD_NAME)" else str(path) if arg.endswith("/config.yaml") else arg
                for arg in container["args"]]
        assert main([*args, "--check-config"]) == 0
        out = capsys.readouterr().out
        assert (f"shard {ordinal} of {shards}" in out) == (shards > 1), out


def test_without_sharding_the_deployment_is_unchanged(helm_runner):
    rendered = helm_runner.template([], {"clusters": CLUSTERS, "replicaCount": 1})
    assert not rendered.of_kind("StatefulSet")
    container = rendered.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["serve", "--config", "/etc/kafka-detective/config.yaml"]
    assert [e["name"] for e in container["env"]] == ["PYTHONUNBUFFERED"]


def test_notes_name_the_statefulset(helm_runner):
    notes = helm_runner.notes([], {"clusters": CLUSTERS, "sharding": {"enabled": True}})
    assert "rollout status statefulset/kd-kafka-detective" in notes
    assert "each of the 2 pods serves its shard's groups" in notes and "pod/kd-kafka-detective-<ordinal>" in notes
    assert "shard" not in helm_runner.notes([], {"clusters": CLUSTERS})


@pytest.mark.parametrize(("values", "message"), [
    ({"sharding": {"enabled": True, "shards": 0}}, "at '/sharding/shards': minimum: got 0, want 1"),
    ({"sharding": {"enabled": "yes"}}, "at '/sharding/enabled': got string"),
    ({"sharding": {"replicas": 2}}, "'replicas' not allowed"),
])
def test_bad_sharding_values_are_rejected(helm_runner, values, message):
    result = helm_runner.template_text([], {"clusters": CLUSTERS, **values}, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr

