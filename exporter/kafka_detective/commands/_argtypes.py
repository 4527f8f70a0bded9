"""argparse `type=` callables for numeric flags: argparse turns their ArgumentTypeError into one usage line
naming the flag (`argument --max-shift: must be 0 or more, got -1`) and exit code 2.

Plain `type=float` accepts `nan`, `inf` and negatives, which then fail deep inside a command (or not at all).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", int, float)


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _signed(parse: Callable[[str], T], zero: bool) -> Callable[[str], T]:
    """`parse`, then a value above 0 (or 0 too, when `zero`)."""
    def check(text: str) -> T:
        value = parse(text)
        if value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"must be {'0 or more' if zero else 'greater than 0'}, got {text!r}")
        return value
    return check


positive_float = _signed(finite_float, zero=False)
positive_int = _signed(_integer, zero=False)
non_negative_int = _signed(_integer, zero=True)


def port(text: str) -> int:
    """A TCP port to listen on: 0 (any free port) to 65535."""
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {text!r}")
    return value


def float_between(low: float, high: float, inclusive: bool = False) -> Callable[[str], float]:
    """A number strictly inside (low, high), or within [low, high] when inclusive."""
    def parse(text: str) -> float:
        value = finite_float(text)
        inside = low <= value <= high if inclusive else low < value < high
        if not inside:
            bounds = f"between {low:g} and {high:g}" + ("" if inclusive else " (exclusive)")
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text!r}")
        return value
    parse.__name__ = "number"
    return parse


def check_output_file(path: str, flag: str) -> None:
    """Fail before a long run, not after it, when `path` cannot be written (missing folder, a directory,
    no permission); the probe leaves no file behind."""
    from pathlib import Path

    from kafka_detective.errors import UserError

    target = Path(path)
    existed = target.exists()
    if target.is_dir():
        raise UserError(f"{flag} {path}: is a directory")
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise UserError(f"{flag} {path}: cannot write: {error.strerror or error}") from None
    if not existed:
        target.unlink(missing_ok=True)


def check_output_dir(path: str, flag: str) -> None:
    """Create `path` (and parents) and make sure files can be written in it, or fail naming the flag."""
    import tempfile
    from pathlib import Path

    from kafka_detective.errors import UserError

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise UserError(f"{flag} {path}: cannot write there: {error.strerror or error}") from None
