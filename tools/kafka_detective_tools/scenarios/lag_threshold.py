"""KafkaConsumerLagHigh's message threshold at each step of a replay, as Prometheus computes it from the topic's
log-end offsets: the recording rule kafka:topic_lag_threshold:messages, `clamp_min(lag_messages_produce_seconds *
kafka:topic_produce_rate:rate<baseline_window>, lag_messages_warning)`. KafkaConsumerLagBreachPredicted forecasts
the same series, so the evaluations that emulate it (`evaluate.py`, `forecast_eval.py`) read it off each
`StepRecord` (tests/unit/scenarios/test_lag_threshold.py runs the shipped rule on promtool against this mirror).

The produce rate is the rate over `baseline_window` once the series has that much history, and the rate over
`rate_window` before (over a partly covered window rate() would divide the increase of 20 minutes by an hour).
A rate over a window is the increase of the summed log-end offset between its first and last samples over their
time span — what rate() gives once its extrapolation to the window's edges is done — with counter resets taken
as Prometheus does (a drop starts a new count from 0).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque

# mirrors of patterns/config.yaml (tests/unit/scenarios/test_forecast_eval.py checks them)
LAG_MESSAGES_PRODUCE_SECONDS = 120.0   # lag_messages_produce_seconds
LAG_MESSAGES_WARNING = 100.0           # lag_messages_warning
BASELINE_WINDOW = 3600.0               # baseline_window (1h)
RATE_WINDOW = 300.0                    # rate_window (5m)


class LagThreshold:
    """One topic's threshold, fed its summed log-end offset oldest sample first."""

    def __init__(self) -> None:
        self._first: float | None = None
        self._times: deque[float] = deque()
        self._counts: deque[float] = deque()   # the offsets with resets added back: a monotonic count
        self._last: float | None = None

    def update(self, t: float, log_end_offset: float) -> float | None:
        """The threshold at `t` after this sample; None while the rate is unknown (fewer than two samples in the
        window: the recording rule has no value and the rule cannot fire on the message count)."""
        if self._first is None:
            self._first = t
        count = self._counts[-1] if self._counts else 0.0
        if self._last is not None:
            count += log_end_offset - self._last if log_end_offset >= self._last else log_end_offset
        self._last = log_end_offset
        self._times.append(t)
        self._counts.append(count)
        while self._times[0] <= t - BASELINE_WINDOW:
            self._times.popleft()
            self._counts.popleft()
        window = BASELINE_WINDOW if t - self._first >= BASELINE_WINDOW else RATE_WINDOW
        i = bisect_right(self._times, t - window)    # rate() over (t - window, t]
        span = t - self._times[i]
        if span <= 0:
            return None
        rate = (count - self._counts[i]) / span
        return max(LAG_MESSAGES_WARNING, LAG_MESSAGES_PRODUCE_SECONDS * rate)
