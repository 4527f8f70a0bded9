"""Durations as people and PromQL write them: '90m', '1h30m', '2d' or plain seconds."""

from __future__ import annotations

import math
import re

from kafka_detective.errors import UserError

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


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
