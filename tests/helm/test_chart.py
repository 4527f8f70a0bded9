"""The Helm chart: lint, render, Kubernetes and Prometheus Operator schemas, rules, dashboards, secrets, values."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helm_chart_support import (
    CHART,
    KUBERNETES_VERSION,
    REPO,
    Rendered,
    ci_values_files,
    generated_files_present,
)

CI_VALUES = ci_values_files()
CI_IDS = [p.name.removesuffix("-values.yaml") for p in CI_VALUES]
EVERYTHING = CHART / "ci" / "everything-values.yaml"
CONFIG_DIR = "/etc/kafka-detective"


def _rules_source(chart: Path) -> dict[str, Any]:
    return yaml.safe_load((chart / "files" / "prometheus-rules.yaml").read_text())


def _alerts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _config(rendered: Rendered) -> dict[str, Any]:
    configmaps = [cm for cm in rendered.of_kind("ConfigMap") if "config.yaml" in cm.get("data", {})]
    assert len(configmaps) == 1
    return yaml.safe_load(configmaps[0]["data"]["config.yaml"])


def _rules_on(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"prometheusRule": {"enabled": True, **(overrides or {})}}


# --- generated files -------------------------------------------------------------------------------------------

def test_generated_chart_files_are_present():
    """files/ is produced by `kafka-detective generate`; the chart's rules and dashboards need it."""
    assert generated_files_present(CHART), (
        "helm/kafka-detective/files/prometheus-rules.yaml or files/dashboards/*.json is missing: run `make generate`"
    )


# --- lint and schemas ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_lint_strict(helm_runner, values):
    result = helm_runner.lint([values])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_rendered_manifests_match_kubernetes_schemas(helm_runner, values):
    rendered = helm_runner.template([values])
    checked = 0
    for doc in rendered:
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # checked against the Prometheus Operator's Go types below
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 4  # ConfigMap, Service, ServiceAccount, Deployment at least


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_monitoring_objects_decode_strictly_into_prometheus_operator_types(helm_runner, crdcheck, values):
    text = helm_runner.template_text([values]).stdout
    rendered = Rendered(d for d in yaml.safe_load_all(text) if d)
    result = crdcheck(text)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = sorted(f"ok {d['kind']} {d['metadata']['name']}" for d in rendered
                      if d["apiVersion"].startswith("monitoring.coreos.com/"))
    assert sorted(result.stdout.split("\n")[:-1]) == expected


