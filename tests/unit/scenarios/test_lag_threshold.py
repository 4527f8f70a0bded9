"""KafkaConsumerLagHigh's message threshold per replayed step, from the topic's log-end offsets as the recording rule
kafka:topic_lag_threshold:messages computes it over kafka:topic_produce_rate:rate1h (expected values worked out by
hand from the offsets), and the mirror against the shipped rule run by promtool."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kafka_detective_tools.patterns.promql import run_rule_tests
from kafka_detective_tools.scenarios.lag_threshold import LagThreshold

REPO = Path(__file__).resolve().parents[3]
T0 = 1_790_000_000.0


def _feed(per_minute: list[float]) -> list[float | None]:
    """Thresholds after each sample of a topic writing `per_minute[k]` messages in minute k (one sample a minute,
    the first at offset 0)."""
    threshold = LagThreshold()
    offset, out = 0.0, []
    for k, n in enumerate([0.0, *per_minute]):
        offset += n
        out.append(threshold.update(T0 + 60.0 * k, offset))
    return out


def test_a_busy_topic_pages_at_120_seconds_of_its_production() -> None:
    out = _feed([3_900_000.0] * 120)          # 65,000 msg/s
    assert out[0] is None                     # one sample: no rate yet
    assert out[30] == pytest.approx(7_800_000.0)   # the 5m rate in the first hour
    assert out[120] == pytest.approx(7_800_000.0)  # the hour's rate


def test_a_small_topic_has_the_100_message_floor() -> None:
    out = _feed([30.0] * 120)                 # 0.5 msg/s: 120 s of production is 60 messages
    assert out[1:] == [100.0] * 120


def test_the_hours_rate_once_an_hour_of_history_exists() -> None:
    # 100 msg/s (6,000 a minute) for 90 minutes, then 1,000 msg/s. At minute 100 the window (40 min, 100 min] holds
    # the samples of minutes 41 to 100: 49 minutes at 6,000 and 10 at 60,000 = 894,000 messages over 3,540 s
    out = _feed([6000.0] * 90 + [60_000.0] * 10)
    assert out[100] == pytest.approx(120 * 894_000 / 3540)      # 30,305 messages, not 120 s at 1,000 msg/s


def test_the_5_minute_rate_before_an_hour_of_history() -> None:
    # 100 msg/s for 20 minutes, then 400 msg/s. At minute 22 the recording rule falls back to the 5m rate: samples
    # of minutes 18 to 22, 2 x 6,000 + 2 x 24,000 = 60,000 messages over 240 s = 250 msg/s (the 22 minutes so far
    # would give 168,000 / 1,320 s = 127 msg/s)
    out = _feed([6000.0] * 20 + [24_000.0] * 2)
    assert out[22] == pytest.approx(30_000.0)


def test_a_counter_reset_starts_a_new_count() -> None:
    # 100 msg/s; at minute 70 the log-end offsets restart from 0 and 6,000 arrive in that minute (rate() reads
    # the drop as a reset and counts the new value): the rate stays 100 msg/s
    threshold = LagThreshold()
    offsets = [6000.0 * k for k in range(70)] + [6000.0 * k for k in range(1, 20)]
    out = [threshold.update(T0 + 60.0 * k, v) for k, v in enumerate(offsets)]
    assert out[-1] == pytest.approx(12_000.0)


def test_the_mirror_agrees_with_the_shipped_recording_rule() -> None:
    # The same per-minute offsets through the mirror and through kafka:topic_lag_threshold:messages of the generated
    # rule file (promtool): a busy topic, the 100-message floor, and a producer whose last five minutes (a pause
    # after a burst) differ from its hour, before and after an hour of history. The series are chosen so that
    # rate() gives the same whether it reads the sample at the window's start (Prometheus 2) or not (Prometheus 3,
    # as the mirror): constant rates, and a first minute of the hour at the hour's average.
    per_minute = {
        "busy": [3_900_000.0] * 80,                                # 65,000 msg/s
        "quiet": [30.0] * 80,                                      # 0.5 msg/s
        "bursty": [1200.0] * 40 + [2400.0] * 5 + [1200.0] * 25 + [0.0] * 10,
    }
    minutes = (20, 75)
    input_series, expected = [], []
    for topic, writes in per_minute.items():
        offsets = [sum(writes[:k]) for k in range(len(writes) + 1)]
        series = f'kafka_topic_partition_current_offset{{cluster="c",topic="{topic}",partition="0"}}'
        input_series.append({"series": series, "values": " ".join(f"{v:.0f}" for v in offsets)})
        threshold = LagThreshold()
        mirror = [threshold.update(T0 + 60.0 * k, v) for k, v in enumerate(offsets)]
        expected.append((topic, {m: mirror[m] for m in minutes}))
    assert expected[2][1][75] == pytest.approx(2400.0)             # the hour's 20 msg/s, not the pause's floor
    # to the message: promtool compares floats exactly and rate()'s arithmetic may differ in the last bit
    cases = [{"expr": "round(kafka:topic_lag_threshold:messages)", "eval_time": f"{m}m",
              "exp_samples": [{"labels": f'{{cluster="c",topic="{topic}"}}', "value": round(values[m])}
                              for topic, values in expected]} for m in minutes]
    groups = yaml.safe_load((REPO / "alert-rules" / "prometheus-rules.yaml").read_text(encoding="utf-8"))["groups"]
    failure = run_rule_tests(groups, [{"name": "mirror", "interval": "1m", "input_series": input_series,
                                       "promql_expr_test": cases}])
    assert failure is None, failure
