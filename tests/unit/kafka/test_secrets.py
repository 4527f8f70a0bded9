"""Secrets reach kafka-python's settings and nothing else: not logs, not /metrics, not reprs."""

import logging

from kafka_detective.config import parse_config
from kafka_detective.gathering.loop import ClusterCollector
from kafka_detective.kafka.client import admin_client_settings
from kafka_detective.metrics.exposition import Exposition

SECRET = "pa55-Sentinel-7731"


def sasl_config(tmp_path, mechanism="SCRAM-SHA-512"):
    secret = tmp_path / "password"
    secret.write_text(SECRET + "\n")
    return parse_config({"clusters": [{
        "name": "secure", "bootstrap_servers": ["127.0.0.1:9"], "request_timeout_seconds": 1,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl": {"mechanism": mechanism, "username": "detective", "password_file": str(secret)},
    }]})


def test_password_file_reaches_the_client_settings(tmp_path):
    settings = admin_client_settings(sasl_config(tmp_path).clusters[0])
    assert settings["sasl_mechanism"] == "SCRAM-SHA-512"
    assert settings["sasl_plain_username"] == "detective"
    assert settings["sasl_plain_password"] == SECRET


def test_password_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KD_TEST_PASSWORD", SECRET)
    config = parse_config({"clusters": [{
        "name": "secure", "bootstrap_servers": ["k:9093"], "security_protocol": "SASL_SSL",
        "sasl": {"mechanism": "PLAIN", "username": "u", "password_env": "KD_TEST_PASSWORD"},
        "tls": {"ca_file": "/etc/ca.crt"},
    }]})
    settings = admin_client_settings(config.clusters[0])
    assert settings["sasl_plain_password"] == SECRET
    assert settings["ssl_cafile"] == "/etc/ca.crt"
    assert SECRET not in repr(config)


def test_failed_connection_logs_and_metrics_never_show_the_password(tmp_path, caplog):
    config = sasl_config(tmp_path)
    exposition = Exposition()
    collector = ClusterCollector(config.clusters[0], exposition, analysis=config.analysis)
    with caplog.at_level(logging.DEBUG):
        collector.run_cycle()
    assert collector.last_error is not None  # the cycle did fail and was logged
    assert SECRET not in caplog.text
    assert SECRET.encode() not in exposition.static_body()
    assert SECRET not in repr(config.clusters[0])
