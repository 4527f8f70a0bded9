import subprocess
import sys

import pytest

from kafka_detective.config import ConfigError, load_config, parse_config


def cluster(**extra):
    return {"name": "prod", "bootstrap_servers": ["k1:9092"], **extra}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "clusters"),
        ({"clusters": []}, "clusters"),
        ({"clusters": [{"bootstrap_servers": ["k:1"]}]}, "clusters[0].name"),
        ({"clusters": [cluster(bootstrap_servers=["nohostport"])]}, "clusters[0].bootstrap_servers[0]"),
        ({"clusters": [cluster(security_protocol="SASL_SSL")]}, "clusters[0].sasl"),
        ({"clusters": [cluster(security_protocol="SASL_SSL", sasl={"mechanism": "MD5"})]},
         "clusters[0].sasl.mechanism"),
        ({"clusters": [cluster(security_protocol="SASL_SSL", sasl={"mechanism": "PLAIN", "username": "u"})]},
         "clusters[0].sasl.password_file"),
        ({"clusters": [cluster(security_protocol="SASL_SSL",
                               sasl={"mechanism": "PLAIN", "username": "u", "password": "hunter2"})]},
         "clusters[0].sasl.password"),
        ({"clusters": [cluster(groups={"include": ["("]})]}, "clusters[0].groups.include[0]"),
        ({"clusters": [cluster(colour="blue")]}, "clusters[0].colour"),
        ({"clusters": [cluster(), cluster()]}, "clusters[1].name"),
        ({"clusters": [cluster()], "interval_seconds": 0}, "interval_seconds"),
        ({"clusters": [cluster()], "listen_port": "x"}, "listen_port"),
        ({"clusters": [cluster()], "analysis": {"horizons_seconds": [300, -1]}}, "analysis.horizons_seconds[1]"),
    ],
)
def test_invalid_config_names_the_field(data, field):
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert error.value.path == field
    assert "hunter2" not in str(error.value)


def test_inline_secret_is_rejected_without_echoing_it():
    with pytest.raises(ConfigError) as error:
        parse_config({"clusters": [cluster(security_protocol="SASL_SSL", sasl={
            "mechanism": "SCRAM-SHA-512", "username": "u", "password": "s3cret-value"})]})
    assert "s3cret-value" not in str(error.value)


def test_valid_full_config_and_filters(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("pw\n")
    config = parse_config({"clusters": [cluster(
        security_protocol="SASL_SSL",
        sasl={"mechanism": "SCRAM-SHA-512", "username": "u", "password_file": str(secret)},
        tls={"ca_file": "/ca.crt"},
        groups={"include": ["orders-.*"], "exclude": ["orders-test"]},
    )]})
    c = config.clusters[0]
    assert c.sasl.password() == "pw"
    assert "pw" not in repr(c)
    assert c.groups.allows("orders-eu") and not c.groups.allows("orders-test") and not c.groups.allows("x")
    assert not c.topics.allows("__consumer_offsets") and c.topics.allows("orders")
    assert config.listen_port == 9308


def test_environment_and_flags_override_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("interval_seconds: 30\nlisten_port: 1000\n")
    config = load_config(str(path), environ={"KAFKA_DETECTIVE_BOOTSTRAP_SERVERS": "a:1,b:2",
                                             "KAFKA_DETECTIVE_LISTEN_PORT": "2000"},
                         overrides={"interval_seconds": 5.0})
    assert config.clusters[0].bootstrap_servers == ("a:1", "b:2")
    assert config.listen_port == 2000
    assert config.interval_seconds == 5.0


def test_cli_reports_one_line_and_exit_code_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("clusters:\n  - name: prod\n    bootstrap_servers: [k:9092]\n    security_protocol: TLS\n")
    result = subprocess.run([sys.executable, "-m", "kafka_detective", "serve", "--config", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kafka-detective serve: config: clusters[0].security_protocol: must be one of PLAINTEXT, SSL, "
        "SASL_PLAINTEXT, SASL_SSL, got 'TLS'"
    ]


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("clusters:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError) as error:
        load_config(str(path), environ={})
    assert "line" in str(error.value)
