"""Full garbage collections run between cycles, at most every FULL_COLLECTION_SECONDS, never by themselves."""

import gc

import pytest

from kafka_detective.pipeline import garbage


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)
    gc.unfreeze()


def test_install_keeps_the_young_thresholds_and_puts_the_full_collection_out_of_reach(thresholds):
    young, middle, _ = gc.get_threshold()
    garbage.install()
    assert gc.get_threshold() == (young, middle, garbage._NEVER)
    assert gc.get_freeze_count() > 0


def test_a_full_collection_runs_after_a_cycle_once_the_last_one_is_old_enough(monkeypatch):
    now = [1000.0]
    collections: list[tuple[int, ...]] = []
    monkeypatch.setattr(garbage.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(garbage.gc, "collect", lambda *generation: collections.append(generation))
    monkeypatch.setattr(garbage, "_last_full", now[0])
    garbage.after_cycle()
    now[0] += garbage.FULL_COLLECTION_SECONDS - 1
    garbage.after_cycle()
    assert collections == []
    now[0] += 1
    garbage.after_cycle()
    garbage.after_cycle()
    assert collections == [()]
