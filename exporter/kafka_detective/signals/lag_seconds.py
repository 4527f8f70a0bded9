"""Lag in seconds from a partition's sampled (log-end offset, time) history.

The method (after kafka-lag-exporter): every cycle records the partition's log-end offset and the time it was
read. The message at the group's committed offset `c` was appended when the log-end offset passed `c`; that
moment is interpolated between the two recorded points bracketing `c`, and the lag in seconds is `now - that
moment`. A group whose committed offset reached the log-end offset has lag 0.

Accuracy: inside the recorded history the error is bounded by the spacing of the bracketing points (one
collection interval for recent offsets; coarser further back, see the table below), and is exact when the
produce rate is constant between them. When `c` is older than the oldest recorded point the time is
extrapolated from the rate over the whole table; the extrapolation is bounded (never more than
`MAX_EXTRAPOLATION` times the table's time span before its oldest point) and flagged, so dashboards can show
it as a lower-confidence estimate. With a single point there is no rate: the estimate is the age of that
point, a lower bound, also flagged.

The table keeps at most `size` points. Points where the offset did not move collapse into the first and last
point of the flat run (a flat run must keep its end, or a message produced after an idle period would be
dated to the start of the idle period). When full, every second point of the older half is dropped: recent
history keeps full resolution, old history thins out geometrically, and the covered time span keeps growing,
which is what lag in seconds of a long-stalled consumer needs. Amortised O(1) per update.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass

MAX_EXTRAPOLATION = 2.0


@dataclass(frozen=True, slots=True)
class LagSeconds:
    seconds: float
    extrapolated: bool


class OffsetTimeTable:
    __slots__ = ("_offsets", "_size", "_times")

    def __init__(self, size: int = 60) -> None:
        if size < 4:
            raise ValueError("size must be at least 4")
        self._size = size
        # Typed arrays: 16 bytes a point instead of ~80 for boxed ints and floats in lists, which matters at
        # tens of thousands of partitions with full tables.
        self._offsets = array("q")
        self._times = array("d")

    def __len__(self) -> int:
        return len(self._offsets)

    @property
    def points(self) -> list[tuple[int, float]]:
        return list(zip(self._offsets, self._times, strict=True))

    def add(self, offset: int, timestamp: float) -> None:
        offsets, times = self._offsets, self._times
        if offsets:
            if timestamp <= times[-1]:
                return
            if offset < offsets[-1]:
                # The log was truncated or the topic re-created: the history no longer describes it.
                del offsets[:]
                del times[:]
            elif offset == offsets[-1] and len(offsets) >= 2 and offsets[-2] == offset:
                times[-1] = timestamp  # extend the flat run instead of adding a point
                return
        offsets.append(offset)
        times.append(timestamp)
        if len(offsets) > self._size:
            self._thin()

    def _thin(self) -> None:
        half = len(self._offsets) // 2
        # Keep index 0 (the oldest point bounds the covered span) and every second point of the older half.
        keep = [i for i in range(half) if i % 2 == 0] + list(range(half, len(self._offsets)))
        self._offsets = array("q", [self._offsets[i] for i in keep])
        self._times = array("d", [self._times[i] for i in keep])

    def produce_rate(self, window_seconds: float) -> float | None:
        """Messages per second appended over roughly the last `window_seconds` of history."""
        if len(self._offsets) < 2:
            return None
        end_time = self._times[-1]
        index = max(0, bisect_right(self._times, end_time - window_seconds) - 1)
        span = end_time - self._times[index]
        if span <= 0:
            return None
        return (self._offsets[-1] - self._offsets[index]) / span

    def lag_seconds(self, committed: int, now: float) -> LagSeconds | None:
        """Age of the message at `committed` at time `now`; None when there is no history."""
        offsets, times = self._offsets, self._times
        if not offsets:
            return None
        if committed >= offsets[-1]:
            return LagSeconds(0.0, False)
        if committed >= offsets[0]:
            # Last point with offset <= committed: for a flat run that is its end, as it must be.
            i = bisect_right(offsets, committed) - 1
            o1, t1, o2, t2 = offsets[i], times[i], offsets[i + 1], times[i + 1]
            produced_at = t1 + (committed - o1) / (o2 - o1) * (t2 - t1)
            return LagSeconds(max(0.0, now - produced_at), False)
        if len(offsets) == 1 or offsets[-1] == offsets[0]:
            return LagSeconds(max(0.0, now - times[0]), True)
        span = times[-1] - times[0]
        rate = (offsets[-1] - offsets[0]) / span
        produced_at = times[0] - (offsets[0] - committed) / rate
        produced_at = max(produced_at, times[0] - MAX_EXTRAPOLATION * span)
        return LagSeconds(max(0.0, now - produced_at), True)
