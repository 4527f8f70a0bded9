"""The `ui` section of the configuration: /detective on by default, switchable off, validated."""

from __future__ import annotations

import pytest

from kafka_detective.config import ConfigError, parse_config

BASE = {"clusters": [{"name": "prod", "bootstrap_servers": "kafka:9092"}]}


def test_the_ui_is_on_by_default():
    assert parse_config(BASE).ui.enabled is True


def test_the_ui_can_be_turned_off():
    assert parse_config({**BASE, "ui": {"enabled": False}}).ui.enabled is False


@pytest.mark.parametrize(("ui", "message"), [
    ({"enabled": "no"}, "ui.enabled: must be true or false, got str"),
    ({"enable": True}, "ui.enable: unknown field"),
    (3, "ui: must be a mapping, got int"),
])
def test_bad_ui_settings_name_the_field(ui, message):
    with pytest.raises(ConfigError) as error:
        parse_config({**BASE, "ui": ui})
    assert message in str(error.value)


def test_the_learned_incidents_library():
    assert parse_config(BASE).ui.library_dir is None
    assert parse_config({**BASE, "ui": {"library_dir": "/etc/kafka-detective/patterns"}}).ui.library_dir == \
        "/etc/kafka-detective/patterns"
    with pytest.raises(ConfigError) as error:
        parse_config({**BASE, "ui": {"library_dir": 3}})
    assert "ui.library_dir: must be" in str(error.value)
