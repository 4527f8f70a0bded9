"""Prometheus text exposition, rendered once per cycle and merged across clusters at scrape time.

Each cluster's loop renders its families into text blocks (one per metric family) at the end of its cycle and
swaps them in atomically. A scrape concatenates, family by family in catalogue order, the latest block of every
cluster under one HELP/TYPE header, so a family is never declared twice and a scrape does no work that grows
with Kafka — it never waits for a cycle either.

Most families hold the same samples from one cycle to the next (leaders, replicas, ISR, committed offsets of
idle groups, group states...), so a publish re-renders only the families that changed. A family's text is a
function of its name, its label sets and its values (with their types: an int and an equal float may print
differently); the text of the previous cycle is reused exactly when all three are equal, so the page is always
byte-for-byte the one a full render gives (`Exposition(reuse=False)` renders everything, for the tests that
prove it). Likewise the gzip form is made of one deflate segment per family, each compressed on its own (a
fresh compressor, flushed to a byte boundary), so an unchanged family's segment is reused as it was.
"""

from __future__ import annotations

import struct
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
HEADERS = {spec.name: header(spec).encode("utf-8") for spec in CATALOGUE}
# gzip member header (RFC 1952): deflate, no flags, no modification time, fastest compression, Unix; what zlib
# itself writes for level 1. The page is its header, one deflate segment per family, an empty final block
# (the bytes a fresh raw compressor writes when finished at once) and the CRC-32 and length of the text.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\x03"
FINAL_BLOCK = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS).flush()


def family(name: str) -> Family:
    return Family(BY_NAME[name])


class _Rendered:
    """One family's text as rendered, and what it was rendered from (copies: a builder may reuse its lists)."""

    __slots__ = ("labels", "text", "types", "values")

    def __init__(self, fam: Family) -> None:
        self.labels = list(fam.labels)
        self.values = list(fam.values)
        self.types: list[type] | None = None   # made when a comparison first finds equal values
        self.text = fam.render().encode("utf-8")

    def renders(self, fam: Family) -> bool:
        """Whether `fam` renders to this text: same label sets, equal values of the same types.

        Equal values of one type print the same (`format_value` depends on nothing else; -0.0 and 0.0 both print
        0, and a NaN equals only itself, so it never matches a new one). The name is the caller's key.
        """
        if fam.values != self.values or fam.labels != self.labels:
            return False
        if self.types is None:
            self.types = list(map(type, self.values))
        return list(map(type, fam.values)) == self.types


def _deflate(chunks: tuple[bytes, ...]) -> bytes:
    """A raw deflate segment that decodes to the chunks and depends on nothing before it."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    return b"".join([*(compressor.compress(c) for c in chunks), compressor.flush(zlib.Z_SYNC_FLUSH)])


class Exposition:
    """Latest rendered page, merged across clusters; swapped whole, so a scrape only ever reads.

    A publish builds the merged chunks and their gzip form in the collection thread and swaps them in at once:
    scrapes never wait for, or do, any rendering or compression (Prometheus always asks for gzip, and compressing
    a 25 MB page takes ~0.25 s). The chunks are written one after another rather than joined, so the plain page
    costs no second copy.

    `reuse=False` renders and compresses every family afresh each publish: the reference the reuse is tested
    against.
    """

    def __init__(self, reuse: bool = True) -> None:
        self._publish_lock = threading.Lock()  # serialises publishes of several cluster threads
        self._reuse = reuse
        self._blocks: dict[str, dict[str, bytes]] = {}
        # cluster -> (family name, its rank among the cluster's families of that name) -> the family as rendered
        self._rendered: dict[str, dict[tuple[str, int], _Rendered]] = {}
        # family name -> (its chunks on the page, their deflate segment), from the last publish
        self._segments: dict[str, tuple[tuple[bytes, ...], bytes]] = {}
        # (chunks, gzip of the chunks), replaced as one object so a reader never sees halves of two pages.
        self._page: tuple[tuple[bytes, ...], bytes] = self._assemble({})
        # Size of labelset's cache once every cluster has rendered since the last trim (0: not measured yet).
        self._live_labelsets = 0
        self._published_since_trim: set[str] = set()
        # Called with the cluster's name after each publish, in the publishing thread (serving/published_page.py).
        self.listeners: list[Callable[[str], None]] = []

    @staticmethod
    def _merge(blocks: dict[str, dict[str, bytes]]) -> list[tuple[str, tuple[bytes, ...]]]:
        """The page, family by family in catalogue order: each family's header and every cluster's block."""
        segments: list[tuple[str, tuple[bytes, ...]]] = []
        clusters = sorted(blocks)
        for spec in CATALOGUE:
            if spec.name in SCRAPE_TIME_FAMILIES:
                continue
            if spec.name in SAMPLED_ONLY_FAMILIES and not any(spec.name in blocks[c] for c in clusters):
                continue
            segments.append((spec.name, (HEADERS[spec.name],
                                         *(blocks[c][spec.name] for c in clusters if spec.name in blocks[c]))))
        return segments

    def _assemble(self, blocks: dict[str, dict[str, bytes]]) -> tuple[tuple[bytes, ...], bytes]:
        """The page's chunks and its gzip form; a family's deflate segment is reused while its chunks are equal."""
        chunks: list[bytes] = []
        gzipped = [GZIP_HEADER]
        previous = self._segments if self._reuse else {}
        segments: dict[str, tuple[tuple[bytes, ...], bytes]] = {}
        crc = 0
        for name, parts in self._merge(blocks):
            kept = previous.get(name)
            # Equal chunks deflate to equal bytes; usually they are the very objects of the last publish.
            deflated = kept[1] if kept is not None and kept[0] == parts else _deflate(parts)
            segments[name] = (parts, deflated)
            gzipped.append(deflated)
            for chunk in parts:
                crc = zlib.crc32(chunk, crc)
            chunks.extend(parts)
        size = sum(len(c) for c in chunks)
        gzipped += [FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF)]
        self._segments = segments
        return tuple(chunks), b"".join(gzipped)

    def publish(self, cluster: str, families: Iterable[Family]) -> int:
        """Replace everything the cluster exposes; returns the number of series rendered."""
        previous = self._rendered.get(cluster, {}) if self._reuse else {}
        rendered: dict[tuple[str, int], _Rendered] = {}
        texts: dict[str, list[bytes]] = {}
        series = 0
        for fam in families:
            if fam.values:
                same_name = texts.setdefault(fam.spec.name, [])
                key = (fam.spec.name, len(same_name))
                kept = previous.get(key)
                if kept is None or not kept.renders(fam):
                    kept = _Rendered(fam)
                rendered[key] = kept
                same_name.append(kept.text)
                series += len(fam.values)
        # One family of a name per cluster is the rule: its block is the very object kept, so the segment
        # comparison in `_assemble` finds it identical.
        cluster_blocks = {name: parts[0] if len(parts) == 1 else b"".join(parts) for name, parts in texts.items()}
        with self._publish_lock:
            blocks = {**self._blocks, cluster: cluster_blocks}
            page = self._assemble(blocks)
            self._blocks = blocks
            # Only what this publish rendered is kept: a family that is gone is forgotten with its text.
            self._rendered[cluster] = rendered if self._reuse else {}
            self._page = page
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
