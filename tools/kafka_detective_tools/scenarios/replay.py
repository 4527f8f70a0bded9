"""One replay of a scenario trace through the online engine, step by step, as the exporter would run it.

`samples_from_trace` → `OnlineAnalytics.observe`, oldest sample first, with the baselines (least squares over 1 h,
the regression with R²) and the topic's lag threshold (`lag_threshold.py`) updated beside it: every scorer — root
cause, detection, false alerts (`evaluate.py`), forecasts and predictive lead times (`forecast_eval.py`) — reads
the same replay, so a trace is loaded and replayed once per evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.errors import UserError
from kafka_detective_tools.scenarios.baselines import LeastSquaresLine, RegressionWithR2
from kafka_detective_tools.scenarios.lag_threshold import LagThreshold
from kafka_detective_tools.scenarios.trace import (
    Trace,
    Truth,
    load_trace,
    load_truth,
    samples_from_trace,
    truth_path_for,
)

HORIZON = 1800


@dataclass
class StepRecord:
    t: float
    lag: float
    lag_seconds: float | None
    analysis: GroupTopicAnalysis | None
    ls_pred: float | None
    r2_pred: float | None
    ls_lag_seconds_pred: float | None
    lag_threshold: float | None    # KafkaConsumerLagHigh's (and KafkaConsumerLagBreachPredicted's) message threshold


@dataclass
class ReplayResult:
    truth: Truth
    trace: Trace                                    # what was replayed: the scorers read its other series
    records: dict[tuple[str, str, str], list[StepRecord]] = field(default_factory=dict)
    analyses: list[tuple[float, GroupTopicAnalysis]] = field(default_factory=list)   # every subject, every step


def find_traces(directory: str | Path) -> list[tuple[Path, Path]]:
    d = Path(directory)
    if not d.is_dir():
        raise UserError(f"scenario directory {d} does not exist")
    out = []
    for trace in sorted([*d.glob("*.om"), *d.glob("*.om.gz")]):
        truth = truth_path_for(trace)
        if truth.exists():
            out.append((trace, truth))
    if not out:
        raise UserError(f"no traces (<name>.om with <name>.truth.yaml) in {d}; run `kafka-detective simulate`")
    return out


def replay(trace_path: Path, truth_path: Path, engine: OnlineAnalytics | None = None) -> ReplayResult:
    trace = load_trace(trace_path)
    truth = load_truth(truth_path)
    subjects = [truth.subject, *truth.other_subjects]
    per_subject = {s: samples_from_trace(trace, *s) for s in subjects}
    engine = engine if engine is not None else OnlineAnalytics()   # an engine with no subject yet is falsy (len 0)
    by_time: dict[float, list] = {}
    for samples in per_subject.values():
        for s in samples:
            by_time.setdefault(s.timestamp, []).append(s)
    result = ReplayResult(truth=truth, trace=trace, records={s: [] for s in subjects})
    ls = {s: LeastSquaresLine(3600.0) for s in subjects}
    r2 = {s: RegressionWithR2(600.0, 0.5) for s in subjects}
    ls_sec = {s: LeastSquaresLine(3600.0) for s in subjects}
    threshold = {s: LagThreshold() for s in subjects}
    for t in sorted(by_time):
        batch = by_time[t]
        engine.observe(batch)
        for s in batch:
            key = (s.cluster, s.group, s.topic)
            ls[key].update(t, s.lag)
            r2[key].update(t, s.lag)
            if s.lag_seconds is not None:
                ls_sec[key].update(t, s.lag_seconds)
            analysis = engine.result(*key)
            result.records[key].append(StepRecord(
                t, s.lag, s.lag_seconds, analysis, ls[key].predict(HORIZON), r2[key].predict(HORIZON),
                ls_sec[key].predict(HORIZON) if s.lag_seconds is not None else None,
                threshold[key].update(t, s.log_end_offset)))
            if analysis is not None:
                result.analyses.append((t, analysis))
    return result



def firing_episodes(times: Sequence[float], flags: Sequence[bool], hold: float = 0.0) -> list[tuple[float, float]]:
    """Rising-edge episodes (start of firing, end) of a boolean series; with `hold` (a rule's `for:`), a flag must
    stay on `hold` seconds to fire."""
    out = []
    start = None
    for t, f in zip(times, flags, strict=True):
        if f and start is None:
            start = t
        elif not f and start is not None:
            if t - start >= hold:
                out.append((start + hold, t))
            start = None
    if start is not None and times[-1] - start >= hold:
        out.append((start + hold, times[-1]))
    return out
