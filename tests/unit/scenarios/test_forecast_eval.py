"""Forecast and predictive-alert figures per trace: the disk rule's emulation, the thresholds mirrored from the
pattern configuration, figures on simulated traces and `evaluate --forecasts`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.cli import main
from kafka_detective.durations import parse_duration
from kafka_detective.yamlio import load_file
from kafka_detective_tools.scenarios import forecast_eval as fe
from kafka_detective_tools.scenarios import lag_threshold
from kafka_detective_tools.scenarios.evaluate import HOLD_SECONDS, _predictive_flags
from kafka_detective_tools.scenarios.replay import HORIZON, ReplayResult, StepRecord, firing_episodes, replay
from kafka_detective_tools.scenarios.trace import Series, Truth, write_trace, write_truth

REPO = Path(__file__).resolve().parents[3]
T0 = 1_790_000_000.0
TOTAL = 1000.0


def test_mirrored_thresholds_match_the_pattern_configuration() -> None:
    cfg = load_file(REPO / "patterns" / "config.yaml")["_config"]
    assert "predicted_lag_threshold" not in cfg    # the predictive rule forecasts KafkaConsumerLagHigh's threshold
    assert cfg["lag_messages_produce_seconds"] == lag_threshold.LAG_MESSAGES_PRODUCE_SECONDS
    assert cfg["lag_messages_warning"] == lag_threshold.LAG_MESSAGES_WARNING
    assert parse_duration(cfg["baseline_window"]) == lag_threshold.BASELINE_WINDOW
    assert parse_duration(cfg["rate_window"]) == lag_threshold.RATE_WINDOW
    assert cfg["predicted_lag_lead_seconds"] == fe.LAG_LEAD
    assert parse_duration(cfg["predicted_lag_for"]) == fe.LAG_FOR
    assert parse_duration(cfg["predicted_lag_growth_window"]) == fe.LAG_GROWTH_WINDOW
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
    # the worst quiet trace is said in words: its MAE above or below least squares' (a bare "-14 %" next to a
    # reduction of "+45 %" was read as worse)
    lower = quiet["mae"]["engine"] < quiet["mae"]["least_squares"]
    assert ("below least squares'" if lower else "above least squares'") in text.split("worst quiet trace: MAE")[1]


def test_evaluate_forecasts_option(tmp_path, capsys, write_short_scenario) -> None:
    write_short_scenario(tmp_path, "quiet-steady", quiet_hours=5.0)
    out = tmp_path / "out.json"
    assert main(["evaluate", "--scenarios", str(tmp_path), "--forecasts", "--quiet", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Forecasts and predictive alerts" in text and "quiet-steady" in text
    data = json.loads(out.read_text())
    assert data["forecasts"]["all"]["summary"]["quiet_traces"] == 1


SUBJECT = {"cluster": "c", "consumergroup": "g", "topic": "t"}


def _replayed(tmp_path: Path, lags: list[float], produced_per_minute: float, quiet: bool) -> ReplayResult:
    """Replay a trace of one group (one sample a minute) whose topic writes `produced_per_minute` messages a minute
    over two partitions."""
    ts = [T0 + 60.0 * k for k in range(len(lags))]
    half = [produced_per_minute / 2 * k for k in range(len(lags))]
    series = [Series("kafka_consumergroup_lag_sum", dict(SUBJECT), ts, lags)]
    series += [Series("kafka_topic_partition_current_offset", {"cluster": "c", "topic": "t", "partition": p}, ts, half)
               for p in ("0", "1")]
    write_trace(tmp_path / "trace.om", series)
    write_truth(tmp_path / "trace.truth.yaml", Truth(name="trace", cluster="c", consumergroup="g", topic="t",
                                                      start=ts[0], end=ts[-1], step_seconds=60.0, quiet=quiet))
    return replay(tmp_path / "trace.om", tmp_path / "trace.truth.yaml")


def _with_forecasts(rep: ReplayResult, growth: list[float], ahead: list[float],
                    threshold: float | None = None) -> ReplayResult:
    """The replay with the forecaster's growth rate and 30-minute forecast (lag + `ahead`) set by hand at each step
    (and, given, a fixed lag threshold in place of the replayed one)."""
    records = rep.records[rep.truth.subject]
    rep.records[rep.truth.subject] = [
        replace(r, analysis=GroupTopicAnalysis("c", "g", "t", predicted_lag={HORIZON: r.lag + a}, lag_growth_rate=g),
                lag_threshold=r.lag_threshold if threshold is None else threshold)
        for r, g, a in zip(records, growth, ahead, strict=True)]
    return rep


def _predictive_episodes(records: list[StepRecord]) -> int:
    flags = _predictive_flags(records, lambda r: r.analysis.predicted_lag.get(HORIZON) if r.analysis else None, None)
    return len(firing_episodes([r.t for r in records], flags, HOLD_SECONDS))


def test_lag_noise_past_10000_messages_on_a_busy_topic_is_no_predictive_false_warning(tmp_path) -> None:
    # Six quiet hours of a 65,000 msg/s topic: the lag swings in 20-minute waves between 8,000-9,000 and
    # 11,000-12,000 messages. KafkaConsumerLagHigh pages at 120 s of production, 7,800,000 messages. A forecaster
    # that reads the swing as growth (5 msg/s, the 30-minute forecast 9,000 above the lag) would warn of a breach of
    # the old absolute 10,000 in every trough (10 minutes held by evaluate, 2 by the rule).
    lags = [(8000.0 if k // 20 % 2 == 0 else 11_000.0) + 500.0 * (k % 3) for k in range(6 * 60)]
    rep = _replayed(tmp_path, lags, 3_900_000.0, quiet=True)
    records = rep.records[rep.truth.subject]
    assert max(lags) > 10_000
    assert all(r.lag_threshold == pytest.approx(7_800_000.0) for r in records[1:])
    growth, ahead = [5.0] * len(lags), [9000.0] * len(lags)
    busy = _with_forecasts(rep, growth, ahead)
    assert fe.replay_figures(busy)["false_warnings"]["lag"] == 0
    assert _predictive_episodes(busy.records[rep.truth.subject]) == 0
    # the same forecasts against an absolute 10,000 messages: the false warnings this threshold removes
    absolute = _with_forecasts(_replayed(tmp_path, lags, 3_900_000.0, quiet=True), growth, ahead, threshold=10_000.0)
    assert fe.replay_figures(absolute)["false_warnings"]["lag"] > 0
    assert _predictive_episodes(absolute.records[rep.truth.subject]) > 0


def test_a_growing_backlog_on_a_small_topic_breaches_at_the_100_message_floor(tmp_path) -> None:
    # 0.5 msg/s (30 a minute): 120 s of production is 60 messages, under the 100-message floor. The lag is 0 for
    # 90 minutes, then grows 2 messages a minute: 100 at minute 140 (60 at minute 120).
    lags = [0.0] * 90 + [2.0 * k for k in range(90)]
    rep = _replayed(tmp_path, lags, 30.0, quiet=False)
    records = rep.records[rep.truth.subject]
    assert all(r.lag_threshold == 100.0 for r in records[1:])
    # the forecaster sees the growth (2 messages a minute, 1/30 msg/s) from minute 90. k minutes later the lag is 2k
    # and the 10-minute window (11 samples) holds k + 1 of them: (100 - 2k) / ((k + 1) / 11 / 30) is 2,706 s at
    # k = 9, 2,400 s at k = 10, under the 2,700 s lead from minute 100 on; held 2 minutes: warned at minute 102, 38
    # minutes ahead (at the growth of the moment it would be minute 98, 42 minutes ahead)
    growth = [0.0] * 90 + [1.0 / 30.0] * 90
    figures = fe.replay_figures(_with_forecasts(rep, growth, [0.0] * len(lags)))
    lag_breaches = [b for b in figures["breaches"] if b["kind"] == "lag"]
    assert lag_breaches == [{"kind": "lag", "time": T0 + 140 * 60.0, "ramped": True, "lead_seconds": 38 * 60.0}]


def test_window_means_are_avg_over_time_over_both_ends_of_the_window() -> None:
    times = [0.0, 60.0, 120.0, 180.0, 240.0]
    assert fe.window_means(times, [1.0, 2.0, 3.0, 4.0, 5.0], 120.0) == [1.0, 1.5, 2.0, 3.0, 4.0]
    # a missing sample (the forecaster not ready) is left out, not counted as 0
    assert fe.window_means(times, [None, 2.0, None, 4.0, None], 120.0) == [None, 2.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(("minutes", "warned"), [(4, False), (20, True)])
def test_a_growth_of_minutes_warns_only_at_its_10_minute_average(tmp_path, minutes: int, warned: bool) -> None:
    # A quiet 0.5 msg/s topic (threshold 100 messages), its lag flat at 40 for three hours. The forecaster reports a
    # growth of 1/30 msg/s for `minutes` at hour 2: at that rate the threshold is (100 - 40) * 30 = 1,800 s away,
    # under the 2,700 s lead. Four minutes weigh 4 of the window's 11 samples: 1,800 * 11 / 4 = 4,950 s, no warning;
    # twenty fill it and warn.
    lags = [40.0] * 180
    rep = _replayed(tmp_path, lags, 30.0, quiet=True)
    growth = [0.0] * 120 + [1.0 / 30.0] * minutes + [0.0] * (60 - minutes)
    figures = fe.replay_figures(_with_forecasts(rep, growth, [0.0] * len(lags)))
    assert (figures["false_warnings"]["lag"] == 1) is warned