def test_crdcheck_rejects_unknown_and_miscased_fields(helm_runner, crdcheck):
    """The Go checker really is strict (otherwise the test above proves nothing)."""
    text = helm_runner.template_text([EVERYTHING]).stdout
    monitor = next(d for d in yaml.safe_load_all(text) if d and d["kind"] == "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    assert crdcheck(yaml.safe_dump(monitor)).returncode == 1
    del monitor["spec"]["endpoints"][0]["intervall"]
    monitor["spec"]["endpoints"][0]["ScrapeTimeout"] = monitor["spec"]["endpoints"][0].pop("scrapeTimeout")
    result = crdcheck(yaml.safe_dump(monitor))
    assert result.returncode == 1 and "ScrapeTimeout" in result.stdout


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_rendered_config_is_accepted_by_the_exporter_and_its_files_are_mounted(helm_runner, values):
    from kafka_detective.config import parse_config

    rendered = helm_runner.template([values])
    config = _config(rendered)
    parsed = parse_config(config)
    assert parsed.listen_port == 9308
    deployment = rendered.one("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] + container["args"] == [
        "kafka-detective", "serve", "--config", f"{CONFIG_DIR}/config.yaml"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert mount["mountPath"] == CONFIG_DIR and mount["readOnly"] is True
    volume = next(v for v in pod["volumes"] if v["name"] == "config")
    mounted = {f"{CONFIG_DIR}/{item['path']}" for source in volume["projected"]["sources"]
               for kind in ("configMap", "secret") if kind in source for item in source[kind]["items"]}
    referenced = {f"{CONFIG_DIR}/config.yaml"}
    for cluster in config["clusters"]:
        for section in ("sasl", "tls"):
            referenced |= {v for k, v in (cluster.get(section) or {}).items() if k.endswith("_file")}
    if "web_config_file" in config:  # the endpoint's web config and the TLS files it names, relative to it
        referenced.add(config["web_config_file"])
        secret = next(s for s in rendered.of_kind("Secret") if "web-config.yml" in s["data"])
        web = yaml.safe_load(base64.b64decode(secret["data"]["web-config.yml"]))
        web_dir = config["web_config_file"].rsplit("/", 1)[0]
        referenced |= {f"{web_dir}/{v}" for k, v in web.get("tls_server_config", {}).items() if k.endswith("_file")}
    assert referenced == mounted


def test_kube_prometheus_stack_selects_and_scrapes_the_exporter(helm_runner):
    """The ServiceMonitor selects the chart's Service on its `metrics` port in its namespace, and every object
    kube-prometheus-stack must pick up carries the selector label."""
    rendered = helm_runner.template([EVERYTHING])
    service, monitor = rendered.one("Service"), rendered.one("ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert service["metadata"]["namespace"] in monitor["spec"]["namespaceSelector"]["matchNames"]
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [p["name"] for p in service["spec"]["ports"]]
    pod_labels = rendered.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    for doc in [monitor, rendered.one("PrometheusRule")]:
        assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    dashboards = [cm for cm in rendered.of_kind("ConfigMap") if "config.yaml" not in cm["data"]]
    assert dashboards and all(cm["metadata"]["labels"]["grafana_dashboard"] == "1" for cm in dashboards)


def test_packaged_chart_carries_the_generated_files_and_not_the_ci_values(helm_runner, chart, tmp_path):
    import tarfile

    helm_runner.run("package", str(chart), "--destination", str(tmp_path))
    (package,) = tmp_path.glob("kafka-detective-*.tgz")
    with tarfile.open(package) as archive:
        names = set(archive.getnames())
    assert "kafka-detective/files/prometheus-rules.yaml" in names
    assert any(n.startswith("kafka-detective/files/dashboards/") and n.endswith(".json") for n in names)
    assert "kafka-detective/values.schema.json" in names
    assert not any(n.startswith("kafka-detective/ci/") for n in names)


# --- security --------------------------------------------------------------------------------------------------

SENTINEL = "S3ntinel-Pa55word-7f3a9c"


def test_no_secret_value_outside_secrets(helm_runner):
    overrides = {"clusters": [
        {"name": "scram", "bootstrap_servers": ["k:9093"], "security_protocol": "SASL_SSL",
         "sasl": {"mechanism": "SCRAM-SHA-256", "username": "u", "password": SENTINEL + "-password"},
         "tls": {"ca": SENTINEL + "-ca", "cert": SENTINEL + "-cert", "key": SENTINEL + "-key",
                 "keyPassword": SENTINEL + "-keypass"}},
        {"name": "oauth", "bootstrap_servers": ["k:9094"], "security_protocol": "SASL_PLAINTEXT",
         "sasl": {"mechanism": "OAUTHBEARER", "token": SENTINEL + "-token"}},
    ], "serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}, "dashboards": {"enabled": True},
        "networkPolicy": {"enabled": True}, "podDisruptionBudget": {"enabled": True}}
    text = helm_runner.template_text([], overrides).stdout
    docs = [d for d in yaml.safe_load_all(text) if d]
    secrets = [d for d in docs if d["kind"] == "Secret"]
    assert len(secrets) == 1
    stored = {base64.b64decode(v).decode() for v in secrets[0]["data"].values()}
    assert stored == {SENTINEL + s for s in ("-password", "-ca", "-cert", "-key", "-keypass", "-token")}
    b64_sentinel = base64.b64encode(SENTINEL.encode()).decode()[:16]
    for doc in docs:
        if doc["kind"] == "Secret":
            continue
        dumped = yaml.safe_dump(doc)
        assert SENTINEL not in dumped, f"secret value in {doc['kind']} {doc['metadata']['name']}"
        assert b64_sentinel not in dumped, f"base64 secret value in {doc['kind']} {doc['metadata']['name']}"
    container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert all(SENTINEL not in arg for arg in container["args"])
    assert all("value" not in env or SENTINEL not in env["value"] for env in container.get("env", []))


def test_secure_pod_defaults(helm_runner, defaults_values):
    rendered = helm_runner.template([defaults_values])
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65532
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"] == [{"name": "metrics", "containerPort": 9308, "protocol": "TCP"}]
    assert container["image"] == "kafka-detective/kafka-detective:0.1.0"  # tag defaults to appVersion
    service = rendered.one("Service")
    assert service["spec"]["ports"][0]["port"] == 9308 and service["spec"]["ports"][0]["name"] == "metrics"


def test_defaults_create_no_monitoring_objects_and_no_scrape_annotations(helm_runner, defaults_values):
    rendered = helm_runner.template([defaults_values])
    kinds = sorted(d["kind"] for d in rendered)
    assert kinds == ["ConfigMap", "Deployment", "Service", "ServiceAccount"]
    assert "prometheus.io" not in yaml.safe_dump_all(list(rendered))


def test_recommended_labels_on_every_object(helm_runner):
    for doc in helm_runner.template([EVERYTHING]):
        labels = doc["metadata"]["labels"]
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                    "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart"):
            assert key in labels, f"{doc['kind']} lacks {key}"


# --- Prometheus rules ------------------------------------------------------------------------------------------

def test_prometheus_rule_passes_promtool_and_every_alert_has_a_runbook(helm_runner, promtool, tmp_path):
    rule = helm_runner.template([EVERYTHING]).one("PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    result = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = _alerts(rule["spec"]["groups"])
    assert alerts
    for alert in alerts:
        assert alert["annotations"].get("runbook_url", "").startswith("https://"), alert["alert"]
        assert alert["labels"]["team"] == "platform"  # additionalRuleLabels
        assert alert["annotations"]["dashboard"] == "https://grafana.example.com/d/kafka-detective"


def test_rules_are_the_generated_file_unchanged(helm_runner, chart, defaults_values):
    """Without overrides the rule groups are exactly files/prometheus-rules.yaml: Helm never templates them.
    (caseBaseUrl none: the case_url the chart adds is tested in test_chart_case_url.py.)"""
    rule = helm_runner.template([defaults_values], _rules_on({"caseBaseUrl": "none"})).one("PrometheusRule")
    assert rule["spec"]["groups"] == _rules_source(chart)["groups"]
    annotations = [v for a in _alerts(rule["spec"]["groups"]) for v in a.get("annotations", {}).values()]
    assert any("{{" in v and "$labels" in v for v in annotations), "no alert template survived"


@pytest.mark.parametrize("form", ["list", "map"])
def test_disabled_alert_removes_exactly_that_alert(helm_runner, chart, defaults_values, form):
    source = _rules_source(chart)["groups"]
    names = [a["alert"] for a in _alerts(source)]
    victim = names[0]
    disabled: Any = [victim] if form == "list" else {victim: True, names[-1]: False}
    rule = helm_runner.template([defaults_values], _rules_on({"disabledAlerts": disabled})).one("PrometheusRule")
    assert [a["alert"] for a in _alerts(rule["spec"]["groups"])] == [n for n in names if n != victim]
    recording = [r for g in source for r in g["rules"] if "record" in r]
    assert [r for g in rule["spec"]["groups"] for r in g["rules"] if "record" in r] == recording


def test_disabling_an_unknown_alert_is_an_error(helm_runner, defaults_values):
    result = helm_runner.template_text([defaults_values], _rules_on({"disabledAlerts": ["KafkaNoSuchAlert"]}),
                                       check=False)
    assert result.returncode != 0
    assert '"KafkaNoSuchAlert" is not a bundled alert' in result.stderr


def test_runbook_base_url_override(helm_runner, chart, defaults_values):
    base = "https://runbooks.example.org/kafka"
    rule = helm_runner.template([defaults_values], _rules_on({"runbookBaseUrl": base + "/"})).one("PrometheusRule")
    original = {a["alert"]: a["annotations"]["runbook_url"] for a in _alerts(_rules_source(chart)["groups"])}
    for alert in _alerts(rule["spec"]["groups"]):
        url = alert["annotations"]["runbook_url"]
        assert url == base + "/" + original[alert["alert"]].rsplit("/", 1)[1]


def test_grafana_url_override(helm_runner, chart, defaults_values):
    grafana = "https://example.com/grafana"
    rule = helm_runner.template([defaults_values], _rules_on({"grafanaUrl": grafana + "/"})).one("PrometheusRule")
    original = {a["alert"]: a["annotations"].get("dashboard_url") for a in _alerts(_rules_source(chart)["groups"])}
    changed = 0
    for alert in _alerts(rule["spec"]["groups"]):
        before = original[alert["alert"]]
        if before:
            assert alert["annotations"]["dashboard_url"] == grafana + "/d/" + before.split("/d/", 1)[1]
            changed += 1
    assert changed


# --- dashboards ------------------------------------------------------------------------------------------------

def test_dashboards_are_byte_for_byte_and_labelled_for_the_sidecar(helm_runner, chart, defaults_values):
    files = {p.name: p.read_text() for p in (chart / "files" / "dashboards").glob("*.json")}
    overrides = {"dashboards": {"enabled": True, "label": "my_dashboards", "labelValue": "yes",
                                "folder": "Kafka", "folderAnnotation": "k8s-sidecar-target-directory"}}
    rendered = helm_runner.template([defaults_values], overrides)
    maps = [cm for cm in rendered.of_kind("ConfigMap") if "config.yaml" not in cm["data"]]
    assert len(maps) == len(files)
    found = {}
    for cm in maps:
        assert cm["metadata"]["labels"]["my_dashboards"] == "yes"
        assert "grafana_dashboard" not in cm["metadata"]["labels"]
        assert cm["metadata"]["annotations"]["k8s-sidecar-target-directory"] == "Kafka"
        found.update(cm["data"])
    assert found == files
    for text in files.values():
        json.loads(text)
    assert any("{{" in text for text in files.values())  # Grafana templating is there and survived
    default = helm_runner.template([defaults_values], {"dashboards": {"enabled": True}})
    for cm in (c for c in default.of_kind("ConfigMap") if "config.yaml" not in c["data"]):
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert "annotations" not in cm["metadata"]


# --- values: multi-cluster, bad values, documentation ----------------------------------------------------------

def test_several_clusters(helm_runner):
    rendered = helm_runner.template([CHART / "ci" / "multi-cluster-values.yaml"])
    config = _config(rendered)
    assert [c["name"] for c in config["clusters"]] == ["dev", "staging", "prod-eu", "msk:us-east-1"]
    prod = config["clusters"][2]
    assert prod["sasl"] == {"mechanism": "OAUTHBEARER", "token_file": f"{CONFIG_DIR}/secrets/prod-eu/token"}
    assert prod["tls"] == {"ca_file": f"{CONFIG_DIR}/secrets/prod-eu/tls/ca.crt"}
    assert config["clusters"][3]["sasl"] == {"mechanism": "AWS_MSK_IAM", "aws_region": "us-east-1"}
    assert not rendered.of_kind("Secret")  # all credentials come from existing Secrets
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    sources = next(v for v in pod["volumes"] if v["name"] == "config")["projected"]["sources"]
    secrets = {s["secret"]["name"]: s["secret"]["items"] for s in sources if "secret" in s}
    assert secrets["prod-eu-oauth"] == [{"key": "access-token", "path": "secrets/prod-eu/token"}]
    assert secrets["prod-eu-ca"] == [{"key": "ca.pem", "path": "secrets/prod-eu/tls/ca.crt"}]
    policy = rendered.one("NetworkPolicy")
    kafka_ports = sorted(p["port"] for p in policy["spec"]["egress"][0]["ports"])
    assert kafka_ports == [9092, 9093, 9094, 9098]


CLUSTER = {"name": "c", "bootstrap_servers": ["kafka:9092"]}
BAD_VALUES = [
    ({"clusters": []}, "at '/clusters': minItems"),
    ({"clusters": [{**CLUSTER, "security_protocol": "SASL_SSSL"}]},
     "value must be one of 'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'"),
    ({"clusters": [{**CLUSTER, "bootstrap_servers": ["kafka"]}]}, "/clusters/0/bootstrap_servers/0"),
    ({"clusters": [{"name": "c", "bootstrapServers": ["kafka:9092"]}]}, "'bootstrapServers' not allowed"),
    ({"clusters": [CLUSTER], "config": {"interval_seconds": "15s"}}, "at '/config/interval_seconds': got string"),
    ({"clusters": [CLUSTER], "serviceMonitor": {"enabled": "yes"}}, "at '/serviceMonitor/enabled': got string"),
    ({"clusters": [CLUSTER], "serviceMonitor": {"interval": "30 seconds"}}, "/serviceMonitor/interval"),
    ({"clusters": [CLUSTER], "replicaCount": 1.5}, "at '/replicaCount'"),
    ({"clusters": [CLUSTER], "extraArgs": ["--password=x"]}, "'extraArgs' not allowed"),
    ({"clusters": [{**CLUSTER, "sasl": {"mechanism": "GSSAPI"}, "security_protocol": "SASL_SSL"}]},
     "/clusters/0/sasl/mechanism"),
    ({"clusters": [CLUSTER, CLUSTER]}, 'duplicate cluster name "c"'),
    ({"clusters": [{**CLUSTER, "security_protocol": "SASL_SSL"}]}, "security_protocol SASL_SSL needs a sasl section"),
    ({"clusters": [{**CLUSTER, "security_protocol": "SASL_SSL", "sasl": {"mechanism": "PLAIN", "username": "u"}}]},
     "set exactly one of sasl.existingSecret"),
    ({"clusters": [{**CLUSTER, "security_protocol": "SASL_SSL",
                    "sasl": {"mechanism": "PLAIN", "username": "u", "password": "p", "existingSecret": "s"}}]},
     "set exactly one of sasl.existingSecret"),
    ({"clusters": [{**CLUSTER, "sasl": {"mechanism": "PLAIN", "username": "u", "password": "p"}}]},
     "sasl is set but security_protocol is PLAINTEXT"),
    ({"clusters": [{**CLUSTER, "tls": {"existingSecret": "ca"}}]}, "does not use TLS"),
    ({"clusters": [{**CLUSTER, "security_protocol": "SSL", "tls": {"existingSecret": "t", "certKey": "tls.crt"}}]},
     "tls.certKey and tls.keyKey go together"),
    ({"clusters": [CLUSTER], "podDisruptionBudget": {"enabled": True, "minAvailable": 1}},
     "set only one of minAvailable and maxUnavailable"),
]


@pytest.mark.parametrize(("values", "message"), BAD_VALUES, ids=[m for _, m in BAD_VALUES])
def test_bad_values_are_rejected_with_a_clear_message(helm_runner, values, message):
    result = helm_runner.template_text([], values, check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def _value_keys(node: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            keys.add(path)
            if isinstance(value, dict) and value and path not in FREE_FORM:
                keys |= _value_keys(value, path)
    return keys


def _schema_keys(node: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        keys.add(path)
        if sub.get("type") == "object":
            keys |= _schema_keys(sub, path)
        elif sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            keys |= _schema_keys(sub["items"], path + "[]")
    return keys


# Kubernetes objects passed through as they are (their fields are Kubernetes', not the chart's).
FREE_FORM = {"podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe", "global"}


def test_readme_documents_every_value():
    readme = (REPO / "helm" / "README.md").read_text()
    documented = set(re.findall(r"`([A-Za-z_][\w.\[\]-]*)`", readme))
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    wanted = _value_keys(values) | {k for k in _schema_keys(schema)
                                    if not any(k.startswith(f + ".") for f in FREE_FORM) and k != "global"}
    missing = sorted(wanted - documented)
    assert not missing, f"helm/README.md does not document: {missing}"
    assert set(_value_keys(values)) - {"global"} <= _schema_keys(schema), "values.yaml keys missing from the schema"


def test_notes_point_to_metrics_dashboards_and_alerts(helm_runner):
    for values, expected in [
        ([], ["port-forward service/kd-kafka-detective 9308:9308", "/metrics", "serviceMonitor.enabled=true",
              "prometheusRule.enabled=true", "dashboards.enabled=true"]),
        ([EVERYTHING], ["port-forward", "/metrics", "Status > Targets", "runbook", "grafana_dashboard=\"1\"",
                        'folder "Kafka"']),
    ]:
        text = helm_runner.notes([CHART / "ci" / "defaults-values.yaml", *values])
        for fragment in expected:
            assert fragment in text, f"{fragment!r} not in NOTES:\n{text}"
