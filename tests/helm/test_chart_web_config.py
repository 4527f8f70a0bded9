"""The chart's webConfig: the rendered web config file is one the exporter accepts, the files it names are
mounted, the ServiceMonitor and the probes follow, and inconsistent values fail with a clear message."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helm_chart_support import CHART, Rendered

CLUSTERS = [{"name": "c", "bootstrap_servers": ["kafka:9092"]}]
PASSWORD = "scrape-password"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
WEB_CI = CHART / "ci" / "web-config-values.yaml"


def secured(**web: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "clusters": CLUSTERS,
        "webConfig": {"tls": {"enabled": True, "existingSecret": "kd-tls"}, "basicAuth": {"users": {"prom": HASH}}},
        "serviceMonitor": {"enabled": True, "basicAuth": {"secretName": "kd-scrape"}},
    }
    for key, value in web.items():
        values["webConfig"][key] = value
    return values


def web_config_text(rendered: Rendered) -> str:
    secret = next(s for s in rendered.of_kind("Secret") if "web-config.yml" in s.get("data", {}))
    return base64.b64decode(secret["data"]["web-config.yml"]).decode()


def mounted(rendered: Rendered) -> dict[str, tuple[str, str]]:
    """path under the config dir -> (Secret or ConfigMap name, key)"""
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    sources = next(v for v in pod["volumes"] if v["name"] == "config")["projected"]["sources"]
    return {item["path"]: (source[kind]["name"], item["key"])
            for source in sources for kind in ("secret", "configMap") if kind in source
            for item in source[kind]["items"]}


def test_the_rendered_web_config_is_loaded_by_the_exporter_with_the_mounted_files(helm_runner, tmp_path):
    """Lay the mounted files out as the kubelet would and load them with the exporter's own loader."""
    from kafka_detective.serving.web_config import load_web_config
    from kafka_detective_tools.sandbox.tls_material import generate_tls_material

    rendered = helm_runner.template([], secured(tls={"enabled": True, "existingSecret": "kd-tls",
                                                     "clientCAKey": "ca.crt", "minVersion": "TLS13"}))
    config = yaml.safe_load(next(cm for cm in rendered.of_kind("ConfigMap")
                                 if "config.yaml" in cm["data"])["data"]["config.yaml"])
    assert config["web_config_file"] == "/etc/kafka-detective/web/web-config.yml"
    files = mounted(rendered)
    assert files["web/tls/tls.crt"] == ("kd-tls", "tls.crt")
    assert files["web/tls/tls.key"] == ("kd-tls", "tls.key")
    assert files["web/tls/client-ca.crt"] == ("kd-tls", "ca.crt")
    assert files["web/web-config.yml"][1] == "web-config.yml"

    tls = generate_tls_material(tmp_path / "material")
    secret_data = {"tls.crt": tls["broker_cert"], "tls.key": tls["broker_key"], "ca.crt": tls["ca"]}
    root = tmp_path / "etc-kafka-detective"
    for path, (_, key) in files.items():
        if path.startswith("web/tls/"):
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(secret_data[key].read_bytes())
    (root / "web" / "web-config.yml").write_text(web_config_text(rendered))
    web = load_web_config(str(root / "web" / "web-config.yml"))
    assert web.tls is not None and web.auth is not None
    header = "Basic " + base64.b64encode(f"prom:{PASSWORD}".encode()).decode()
    assert web.auth.check(header) == "prom"
    assert web.auth_excluded_paths == {"/healthz", "/readyz"}


def test_service_monitor_scrapes_over_https_with_basic_auth_and_probes_use_https(helm_runner):
    rendered = helm_runner.template([WEB_CI])
    endpoint = rendered.one("ServiceMonitor")["spec"]["endpoints"][0]
    assert endpoint["scheme"] == "https"
    assert endpoint["basicAuth"] == {"username": {"name": "kafka-detective-scrape", "key": "username"},
                                     "password": {"name": "kafka-detective-scrape", "key": "password"}}
    assert endpoint["tlsConfig"]["ca"] == {"secret": {"name": "kafka-detective-tls", "key": "ca.crt"}}
    container = rendered.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics", "scheme": "HTTPS"}
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    # The plain password never enters the chart: only the hash is in the chart's Secret.
    assert PASSWORD not in yaml.safe_dump_all(list(rendered))


