"""Forecasts, anomaly scores and the current diagnosis per group/topic, from the online analytics."""

from __future__ import annotations

from kafka_detective.metrics.family import Family
from kafka_detective.metrics.spec import GROUP_TOPIC, MetricSpec
from kafka_detective.metrics.view import View

PREDICTED_LAG = MetricSpec(
    "kafka_consumergroup_predicted_lag", "gauge", GROUP_TOPIC + ("horizon",),
    "Forecast lag sum at the horizon (5m, 15m, 30m) from modelled produce and consume rates.",
    "analysis")
PREDICTED_LAG_UPPER = MetricSpec(
    "kafka_consumergroup_predicted_lag_upper", "gauge", GROUP_TOPIC + ("horizon",),
    "Upper bound of the forecast's prediction interval at the horizon.", "analysis")
PREDICTED_LAG_LOWER = MetricSpec(
    "kafka_consumergroup_predicted_lag_lower", "gauge", GROUP_TOPIC + ("horizon",),
    "Lower bound of the forecast's 90 % prediction interval at the horizon (the upper bound is "
    "kafka_consumergroup_predicted_lag_upper).", "analysis")
LAG_GROWTH_RATE = MetricSpec(
    "kafka_consumergroup_lag_growth_rate", "gauge", GROUP_TOPIC,
    "Growth of the lag in messages/s while it has a significant upward trend (the consumers run at "
    "capacity), else 0: the time to a lag threshold is (threshold - lag) / rate.", "analysis")
LAG_SECONDS_GROWTH_RATE = MetricSpec(
    "kafka_consumergroup_lag_seconds_growth_rate", "gauge", GROUP_TOPIC,
    "Growth of the oldest unconsumed message's age in seconds per second while significant, else 0; "
    "absent without lag seconds.", "analysis")
CATCH_UP_SECONDS = MetricSpec(
    "kafka_consumergroup_catch_up_seconds", "gauge", GROUP_TOPIC,
    "Predicted seconds until the lag reaches zero; absent when the group is not catching up.",
    "analysis")
RETENTION_BREACH_SECONDS = MetricSpec(
    "kafka_consumergroup_retention_breach_seconds", "gauge", GROUP_TOPIC,
    "Predicted seconds until retention deletes the oldest unconsumed message; absent when the "
    "topic has no time-based retention.", "analysis")
ANOMALY_SCORE = MetricSpec(
    "kafka_detective_anomaly_score", "gauge", GROUP_TOPIC + ("signal",),
    "Calibrated 0-1 anomaly score of the signal (produce_rate, consume_rate, lag, lag_seconds, "
    "rebalances).", "analysis")
DIAGNOSIS = MetricSpec(
    "kafka_detective_diagnosis", "gauge", GROUP_TOPIC + ("cause",),
    "Current probable root cause of the group's lag; the value is the confidence (0-1). Present "
    "only while the analysis sees a lag problem.", "analysis")

SPECS = (PREDICTED_LAG, PREDICTED_LAG_UPPER, PREDICTED_LAG_LOWER, LAG_GROWTH_RATE, LAG_SECONDS_GROWTH_RATE,
         CATCH_UP_SECONDS, RETENTION_BREACH_SECONDS, ANOMALY_SCORE, DIAGNOSIS)


def horizon_label(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def families(view: View) -> list[Family]:
    c = view.cluster
    predicted, upper = Family(PREDICTED_LAG), Family(PREDICTED_LAG_UPPER)
    catch_up, breach = Family(CATCH_UP_SECONDS), Family(RETENTION_BREACH_SECONDS)
    anomaly, diagnosis = Family(ANOMALY_SCORE), Family(DIAGNOSIS)
    lower, growth = Family(PREDICTED_LAG_LOWER), Family(LAG_GROWTH_RATE)
    seconds_growth = Family(LAG_SECONDS_GROWTH_RATE)
    for a in sorted(view.analysis, key=lambda r: (r.group, r.topic)):
        base = (c, a.group, a.topic)
        for horizon in sorted(a.predicted_lag):
            predicted.add((*base, horizon_label(horizon)), a.predicted_lag[horizon])
        for horizon in sorted(a.predicted_lag_upper):
            upper.add((*base, horizon_label(horizon)), a.predicted_lag_upper[horizon])
        for horizon in sorted(a.predicted_lag_lower):
            lower.add((*base, horizon_label(horizon)), a.predicted_lag_lower[horizon])
        if a.lag_growth_rate is not None:
            growth.add(base, a.lag_growth_rate)
        if a.lag_seconds_growth_rate is not None:
            seconds_growth.add(base, a.lag_seconds_growth_rate)
        if a.catch_up_seconds is not None:
            catch_up.add(base, a.catch_up_seconds)
        if a.retention_breach_seconds is not None:
            breach.add(base, a.retention_breach_seconds)
        for signal in sorted(a.anomaly_scores):
            anomaly.add((*base, signal), a.anomaly_scores[signal])
        if a.diagnosis is not None:
            diagnosis.add((*base, a.diagnosis.cause), a.diagnosis.confidence)
    return [predicted, upper, lower, growth, seconds_growth, catch_up, breach, anomaly, diagnosis]
