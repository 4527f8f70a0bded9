"""The consumers' shown capacity: the highest rate at which a group committed over half an hour within the last day.

Kept per subject by the online engine, beyond the two hours of history a diagnosis reads: a gradual slowdown leaves
the consume rate of those two hours flat while the consumers are not saturated, and shows only once the daily climb
of the producers outgrows the capacity that is left. `rootcause` compares the rates after the onset with it.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from kafka_detective.signals.samples import GroupTopicSample


class ShownCapacity:
    """The consumers' shown capacity: the highest rate at which they committed over `WINDOW` seconds within the
    last `HOURS` hours. A group whose lag grows while its producers write less than it has already read is slower
    than it was (its capacity fell), whatever its consume rate did against the last two hours (a gradual slowdown
    shows only once the daily peak outgrows it); a real producer surge writes more than the consumers have had to
    read. O(1) per cycle: the committed offset every `WINDOW / MARKS` seconds over one window, and the best rate of
    each hour."""

    __slots__ = ("hour_best", "hour_id", "marks")
    WINDOW = 1800.0     # long enough to span many commits of a group that commits in batches
    MARKS = 6
    HOURS = 24

    def __init__(self) -> None:
        self.marks = array("d")     # (t, committed, log end, lag) per mark, flat: 8 bytes a number
        self.hour_best = array("d", [0.0]) * self.HOURS
        self.hour_id = array("q", [-1]) * self.HOURS

    def update(self, t: float, committed: float, log_end: float, lag: float) -> None:
        marks = self.marks
        if marks:
            if t <= marks[-4]:
                return
            if committed < marks[-3] or log_end < marks[-2]:
                del marks[:]             # an offset reset or a recreated topic: the rates restart
        if not marks or t - marks[-4] >= self.WINDOW / self.MARKS:
            marks.extend((t, committed, log_end, lag))
        while len(marks) > 4 and t - marks[4] >= self.WINDOW:
            del marks[:4]
        t0, c0, e0, lag0 = marks[0], marks[1], marks[2], marks[3]
        if t - t0 < 0.8 * self.WINDOW:
            return
        # what was committed, never more than what there was to read (a skip to the end shows no capacity)
        rate = min(committed - c0, log_end - e0 + max(lag0, 0.0)) / (t - t0)
        hour = int(t // 3600)
        k = hour % self.HOURS
        if self.hour_id[k] != hour:
            self.hour_id[k], self.hour_best[k] = hour, 0.0
        self.hour_best[k] = max(self.hour_best[k], rate)

    def value(self, t: float) -> float | None:
        """The highest rate shown within the last `HOURS` hours (messages/s), or None before a first window."""
        hour = int(t // 3600)
        shown = [b for b, h in zip(self.hour_best, self.hour_id, strict=True) if h >= 0 and hour - h < self.HOURS]
        return max(shown) if shown else None


def shown_capacity(history: Sequence[GroupTopicSample]) -> float | None:
    """The shown capacity at the end of `history` (oldest sample first), for a diagnosis made offline."""
    capacity = ShownCapacity()
    for s in history:
        capacity.update(s.timestamp, s.committed_offset, s.log_end_offset, s.lag)
    return capacity.value(history[-1].timestamp) if history else None
