"""`local_step`: a step at the onset measured against the same comparison along the subject's own baseline, so
that what is ordinary for this producer (wandering, counting noise, a daily climb) is not taken for a step."""

from __future__ import annotations

import random

from kafka_detective.analysis.rootcause import local_step


def _ar1(n: int, sd: float, phi: float = 0.9, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    x, out = 0.0, []
    for _ in range(n):
        x = phi * x + rng.gauss(0.0, sd)
        out.append(100.0 * (1.0 + x))
    return out


def test_a_step_stands_out_against_a_calm_baseline() -> None:
    base = _ar1(120, 0.01)
    rise, z = local_step([120.0] * 10, base[-10:], base)
    assert abs(rise - 120.0 / sorted(base[-10:])[5] + 1) < 0.01
    assert z > 4


def test_the_same_step_is_ordinary_for_a_wandering_producer() -> None:
    # AR(1) with 0.9 memory: the level wanders by ~25 % over tens of minutes, so a 20 % step is one of its own
    calm, wandering = _ar1(120, 0.01), _ar1(120, 0.12)
    _, z_calm = local_step([v * 1.2 for v in calm[-10:]], calm[-10:], calm)
    _, z_wandering = local_step([v * 1.2 for v in wandering[-10:]], wandering[-10:], wandering)
    assert z_wandering < 2 < z_calm


def test_a_climb_continuing_through_the_onset_is_not_a_step() -> None:
    climb = [1.0 + i for i in range(50)]                 # a daily climb out of its trough, no step at the onset
    base, before, after = climb[:40], climb[30:40], climb[40:50]
    rise, z = local_step(after, before, base)
    assert rise > 0.1                                    # the level did rise 10+ % after the onset ...
    assert z < 1                                         # ... as much as every comparison along the baseline


def test_too_short_a_baseline_measures_nothing() -> None:
    assert local_step([200.0] * 10, [100.0] * 10, [100.0] * 25) == (0.0, 0.0)
    assert local_step([], [100.0], [100.0] * 50) == (0.0, 0.0)