def test_without_web_config_nothing_changes(helm_runner):
    rendered = helm_runner.template([], {"clusters": CLUSTERS, "serviceMonitor": {"enabled": True}})
    assert rendered.one("ServiceMonitor")["spec"]["endpoints"][0]["scheme"] == "http"
    assert "basicAuth" not in rendered.one("ServiceMonitor")["spec"]["endpoints"][0]
    assert not rendered.of_kind("Secret")
    container = rendered.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert "scheme" not in container["livenessProbe"]["httpGet"]
    config = yaml.safe_load(rendered.one("ConfigMap")["data"]["config.yaml"])
    assert "web_config_file" not in config


def test_basic_auth_alone_and_an_explicit_scheme(helm_runner):
    values = secured(tls={"enabled": False})
    values["serviceMonitor"]["scheme"] = "https"  # e.g. TLS terminated by a mesh sidecar
    rendered = helm_runner.template([], values)
    assert yaml.safe_load(web_config_text(rendered)) == {
        "basic_auth_users": {"prom": HASH}, "auth_excluded_paths": ["/healthz", "/readyz"]}
    assert rendered.one("ServiceMonitor")["spec"]["endpoints"][0]["scheme"] == "https"
    assert not any(path.startswith("web/tls/") for path in mounted(rendered))


def test_an_existing_web_config_secret_is_mounted_as_is(helm_runner):
    values = secured(existingSecret="my-web-config", basicAuth={"users": {}})
    rendered = helm_runner.template([], values)
    assert mounted(rendered)["web/web-config.yml"] == ("my-web-config", "web-config.yml")
    assert not rendered.of_kind("Secret")


def test_changing_a_user_rolls_the_pod(helm_runner):
    def checksum(values: dict[str, Any]) -> str:
        pod = helm_runner.template([], values).one("Deployment")["spec"]["template"]
        return pod["metadata"]["annotations"]["checksum/config"]

    other = bcrypt.hashpw(b"another", bcrypt.gensalt(rounds=4)).decode()
    assert checksum(secured()) != checksum(secured(basicAuth={"users": {"prom": other}}))


BAD = [
    (secured(tls={"enabled": True}), "webConfig.tls.enabled needs webConfig.tls.existingSecret"),
    (secured(basicAuth={"users": {"prom": "plain-text-Pa55word"}}),
     "webConfig.basicAuth.users.prom: not a bcrypt hash"),
    (secured(basicAuth={"users": {"prom": HASH}, "excludedPaths": ["/healthz"]}),
     "excludedPaths must contain the probe path /readyz"),
    (secured(existingSecret="mine"), "set either webConfig.existingSecret"),
    (secured(tls={"enabled": True, "existingSecret": "t", "minVersion": "TLS11"}), "/webConfig/tls/minVersion"),
    (secured(tls={"enabled": True, "existingSecret": "t", "clientCAKey": "ca.crt",
                  "clientAuthType": "RequireAnyClientCert"}), "/webConfig/tls/clientAuthType"),
    (secured(tls={"enabled": True, "existingSecret": "t", "clientCAKey": "ca.crt",
                  "clientAuthType": "NoClientCert"}), "clientCAKey is set but clientAuthType is NoClientCert"),
    (secured(basicAuth={"users": {"a:b": HASH}}), "user name \"a:b\" cannot contain ':'"),
    (secured(tlsCert="x"), "'tlsCert' not allowed"),
]


@pytest.mark.parametrize(("values", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_web_config_values_fail_with_a_clear_message(helm_runner, values, message):
    result = helm_runner.template_text([], values, check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "plain-text-Pa55word" not in result.stderr


def test_service_monitor_without_credentials_for_a_protected_endpoint_fails(helm_runner):
    values = secured()
    values["serviceMonitor"]["basicAuth"] = {"secretName": ""}
    result = helm_runner.template_text([], values, check=False)
    assert result.returncode != 0
    assert "serviceMonitor.basicAuth.secretName is required" in result.stderr


def test_notes_use_https_and_credentials(helm_runner):
    text = helm_runner.notes([WEB_CI])
    assert "curl -sk https://127.0.0.1:9308/readyz" in text
    assert "curl -sk https://127.0.0.1:9308/metrics -u USER:PASSWORD |" in text
