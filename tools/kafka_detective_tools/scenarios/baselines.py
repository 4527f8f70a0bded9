"""Baseline lag forecasters the evaluation compares the rate model against (pure Python).

* `LeastSquaresLine`: ordinary least squares of lag against time over a sliding window, extrapolated to the
  horizon — exactly what PromQL `predict_linear(kafka_consumergroup_lag_sum[window], horizon)` does.
* `RegressionWithR2`: the brief's predictor — a linear regression over the recent history with R² as its
  confidence; here a prediction is trusted only when R² >= `min_r2`, otherwise it falls back to the last value.

Both keep running sums over a bounded window, so an update is O(1) amortised. Predictions are floored at zero
(lag is never negative), which only helps the baselines.
"""

from __future__ import annotations

from collections import deque


class LeastSquaresLine:
    __slots__ = ("n", "origin", "points", "st", "stt", "sty", "sy", "syy", "window")

    def __init__(self, window_seconds: float = 3600.0):
        self.window = window_seconds
        self.points: deque[tuple[float, float]] = deque()
        self.origin: float | None = None
        self.n = 0
        self.st = self.sy = self.stt = self.sty = self.syy = 0.0

    def _add(self, x: float, y: float, sign: float) -> None:
        self.n += int(sign)
        self.st += sign * x
        self.sy += sign * y
        self.stt += sign * x * x
        self.sty += sign * x * y
        self.syy += sign * y * y

    def update(self, t: float, y: float) -> None:
        if self.origin is None:
            self.origin = t
        x = t - self.origin
        self.points.append((x, y))
        self._add(x, y, 1.0)
        while self.points and self.points[0][0] < x - self.window:
            ox, oy = self.points.popleft()
            self._add(ox, oy, -1.0)
        if self.n and self.n % 5000 == 0:          # refresh sums now and then against rounding drift
            self.n = 0
            self.st = self.sy = self.stt = self.sty = self.syy = 0.0
            for px, py in self.points:
                self._add(px, py, 1.0)

    def fit(self) -> tuple[float, float, float] | None:
        """(slope, intercept at the last time, R²) or None with fewer than 2 points."""
        n = self.n
        if n < 2 or not self.points:
            return None
        mean_t = self.st / n
        mean_y = self.sy / n
        var_t = self.stt / n - mean_t * mean_t
        if var_t <= 0:
            return None
        cov = self.sty / n - mean_t * mean_y
        slope = cov / var_t
        var_y = self.syy / n - mean_y * mean_y
        r2 = (cov * cov) / (var_t * var_y) if var_y > 1e-12 else 1.0
        last_x = self.points[-1][0]
        value_at_last = mean_y + slope * (last_x - mean_t)
        return slope, value_at_last, max(0.0, min(1.0, r2))

    def predict(self, horizon: float) -> float | None:
        fit = self.fit()
        if fit is None:
            return self.points[-1][1] if self.points else None
        slope, at_last, _ = fit
        return max(0.0, at_last + slope * horizon)


class RegressionWithR2(LeastSquaresLine):
    __slots__ = ("min_r2",)

    def __init__(self, window_seconds: float = 3600.0, min_r2: float = 0.5):
        super().__init__(window_seconds)
        self.min_r2 = min_r2

    def predict(self, horizon: float) -> float | None:
        fit = self.fit()
        if fit is None:
            return self.points[-1][1] if self.points else None
        slope, at_last, r2 = fit
        if r2 < self.min_r2:
            return max(0.0, self.points[-1][1])
        return max(0.0, at_last + slope * horizon)

    def r2(self) -> float | None:
        fit = self.fit()
        return fit[2] if fit else None
