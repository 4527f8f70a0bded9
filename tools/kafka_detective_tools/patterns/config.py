"""`patterns/config.yaml`: the one object holding every threshold, duration, selector and URL.

Users override it kubernetes-mixin style: a YAML file with a `_config:` mapping (or the keys at the top level)
merged over the defaults with `kafka-detective generate --config-override FILE`. Unknown keys are rejected so
a typo cannot silently keep the default.
"""

from __future__ import annotations

import re
from pathlib import Path

from kafka_detective import yamlio
from kafka_detective.errors import UserError

# `[[ key ]]`: cannot clash with Prometheus' `{{ ... }}` templates and is never valid PromQL on its own.
PLACEHOLDER = re.compile(r"\[\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*\]\]")


def _read_yaml(path: Path, what: str) -> object:
    if not path.exists():
        raise UserError(f"{what}: {path}: file not found")
    text = yamlio.read_text(path, what)
    try:
        return yamlio.loads(text, str(path))
    except yamlio.YamlError as error:
        raise UserError(f"{what}: {error}") from None


def _config_mapping(doc: object, path: Path, what: str) -> dict:
    if isinstance(doc, dict) and "_config" in doc:
        doc = doc["_config"]
    if not isinstance(doc, dict):
        raise UserError(f"{what}: {path}: field '_config': must be a mapping of keys to values")
    for key, value in doc.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UserError(f"{what}: {path}: field '{key}': keys must be identifiers")
        if isinstance(value, list | tuple):
            raise UserError(f"{what}: {path}: field '{key}': must be a scalar or a mapping")
    return dict(doc)


def load_config(defaults_path: Path, override_path: Path | None = None) -> dict:
    config = _config_mapping(_read_yaml(defaults_path, "config"), defaults_path, "config")
    if override_path is not None:
        override = _config_mapping(_read_yaml(override_path, "config override"), override_path, "config override")
        for key, value in override.items():
            if key not in config:
                raise UserError(f"config override: {override_path}: field '{key}': unknown key "
                                f"(not in {defaults_path.name})")
            if isinstance(config[key], dict) and isinstance(value, dict):
                merged = dict(config[key])
                merged.update(value)
                config[key] = merged
            else:
                config[key] = value
    return config


def format_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, "g")
    if value is None:
        return ""
    return str(value)


def substitute(text: str, config: dict, on_missing) -> str:
    """Replace every `[[ key ]]` in text; on_missing(key) is called (and must raise) for unknown keys."""

    def repl(match: re.Match) -> str:
        key = match.group(1)
        if key not in config:
            on_missing(key)
        value = config[key]
        if isinstance(value, dict):
            on_missing(key)
        return format_value(value)

    return PLACEHOLDER.sub(repl, text)
