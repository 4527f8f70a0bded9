"""Durations as people and PromQL write them: '90m', '1h30m', '2d' or plain seconds.

The one duration vocabulary of the project, at two strictnesses:

- `parse_duration`: what people type on the command line and in the exporter's settings. Lenient: plain
  seconds ('90', '1.5'), fractional units ('1.5h') and units in any order ('30m1h') are read; the result must
  be positive.
- `parse_promql_duration`: what Prometheus itself accepts in rule files and promtool tests (`for:`,
  `keep_firing_for:`, `interval:`, `eval_time:`), i.e. Prometheus' `model.ParseDuration`: integer amounts,
  units from largest to smallest, each at most once ('1h30m', never '30m1h', '1.5h' or '90'), or the bare '0'.
  Zero ('0m') is a valid Prometheus duration.
"""

from __future__ import annotations

import math
import re

from kafka_detective.errors import UserError

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
# Prometheus' own duration grammar (prometheus/common model.ParseDuration): the units in this order, at most once.
_PROMQL_UNITS = ("y", "w", "d", "h", "m", "s", "ms")
_PROMQL_DURATION_RE = re.compile("".join(rf"(?:(\d+){unit})?" for unit in _PROMQL_UNITS))


def parse_duration(text: str) -> float:
    """'6h', '90m', '1h30m', '2d', '45s' or plain seconds -> seconds."""
    text = str(text).strip()
    try:
        value = float(text)
        if not math.isfinite(value) or value <= 0:
            raise UserError(f"duration must be a positive number of seconds: {text!r}")
        return value
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _DURATION_RE.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or total <= 0:
        raise UserError(f"invalid duration {text!r} (examples: 30m, 6h, 1h30m, 2d)")
    return total


def format_duration(seconds: float) -> str:
    """Seconds -> a PromQL duration ('6h', '90m', '45s')."""
    s = max(1, round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def is_promql_duration(text: str) -> bool:
    """Whether Prometheus would accept `text` as a duration in a rule file (see the module docstring)."""
    try:
        parse_promql_duration(text)
    except UserError:
        return False
    return True


def parse_promql_duration(text: str) -> float:
    """A Prometheus duration ('5m', '1h30m', '0m', '0') -> seconds; anything Prometheus rejects raises UserError."""
    text = str(text)
    if text == "0":
        return 0.0
    match = _PROMQL_DURATION_RE.fullmatch(text) if text else None
    if match is None:
        raise UserError(f"{text!r} is not a Prometheus duration (e.g. 5m, 1h30m)")
    return float(sum(int(amount) * _UNITS[unit] for amount, unit in zip(match.groups(), _PROMQL_UNITS, strict=True)
                     if amount is not None))
