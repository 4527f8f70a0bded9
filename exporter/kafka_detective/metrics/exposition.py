"""Prometheus text exposition, rendered once per cycle and merged across clusters at scrape time.

Each cluster's loop renders its families into text blocks (one per metric family) at the end of its cycle and
swaps them in atomically. A scrape concatenates, family by family in catalogue order, the latest block of every
cluster under one HELP/TYPE header, so a family is never declared twice and a scrape does no work that grows
with Kafka — it never waits for a cycle either.

Sample lines are formatted here rather than through prometheus_client's `generate_latest`: at 100k series the
library's per-sample objects cost ~0.95 s per render on the reference machine, this formatter about a third of
that (see docs/benchmarks.md). Number formatting uses the client library's Go-compatible float formatting.
"""

from __future__ import annotations

import functools
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.utils import floatToGoString

from kafka_detective.metrics.catalogue import BY_NAME, CATALOGUE, MetricSpec

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Rendered by the HTTP layer at scrape time, not per cluster cycle.
SCRAPE_TIME_FAMILIES = frozenset({"kafka_detective_snapshot_age_seconds", "kafka_detective_data_age_seconds",
                                  "kafka_detective_build_info"})


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
    return floatToGoString(value)


@functools.lru_cache(maxsize=1 << 18)
def labelset(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    """The `a="1",b="2"` part of a sample line, shared by every family with these labels.

    Cached: partitions and groups rarely change between cycles, so steady-state rendering formats each label
    set once, not once per family per cycle.
    """
    return ",".join([f'{n}="{_escape_label(v)}"' for n, v in zip(names, values, strict=True)])


@dataclass
class Family:
    """Samples of one catalogue family for one cluster, with their label sets already rendered."""

    spec: MetricSpec
    samples: list[tuple[str, float]] = field(default_factory=list)

    def add(self, labels: tuple[str, ...] | str, value: float) -> None:
        """`labels`: the values in the spec's label order, or a `labelset` for those labels."""
        if not isinstance(labels, str):
            labels = labelset(self.spec.labels, labels)
        self.samples.append((labels, value))

    def render(self) -> str:
        name = self.spec.name
        return "".join([f"{name}{{{labels}}} {format_value(value)}\n" for labels, value in self.samples])


def family(name: str) -> Family:
    return Family(BY_NAME[name])


def header(spec: MetricSpec) -> str:
    kind = "gauge" if spec.type == "info" else spec.type
    return f"# HELP {spec.name} {_escape_help(spec.help)}\n# TYPE {spec.name} {kind}\n"


class Exposition:
    """Latest rendered page, merged across clusters; swapped whole, so a scrape only ever reads.

    A publish builds the merged chunks and their gzip form in the collection thread and swaps them in at once:
    scrapes never wait for, or do, any rendering or compression (Prometheus always asks for gzip, and compressing
    a 25 MB page takes ~0.25 s). The chunks are written one after another rather than joined, so the plain page
    costs no second copy.
    """

    def __init__(self) -> None:
        self._publish_lock = threading.Lock()  # serialises publishes of several cluster threads
        self._blocks: dict[str, dict[str, bytes]] = {}
        empty = self._merge({})
        # (chunks, gzip of the chunks), replaced as one object so a reader never sees halves of two pages.
        self._page: tuple[tuple[bytes, ...], bytes] = (empty, self._compress(empty))

    @staticmethod
    def _merge(blocks: dict[str, dict[str, bytes]]) -> tuple[bytes, ...]:
        parts: list[bytes] = []
        clusters = sorted(blocks)
        for spec in CATALOGUE:
            if spec.name in SCRAPE_TIME_FAMILIES:
                continue
            parts.append(header(spec).encode("utf-8"))
            parts.extend(blocks[c][spec.name] for c in clusters if spec.name in blocks[c])
        return tuple(parts)

    @staticmethod
    def _compress(chunks: tuple[bytes, ...]) -> bytes:
        compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip container
        return b"".join([*(compressor.compress(c) for c in chunks), compressor.flush()])

    def publish(self, cluster: str, families: Iterable[Family]) -> int:
        """Replace everything the cluster exposes; returns the number of series rendered."""
        rendered: dict[str, list[str]] = {}
        series = 0
        for fam in families:
            if fam.samples:
                rendered.setdefault(fam.spec.name, []).append(fam.render())
                series += len(fam.samples)
        cluster_blocks = {name: "".join(parts).encode("utf-8") for name, parts in rendered.items()}
        with self._publish_lock:
            blocks = {**self._blocks, cluster: cluster_blocks}
            chunks = self._merge(blocks)
            gzipped = self._compress(chunks)
            self._blocks = blocks
            self._page = (chunks, gzipped)
        return series

    def static_chunks(self) -> tuple[bytes, ...]:
        return self._page[0]

    def static_body(self) -> bytes:
        return b"".join(self._page[0])

    def static_body_gzip(self) -> bytes:
        return self._page[1]
