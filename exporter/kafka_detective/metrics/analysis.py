"""Forecasts, anomaly scores and the current diagnosis per group/topic, from the online analytics."""

from __future__ import annotations

from kafka_detective.metrics.exposition import Family, family
from kafka_detective.metrics.view import View


def horizon_label(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def families(view: View) -> list[Family]:
    c = view.cluster
    predicted, upper = family("kafka_consumergroup_predicted_lag"), family("kafka_consumergroup_predicted_lag_upper")
    catch_up, breach = family("kafka_consumergroup_catch_up_seconds"), family(
        "kafka_consumergroup_retention_breach_seconds")
    anomaly, diagnosis = family("kafka_detective_anomaly_score"), family("kafka_detective_diagnosis")
    lower, growth = family("kafka_consumergroup_predicted_lag_lower"), family("kafka_consumergroup_lag_growth_rate")
    seconds_growth = family("kafka_consumergroup_lag_seconds_growth_rate")
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
