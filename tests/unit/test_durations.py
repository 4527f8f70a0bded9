"""The one duration vocabulary (kafka_detective.durations) at its two strictnesses.

Source of truth for the strict one: Prometheus' duration syntax (prometheus/common `model.ParseDuration`,
documented at https://prometheus.io/docs/prometheus/latest/configuration/configuration/#duration):
`((([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?|0)` — integer amounts,
units from the largest to the smallest, each at most once.
"""

from __future__ import annotations

import pytest

from kafka_detective.durations import format_duration, is_promql_duration, parse_duration, parse_promql_duration
from kafka_detective.errors import UserError

PROMQL_ACCEPTED = [
    ("0", 0.0),
    ("0s", 0.0),
    ("0m", 0.0),
    ("5ms", 0.005),
    ("45s", 45.0),
    ("5m", 300.0),
    ("90m", 5400.0),
    ("1h30m", 5400.0),
    ("2d", 172800.0),
    ("1w", 604800.0),
    ("1y", 31536000.0),
    ("1d1h", 90000.0),
    ("1h0m30s", 3630.0),
    ("1y1w1d1h1m1s", 31536000.0 + 604800 + 86400 + 3600 + 60 + 1),
]
PROMQL_REJECTED = [
    "",          # empty
    "90",        # a unit is required (except the bare 0)
    "1.5h",      # integer amounts only
    "30m1h",     # units from the largest to the smallest
    "5m5m",      # each unit at most once
    "5M",        # units are lower case
    " 5m",       # no surrounding blanks
    "-5m",       # no sign
    "5 m",
    "1h 30m",
    "5min",
]


@pytest.mark.parametrize(("text", "seconds"), PROMQL_ACCEPTED)
def test_prometheus_durations_are_read(text: str, seconds: float) -> None:
    assert is_promql_duration(text)
    assert parse_promql_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", PROMQL_REJECTED)
def test_what_prometheus_rejects_is_rejected_naming_the_input(text: str) -> None:
    assert not is_promql_duration(text)
    with pytest.raises(UserError, match="not a Prometheus duration"):
        parse_promql_duration(text)


LENIENT_ACCEPTED = [
    ("90", 90.0),          # plain seconds
    ("1.5", 1.5),
    ("45s", 45.0),
    ("90m", 5400.0),
    ("1h30m", 5400.0),
    ("30m1h", 5400.0),     # any order
    ("1.5h", 5400.0),      # fractional amounts
    ("2d", 172800.0),
    (" 6h ", 21600.0),     # blanks around are ignored
    ("500ms", 0.5),
]
LENIENT_REJECTED = ["", "0", "0m", "-5", "nan", "inf", "5x", "5m junk", "m", "1h 30m"]


@pytest.mark.parametrize(("text", "seconds"), LENIENT_ACCEPTED)
def test_people_durations_are_read(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", LENIENT_REJECTED)
def test_people_durations_must_be_positive_and_well_formed(text: str) -> None:
    with pytest.raises(UserError):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [(0.2, "1s"), (45, "45s"), (300, "5m"), (5400, "90m"),
                                               (21600, "6h"), (172800, "2d"), (90061, "90061s")])
def test_format_duration_writes_what_prometheus_reads(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert is_promql_duration(text)
    assert parse_promql_duration(text) == max(1, round(seconds))
