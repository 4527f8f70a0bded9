"""Shared fixtures of the scenario tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kafka_detective_tools.scenarios import simulator
from kafka_detective_tools.scenarios.trace import write_trace, write_truth

WriteScenario = Callable[..., None]


def _write_short_scenario(directory: Path, name: str, hours_before: float = 1.0, quiet_hours: float = 4.0) -> None:
    """Write `<name>.om` and its truth, cut short to keep a test fast: an incident scenario keeps the events of
    the `hours_before` hours before its first onset and ends 2 h after it; a quiet one lasts `quiet_hours`."""
    sc = simulator.build(name)
    if sc.incidents:
        onset = sc.incidents[0][0]
        sc.events = [e for e in sc.events if e.onset >= onset - hours_before * simulator.HOUR]
        sc.duration = onset + 2 * simulator.HOUR
    else:
        sc.duration = quiet_hours * simulator.HOUR
    series, truth = simulator.simulate(sc)
    write_trace(directory / f"{name}.om", series)
    write_truth(directory / f"{name}.truth.yaml", truth)


@pytest.fixture
def write_short_scenario() -> WriteScenario:
    return _write_short_scenario
