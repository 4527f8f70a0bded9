"""A small client of the Prometheus HTTP API (query, query_range) and PromQL selectors.

The exporter's warm start reads its own past series back through it; the investigation tools read a subject's
history through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kafka_detective.errors import UserError
from kafka_detective.kafka.redaction import redact_url

MAX_POINTS_PER_SERIES = 11000      # Prometheus refuses a query_range with more points than this per series

# One series of a query result, as Prometheus' JSON has it: {"metric": {label: value}, "value": [ts, "v"]} for
# an instant query, "values": [[ts, "v"], ...] for a range query.
Series = dict[str, Any]


def quote_label(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(**labels: str | None) -> str:
    parts = [f"{k}={quote_label(v)}" for k, v in labels.items() if v is not None]
    return "{" + ",".join(parts) + "}"


@dataclass
class Prometheus:
    """A tiny Prometheus HTTP API client (requests)."""

    url: str
    timeout: float = 30.0
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def shown_url(self) -> str:
        """The URL as messages may show it: credentials in it (user:password@, token=...) replaced."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"Prometheus(url={self.shown_url!r}, timeout={self.timeout!r})"

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        import requests

        base = self.url.rstrip("/")
        try:
            response = requests.get(base + path, params=params, timeout=self.timeout, headers=self.headers)
        except requests.RequestException as error:
            reason = type(error).__name__
            raise UserError(f"cannot reach Prometheus at {self.shown_url} ({reason})") from None
        try:
            body = response.json()
        except ValueError:
            raise UserError(f"Prometheus at {self.shown_url} answered HTTP {response.status_code} with no JSON "
                            f"(is this the Prometheus base URL?)") from None
        if response.status_code != 200 or body.get("status") != "success":
            raise UserError(f"Prometheus query failed ({body.get('errorType', response.status_code)}): "
                            f"{body.get('error', 'no error message')} -- query: {params.get('query')}")
        data: dict[str, Any] = body["data"]
        return data

    def query(self, promql: str, at: float | None = None) -> list[Series]:
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        result: list[Series] = self._get("/api/v1/query", params)["result"]
        return result

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        result: list[Series] = self._get("/api/v1/query_range", {
            "query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})["result"]
        return result


def series_points(series: Series) -> dict[float, float]:
    """Timestamp -> value of one series of a query_range result (NaN and infinities dropped)."""
    out: dict[float, float] = {}
    for ts, value in series.get("values") or []:
        v = float(value)
        if math.isfinite(v):
            out[round(float(ts), 3)] = v
    return out
