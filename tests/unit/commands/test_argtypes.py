"""The numeric flag types: each bound is checked at its edge, and every refusal is an ArgumentTypeError (one
usage line naming the flag), never a ValueError."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from kafka_detective.commands._argtypes import non_negative_int, positive_float, positive_int


@pytest.mark.parametrize(("parse", "text", "value"), [
    (positive_float, "0.001", 0.001),
    (positive_float, "2", 2.0),
    (positive_int, "1", 1),
    (non_negative_int, "0", 0),
    (non_negative_int, "7", 7),
])
def test_accepted(parse: Callable[[str], float], text: str, value: float) -> None:
    parsed = parse(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(("parse", "text", "message"), [
    (positive_float, "0", "must be greater than 0, got '0'"),
    (positive_float, "-0.5", "must be greater than 0, got '-0.5'"),
    (positive_float, "nan", "must be a finite number, got 'nan'"),
    (positive_float, "x", "must be a number, got 'x'"),
    (positive_int, "0", "must be greater than 0, got '0'"),
    (positive_int, "1.5", "must be an integer, got '1.5'"),
    (non_negative_int, "-1", "must be 0 or more, got '-1'"),
])
def test_refused_with_one_line(parse: Callable[[str], float], text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as error:
        parse(text)
    assert str(error.value) == message
