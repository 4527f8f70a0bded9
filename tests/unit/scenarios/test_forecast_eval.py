"""Forecast and predictive-alert figures per trace: the disk rule's emulation, the thresholds mirrored from the
pattern configuration, figures on simulated traces and `evaluate --forecasts`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafka_detective.cli import main
from kafka_detective.durations import parse_duration
from kafka_detective.yamlio import load_file
from kafka_detective_tools.scenarios import forecast_eval as fe
from kafka_detective_tools.scenarios.trace import Series

REPO = Path(__file__).resolve().parents[3]
T0 = 1_790_000_000.0
TOTAL = 1000.0


def test_mirrored_thresholds_match_the_pattern_configuration() -> None:
    cfg = load_file(REPO / "patterns" / "config.yaml")["_config"]
    assert cfg["predicted_lag_threshold"] == fe.LAG_THRESHOLD
    assert cfg["predicted_lag_lead_seconds"] == fe.LAG_LEAD
    assert parse_duration(cfg["predicted_lag_for"]) == fe.LAG_FOR
    assert cfg["lag_seconds_warning"] == fe.LAG_SECONDS_THRESHOLD
    assert cfg["retention_breach_seconds_warning"] == fe.RETENTION_THRESHOLD
    assert parse_duration(cfg["retention_breach_for"]) == fe.RETENTION_FOR
    assert cfg["disk_used_ratio_warning"] == fe.DISK_WARNING
    assert parse_duration(cfg["disk_full_predict_window"]) == fe.DISK_WINDOW
    assert parse_duration(cfg["disk_full_trend_window"]) == fe.DISK_LONG_WINDOW
    assert cfg["disk_full_predict_hours"] == fe.DISK_HOURS
    assert cfg["disk_full_min_used_ratio"] == fe.DISK_MIN_USED
    assert parse_duration(cfg["disk_full_for"]) == fe.DISK_FOR


def _disk(used: list[float]) -> tuple[Series, Series]:
    ts = [T0 + 60.0 * i for i in range(len(used))]
    labels = {"cluster": "c", "broker_id": "1", "log_dir": "/d"}
    return (Series("kafka_broker_log_dir_usable_bytes", labels, ts, [TOTAL * (1 - u) for u in used]),
            Series("kafka_broker_log_dir_total_bytes", labels, ts, [TOTAL] * len(used)))


@pytest.mark.parametrize("fill_minutes", [60, 120, 180])
def test_disk_rule_warns_30_minutes_before_a_linear_fill_reaches_85_percent(fill_minutes: int) -> None:
    used = [0.5] * 120 + [0.5 + 0.49 * min(1.0, k / fill_minutes) for k in range(fill_minutes + 30)]
    ts, flags, ratio = fe.disk_rule_flags(*_disk(used))
    breach = fe._first_crossing(ts, ratio, fe.DISK_WARNING)
    assert breach is not None
    lead = fe._lead(ts, flags, fe.DISK_FOR, breach, 60.0)
    assert lead is not None and lead >= 30 * 60, lead


@pytest.mark.parametrize("used", [[0.9] * 300, [0.95 - 0.001 * k for k in range(300)],
                                  [0.6 + 0.02 * (k % 10 == 0) for k in range(300)]])
def test_disk_rule_is_silent_on_flat_falling_and_jittering_usage(used: list[float]) -> None:
    _, flags, _ = fe.disk_rule_flags(*_disk(used))
    assert not fe.firing_episodes([T0 + 60.0 * i for i in range(len(used))], flags, fe.DISK_FOR)


def test_ramped_needs_a_rise_in_every_10_minutes() -> None:
    ts = [T0 + 60.0 * i for i in range(100)]
    ramp = [100.0 * i for i in range(100)]
    hockey = [500.0] * 90 + [500.0 + 2000.0 * k for k in range(10)]
    assert fe._ramped(ts, ramp, ts[90], 500.0)
    assert not fe._ramped(ts, hockey, ts[95], 500.0)


def test_figures_of_a_retention_breach_and_a_quiet_trace(tmp_path, write_short_scenario) -> None:
    write_short_scenario(tmp_path, "retention-loss", hours_before=3.0, quiet_hours=5.0)
    write_short_scenario(tmp_path, "quiet-steady", hours_before=3.0, quiet_hours=5.0)
    result = fe.forecast_evaluate(tmp_path)
    traces = {p["scenario"]: p for p in result["traces"]}
    loss, quiet = traces["retention-loss"], traces["quiet-steady"]
    assert loss["forecasts"] > 100 and quiet["forecasts"] > 100
    assert set(loss["mae"]) == {"engine", "least_squares", "persistence"}
    retention = [b for b in loss["breaches"] if b["kind"] == "retention"]
    assert retention and retention[0]["lead_seconds"] is not None and retention[0]["lead_seconds"] >= 20 * 60
    assert 0.5 <= quiet["coverage"] <= 1.0
    # a quiet group: no worse than persistence, no predictive warning
    assert quiet["mae"]["engine"] <= quiet["mae"]["persistence"]
    assert sum(quiet["false_warnings"].values()) == 0
    summary = result["summary"]
    assert summary["traces"] == 2 and summary["breaches"]["retention"]["ramped_warned_20m"] == 1
    text = fe.format_forecast_report(result)
    assert "retention-loss" in text and "reduction vs least squares" in text


def test_evaluate_forecasts_option(tmp_path, capsys, write_short_scenario) -> None:
    write_short_scenario(tmp_path, "quiet-steady", quiet_hours=5.0)
    out = tmp_path / "out.json"
    assert main(["evaluate", "--scenarios", str(tmp_path), "--forecasts", "--quiet", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Forecasts and predictive alerts" in text and "quiet-steady" in text
    data = json.loads(out.read_text())
    assert data["forecasts"]["all"]["summary"]["quiet_traces"] == 1
