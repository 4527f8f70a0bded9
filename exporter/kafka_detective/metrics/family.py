"""The samples of one family for one cluster, and their text form.

Sample lines are formatted here rather than through prometheus_client's `generate_latest`: at 100k series the
library's per-sample objects cost ~0.95 s per render on the reference machine, this formatter about a third of
that (see docs/benchmarks.md). Number formatting uses the client library's Go-compatible float formatting.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from prometheus_client.utils import floatToGoString

from kafka_detective.metrics.spec import MetricSpec


def _escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if type(value) is int:
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text: str = floatToGoString(value)   # prometheus_client leaves it unannotated
    return text


# A hard cap only: `Exposition.publish` keeps the cache near the label sets in use (see `_trim_labelsets`).
@functools.lru_cache(maxsize=1 << 18)
def labelset(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    """The `a="1",b="2"` part of a sample line, shared by every family with these labels.

    Cached: partitions and groups rarely change between cycles, so steady-state rendering formats each label
    set once, not once per family per cycle (at 2,000 groups x 10,000 partitions, 98k calls for 53k label sets;
    the cache saves about a fifth of the render's CPU, bench/render.py).
    """
    return ",".join([f'{n}="{_escape_label(v)}"' for n, v in zip(names, values, strict=True)])


@dataclass
class Family:
    """Samples of one catalogue family for one cluster, with their label sets already rendered.

    Held as two parallel lists rather than (labels, value) pairs: `Exposition.publish` compares a family with the
    one it rendered last cycle, and two lists compare element by element in C, without a tuple per sample.
    """

    spec: MetricSpec
    labels: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def add(self, labels: tuple[str, ...] | str, value: float) -> None:
        """`labels`: the values in the spec's label order, or a `labelset` for those labels."""
        if not isinstance(labels, str):
            labels = labelset(self.spec.labels, labels)
        self.labels.append(labels)
        self.values.append(value)

    @property
    def samples(self) -> list[tuple[str, float]]:
        """(label set, value) pairs, in order."""
        return list(zip(self.labels, self.values, strict=True))

    def render(self) -> str:
        name = self.spec.name
        return "".join([f"{name}{{{labels}}} {format_value(value)}\n"
                        for labels, value in zip(self.labels, self.values, strict=True)])


def header(spec: MetricSpec) -> str:
    kind = "gauge" if spec.type == "info" else spec.type
    return f"# HELP {spec.name} {_escape_help(spec.help)}\n# TYPE {spec.name} {kind}\n"
