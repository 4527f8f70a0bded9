"""Correlation analysis: lead/lag recovery, no spurious random-walk correlation, multiple-testing control."""

from __future__ import annotations

import numpy as np
import pytest

from kafka_detective.errors import UserError
from kafka_detective_tools.investigation.correlate import benjamini_hochberg, correlate, correlate_series, holm
from synthetic import scenario


def _t(n: int, step: float = 15.0) -> np.ndarray:
    return 1_760_000_000 + step * np.arange(n)


def test_lagged_relationship_found_with_the_right_lead() -> None:
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(0, 1, n)                         # a driver (e.g. CPU level)
    growth = np.zeros(n)
    growth[3:] = 2.0 * x[:-3] + rng.normal(0, 1, n - 3)   # the lag grows 3 steps after x moves
    lag = np.concatenate([[0.0], np.cumsum(growth[1:] * 15.0)]) + 10_000
    report = correlate_series(_t(n), lag, {"cpu": ("gauge", list(x))})
    row = report.rows[0]
    assert row.signal == "cpu" and row.significant
    assert row.lead_steps == 3 and row.lead_seconds == 45.0
    assert row.lead_r > 0.7
    assert "before the lag growth" in row.interpretation


def test_consequence_is_reported_as_following() -> None:
    rng = np.random.default_rng(2)
    n = 300
    growth = rng.normal(0, 1, n)
    follower = np.zeros(n)
    follower[2:] = growth[:-2] + 0.3 * rng.normal(0, 1, n - 2)
    lag = 5000 + np.cumsum(growth * 15.0)
    row = correlate_series(_t(n), lag, {"cpu": ("gauge", list(follower))}).rows[0]
    assert row.significant and row.lead_steps == -2 and "after the lag growth" in row.interpretation


@pytest.mark.parametrize("difference", [False, True])
def test_independent_random_walks_are_not_significant(difference: bool) -> None:
    # Under independence the whole family is tested at alpha = 0.05, so at most ~5 % of the seeds may show
    # a false discovery; raw levels would be "significant" in most of them (next test).
    false_discoveries = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        n = 300
        lag = 50_000 + np.cumsum(rng.normal(0, 100, n))
        walk = 0.5 + np.cumsum(rng.normal(0, 0.01, n))       # an unrelated trending gauge
        counter = np.cumsum(np.abs(rng.normal(0, 5, n)))     # an unrelated cumulative counter
        report = correlate_series(_t(n), lag, {"disk": ("gauge", list(walk)),
                                               "rebalances": ("cumulative", list(counter))},
                                  difference_gauges=difference)
        false_discoveries += bool(report.significant())
    assert false_discoveries <= 4


def test_raw_trending_series_do_correlate_naively() -> None:
    # The trap the method avoids: across seeds, raw random-walk levels often look "significant".
    hits = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        lag = 50_000 + np.cumsum(rng.normal(0, 100, 300))
        walk = 0.5 + np.cumsum(rng.normal(0, 0.01, 300))
        row = correlate_series(_t(300), lag, {"disk": ("gauge", list(walk))}).rows[0]
        hits += row.naive_p < 0.05
    assert hits >= 4


def test_correlate_on_samples_finds_the_driver() -> None:
    report = correlate(scenario("consumer_cpu_saturation", noise=0.1).samples())
    sig = {r.signal for r in report.significant()}
    assert {"cpu", "consume_rate"} <= sig
    assert report.explanation.startswith("Lag is the running sum")
    assert any(name == "rebalances" for name, _ in report.skipped)


def test_multiple_testing_corrections() -> None:
    p = [0.01, 0.04, 0.03, 0.5]
    assert benjamini_hochberg(p) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.5])


def test_too_few_samples() -> None:
    with pytest.raises(UserError):
        correlate_series(_t(5), [1, 2, 3, 4, 5], {})
