"""Which signal moved first: change-point onsets and their ranking, on data whose answer is known by
construction; the `correlate --lead-ranking` command on a written trace."""

from __future__ import annotations

import json
import random

import pytest

from kafka_detective.cli import main
from kafka_detective_tools.investigation.correlate import change_onset, lead_ranking_series
from kafka_detective_tools.scenarios.trace import Series, write_trace

T0 = 1_790_000_000.0
STEP = 60.0
N = 240


def _times() -> list[float]:
    return [T0 + STEP * i for i in range(N)]


def _noise(seed: int, level: float, sd: float) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0.0, sd) for _ in range(N)]


def test_onset_of_a_step_is_where_it_began_not_where_it_alarmed() -> None:
    x = _noise(1, 100.0, 5.0)
    for i in range(150, N):
        x[i] += 15.0                                   # a 3-sigma step at index 150
    onset, alarm, direction, peak = change_onset(_times(), x)
    assert direction == "up"
    assert onset is not None and alarm is not None
    assert abs(onset - (T0 + 150 * STEP)) <= 2 * STEP
    assert alarm > onset                               # CUSUM needs a few points to be sure
    assert peak >= 3.0


def test_noise_alone_never_moves() -> None:
    for seed in range(20):
        onset, alarm, direction, _ = change_onset(_times(), _noise(seed, 50.0, 3.0))
        assert onset is None and alarm is None and direction == ""


def test_ramp_down_is_found_with_its_direction() -> None:
    x = _noise(3, 1000.0, 10.0)
    for i in range(120, N):
        x[i] -= 4.0 * (i - 120)                        # free disk bytes falling from index 120
    onset, _, direction, _ = change_onset(_times(), x)
    assert direction == "down"
    assert onset is not None and T0 + 118 * STEP <= onset <= T0 + 130 * STEP


def test_ranking_puts_the_first_domino_first() -> None:
    t = _times()
    # the broker's disk starts filling at 100, the topic's consumers slow at 130, the lag of two groups rises
    # at 135 and 160, a counter of rebalances of an unrelated group stays at zero, an idle topic is noise
    disk = _noise(10, 5e11, 1e8)
    consume = _noise(11, 200.0, 8.0)
    lag_a = _noise(12, 500.0, 40.0)
    lag_b = _noise(13, 800.0, 40.0)
    for i in range(N):
        if i >= 100:
            disk[i] -= 3e8 * (i - 100)
        if i >= 130:
            consume[i] -= 80.0
        if i >= 135:
            lag_a[i] += 80.0 * (i - 135)
        if i >= 160:
            lag_b[i] += 60.0 * (i - 160)
    rebalances = [0.0] * N
    idle = _noise(14, 20.0, 2.0)
    series = [
        ("lag g-b/orders", "lag", {"consumergroup": "g-b", "topic": "orders"}, "gauge", t, lag_b),
        ("free disk bytes broker 3", "free disk bytes", {"broker_id": "3"}, "gauge", t, disk),
        ("rebalances group g-c", "rebalances", {"consumergroup": "g-c"}, "counter", t, rebalances),
        ("lag g-a/orders", "lag", {"consumergroup": "g-a", "topic": "orders"}, "gauge", t, lag_a),
        ("produce rate topic idle", "produce rate", {"topic": "idle"}, "gauge", t, idle),
        ("consume rate g-a/orders", "consume rate", {"consumergroup": "g-a", "topic": "orders"}, "gauge", t, consume),
    ]
    ranking = lead_ranking_series("prod", series)
    moved = [r.series for r in ranking.moved()]
    assert moved == ["free disk bytes broker 3", "consume rate g-a/orders", "lag g-a/orders", "lag g-b/orders"]
    first = ranking.rows[0]
    assert first.rank == 1 and first.after_first_seconds == 0.0 and first.direction == "down"
    assert [r.rank for r in ranking.moved()] == [1, 2, 3, 4]
    assert ranking.rows[1].after_first_seconds == pytest.approx(30 * STEP, abs=3 * STEP)
    still = {r.series for r in ranking.rows if r.onset is None}
    assert still == {"rebalances group g-c", "produce rate topic idle"}


def test_simultaneous_moves_share_a_rank() -> None:
    t = _times()
    a, b = _noise(20, 10.0, 1.0), _noise(21, 10.0, 1.0)
    for i in range(150, N):
        a[i] += 20.0
        b[i] += 20.0
    ranking = lead_ranking_series("c", [("a", "x", {}, "gauge", t, a), ("b", "x", {}, "gauge", t, b)])
    assert [r.rank for r in ranking.rows] == [1, 1]


def test_counters_are_ranked_as_rates() -> None:
    t = _times()
    rng = random.Random(30)
    total, counter = 0.0, []
    for i in range(N):
        total += (5.0 if i >= 170 else 0.0) + (1.0 if rng.random() < 0.02 else 0.0)
        counter.append(total)
    onset_row = lead_ranking_series("c", [("leader changes", "leader changes", {}, "counter", t, counter)]).rows[0]
    assert onset_row.onset is not None and abs(onset_row.onset - (T0 + 170 * STEP)) <= 2 * STEP


def _trace(path) -> None:
    t = _times()
    lag_early, lag_late = _noise(40, 300.0, 30.0), _noise(41, 300.0, 30.0)
    for i in range(N):
        if i >= 120:
            lag_early[i] += 50.0 * (i - 120)
        if i >= 180:
            lag_late[i] += 50.0 * (i - 180)
    series = [Series("kafka_consumergroup_lag_sum", {"cluster": "prod", "consumergroup": g, "topic": "orders"},
                     list(t), v) for g, v in (("early", lag_early), ("late", lag_late))]
    write_trace(path, series)


def test_correlate_lead_ranking_command(tmp_path, capsys) -> None:
    path = tmp_path / "two.om"
    _trace(path)
    assert main(["correlate", "--lead-ranking", "--trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "First to move: lag early/orders" in out
    assert out.index("lag early/orders") < out.index("lag late/orders")
    assert main(["correlate", "--lead-ranking", "--trace", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["series"] for r in data["rows"]][:2] == ["lag early/orders", "lag late/orders"]
    assert data["rows"][1]["after_first_seconds"] == pytest.approx(60 * STEP, abs=3 * STEP)


def test_correlate_without_group_or_lead_ranking_is_one_clear_line(tmp_path, capsys) -> None:
    path = tmp_path / "two.om"
    _trace(path)
    assert main(["correlate", "--trace", str(path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--group is required" in err[0]
    assert main(["correlate", "--lead-ranking", "--trace", str(path), "--cluster", "nope"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no cluster 'nope'" in err[0]
