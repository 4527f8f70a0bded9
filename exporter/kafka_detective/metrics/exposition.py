"""Prometheus text exposition, rendered once per cycle and merged across clusters at scrape time.

Each cluster's loop renders its families into text blocks (one per metric family) at the end of its cycle and
swaps them in atomically. A scrape concatenates, family by family in catalogue order, the latest block of every
cluster under one HELP/TYPE header, so a family is never declared twice and a scrape does no work that grows
with Kafka — it never waits for a cycle either.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterable

from kafka_detective.metrics import self_metrics
from kafka_detective.metrics.catalogue import BY_NAME, CATALOGUE
from kafka_detective.metrics.family import Family, header, labelset

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Below this many cached label sets a cache is never worth clearing (a few hundred kB).
_MIN_LABELSETS = 1024
# Rendered by the HTTP layer at scrape time, not per cluster cycle.
SCRAPE_TIME_FAMILIES = frozenset(spec.name for spec in self_metrics.SCRAPE_TIME_SPECS)
# The per-topic sums that stand in for per-partition families at topic granularity (metrics/selection.py) are
# declared only when a cluster renders them, so the default page stays kafka_exporter's.
SAMPLED_ONLY_FAMILIES = frozenset(spec.name for spec in CATALOGUE if spec.replaces)


def family(name: str) -> Family:
    return Family(BY_NAME[name])


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
        # Size of labelset's cache once every cluster has rendered since the last trim (0: not measured yet).
        self._live_labelsets = 0
        self._published_since_trim: set[str] = set()
        # Called with the cluster's name after each publish, in the publishing thread (serving/published_page.py).
        self.listeners: list[Callable[[str], None]] = []

    @staticmethod
    def _merge(blocks: dict[str, dict[str, bytes]]) -> tuple[bytes, ...]:
        parts: list[bytes] = []
        clusters = sorted(blocks)
        for spec in CATALOGUE:
            if spec.name in SCRAPE_TIME_FAMILIES:
                continue
            if spec.name in SAMPLED_ONLY_FAMILIES and not any(spec.name in blocks[c] for c in clusters):
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
            self._trim_labelsets(cluster)
        for listener in self.listeners:
            listener(cluster)
        return series

    def _trim_labelsets(self, cluster: str) -> None:
        """Empty labelset's cache when it holds more dead label sets than live ones.

        A renamed or deleted group or topic leaves its label sets in the cache, and an LRU evicts nothing before it
        is full: under steady churn RSS climbed by ~0.16 MB a minute towards the cap (~135 MB, docs/reliability.md).
        Right after a clear, once every cluster has rendered, the cache holds exactly the live label sets; when it
        has grown to twice that, it is cleared again and the next render of each cluster formats afresh (one cold
        render, ~25% more render CPU, per doubling). A cluster that grows legitimately just sets a new baseline.
        """
        self._published_since_trim.add(cluster)
        size = labelset.cache_info().currsize
        if not self._live_labelsets:
            if self._published_since_trim >= self._blocks.keys():
                self._live_labelsets = size
        elif size > 2 * max(self._live_labelsets, _MIN_LABELSETS):
            labelset.cache_clear()
            self._live_labelsets = 0
            self._published_since_trim = set()

    def page(self) -> tuple[tuple[bytes, ...], bytes]:
        """The chunks and their gzip, of one and the same publish."""
        return self._page

    def static_chunks(self) -> tuple[bytes, ...]:
        return self._page[0]

    def static_body(self) -> bytes:
        return b"".join(self._page[0])

    def static_body_gzip(self) -> bytes:
        return self._page[1]
