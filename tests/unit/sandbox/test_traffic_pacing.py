"""The traffic driver's pacing: the producer is idle until a phase gives it a rate, consumers without a rate are
unlimited."""

import math

import pytest

from kafka_detective_tools.sandbox import traffic
from kafka_detective_tools.sandbox.traffic import SCENARIOS, TrafficDriver, _Bucket


def test_producer_grants_nothing_before_the_first_phase() -> None:
    # The produce thread can run before the timeline applies phase 1; it must see a finite, empty allowance
    # (it once saw infinity, and int(inf) killed the thread for the rest of the scenario).
    driver = TrafficDriver("127.0.0.1:1", SCENARIOS["consumers-down"])
    granted = driver._produce.available()
    assert math.isfinite(granted) and granted == 0


def test_bucket_accumulates_at_its_rate_and_caps_at_one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    # A clock of the test's own: on a busy machine 20 ms between two reads of the real one add a token.
    now = [1000.0]
    monkeypatch.setattr(traffic.time, "monotonic", lambda: now[0])
    bucket = _Bucket(rate=50.0)
    now[0] += 10.0                         # ten seconds since the last look
    assert bucket.available() == 50.0      # capped at one second's worth, not 500
    bucket.spend(20)
    assert 30.0 <= bucket.available() <= 31.0
    now[0] += 0.1
    assert bucket.available() == pytest.approx(35.0)   # 50 a second


def test_unlimited_bucket_is_for_consumers_without_a_rate() -> None:
    assert _Bucket().available() == math.inf
