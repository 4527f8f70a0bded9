"""`patterns/config.yaml`: the one object holding every threshold, duration, selector and URL.

Users override it kubernetes-mixin style: a YAML file with a `_config:` mapping (or the keys at the top level)
merged over the defaults with `kafka-detective generate --config-override FILE`. Unknown keys are rejected so
a typo cannot silently keep the default.
"""

from __future__ import annotations

import re
from pathlib import Path

from kafka_detective import yamlio
from kafka_detective.durations import format_duration, is_promql_duration, parse_promql_duration
from kafka_detective.errors import UserError

# `[[ key ]]`: cannot clash with Prometheus' `{{ ... }}` templates and is never valid PromQL on its own.
# `[[ key * n ]]` (n an integer or the key of one) is a duration key times n, as a duration: a range or an offset
# that spans several of a configured window (PromQL has no duration arithmetic), so it follows the window.
PLACEHOLDER = re.compile(r"\[\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\*\s*([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\s*)?\]\]")


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


def _invalid(key: str, message: str) -> None:
    raise UserError(f"config: field '{key}': {message}")


def substitute(text: str, config: dict, on_missing, on_invalid=_invalid) -> str:
    """Replace every `[[ key ]]` (and `[[ key * n ]]`) in text; on_missing(key) is called (and must raise) for
    unknown keys, on_invalid(key, message) (the same) for a product of values that are no duration and count."""

    def repl(match: re.Match) -> str:
        key, times = match.group(1), match.group(2)
        if key not in config:
            on_missing(key)
        value = config[key]
        if isinstance(value, dict):
            on_missing(key)
        if times is None:
            return format_value(value)
        if not times.isdigit() and times not in config:
            on_missing(times)
        count = int(times) if times.isdigit() else config[times]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            on_invalid(times, f"must be a positive integer (it multiplies {key})")
        seconds = parse_promql_duration(value) if isinstance(value, str) and is_promql_duration(value) else 0.0
        if seconds <= 0:
            on_invalid(key, f"must be a positive duration such as 10m (it is multiplied by {times})")
        return format_duration(seconds * count)

    return PLACEHOLDER.sub(repl, text)
