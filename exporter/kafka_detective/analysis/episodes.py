"""A subject's past lag-problem episodes, and the two causes only a history of episodes can name.

The online engine keeps, per group/topic, a compact list of its past episodes (onset, end; a few dozen floats)
and asks `pattern(...)` when a new episode is diagnosed:

* `recurring` — earlier episodes started at the same time of day on other days ("daily at ~03:00, 3 of the
  last 4 nights"): a nightly batch, a cron job, a scheduled replay. The cause of each single night may look like
  a producer spike; the recurrence is what the operator needs to know.
* `intermittent` — several short episodes over the last hours, separated by calm ("4 episodes in the last
  12 h, typically 6 min"): a consumer that freezes now and then (GC, a lock, a flaky dependency) and recovers
  before anyone looks — the ghost.

Pure Python, stdlib only; O(number of kept episodes) per call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class EpisodeRules:
    """The named thresholds of both patterns, in one place."""

    recur_window_days: int = 7            # look back this many days for the same time of day
    recur_tolerance_seconds: float = 2700.0   # onsets within +-45 min of the same time of day match
    recur_min_gap_seconds: float = 72000.0   # an earlier match must be at least 20 h before (another day)
    recur_min_matches: int = 1            # earlier days with an episode at that time (the 2nd night counts)
    recur_min_share: float = 0.5          # ... and at least half of the days observed
    intermittent_window_seconds: float = 12 * 3600.0
    intermittent_max_length_seconds: float = 1800.0   # each earlier episode at most 30 min long
    intermittent_min_gap_seconds: float = 1800.0      # separated by at least 30 min of calm
    intermittent_min_episodes: int = 1    # earlier short episodes in the window (the 2nd episode counts)
    keep: int = 32                         # episodes kept per subject


RULES = EpisodeRules()


@dataclass(frozen=True, slots=True)
class Pattern:
    cause: str          # "recurring" | "intermittent"
    note: str           # the sentence shown with the diagnosis
    count: int          # episodes that make the pattern, the current one included
    typical_seconds: float   # typical length of the earlier episodes


def _time_of_day(t: float) -> float:
    return t % DAY


def _circular_gap(a: float, b: float) -> float:
    d = abs(_time_of_day(a) - _time_of_day(b))
    return min(d, DAY - d)


def _hhmm(t: float) -> str:
    tm = time.gmtime(t)
    return f"{tm.tm_hour:02d}:{tm.tm_min:02d}"


def recurring(episodes: Sequence[tuple[float, float]], onset: float, observed_since: float,
              rules: EpisodeRules = RULES) -> Pattern | None:
    """The daily recurrence of an episode starting at `onset`: earlier `episodes` [(onset, end)] (oldest first)
    that started at the same time of day on other days, on at least `recur_min_share` of the days observed since
    `observed_since`; None otherwise. The online engine also asks it before any other evidence: a backlog at the
    time of day of earlier episodes is the recurrence starting again, even once the daily profiles of the rates
    and the lag have learnt the batch as normal."""
    days_back = min(rules.recur_window_days, int((onset - observed_since + rules.recur_tolerance_seconds) // DAY))
    if days_back < 1:
        return None
    matched: set[int] = set()          # days ago
    lengths: list[float] = []
    for a, b in episodes:
        if b > onset or onset - a < rules.recur_min_gap_seconds \
                or onset - a > days_back * DAY + rules.recur_tolerance_seconds:
            continue
        if _circular_gap(a, onset) <= rules.recur_tolerance_seconds:
            matched.add(round((onset - a) / DAY))
            lengths.append(b - a)
    if len(matched) < rules.recur_min_matches or len(matched) / days_back < rules.recur_min_share:
        return None
    typical = median(lengths)
    nights = len(matched) + 1
    return Pattern("recurring", f"daily at ~{_hhmm(onset)} UTC, {nights} of the last {days_back + 1} days "
                   f"(typically {typical / 60:.0f} min)", nights, typical)


def pattern(episodes: Sequence[tuple[float, float]], onset: float, observed_since: float,
            rules: EpisodeRules = RULES) -> Pattern | None:
    """The recurrence of an episode starting at `onset`, given the earlier `episodes` [(onset, end)] of the same
    subject (oldest first, the current one excluded) and the time the subject was first observed. Recurring wins
    over intermittent (a daily pattern also repeats); None when neither applies."""
    daily = recurring(episodes, onset, observed_since, rules)
    if daily is not None:
        return daily
    earlier = [(a, b) for a, b in episodes if b <= onset]
    # intermittent: short episodes over the last hours, separated by calm
    recent = [(a, b) for a, b in earlier if onset - a <= rules.intermittent_window_seconds]
    short = [(a, b) for a, b in recent if b - a <= rules.intermittent_max_length_seconds]
    if recent and len(short) == len(recent) and len(short) >= rules.intermittent_min_episodes:
        ends = [b for _, b in short]
        starts = [a for a, _ in short[1:]] + [onset]
        if all(s - e >= rules.intermittent_min_gap_seconds for e, s in zip(ends, starts, strict=True)):
            typical = median([b - a for a, b in short])
            hours = (onset - short[0][0]) / 3600.0
            return Pattern("intermittent", f"{len(short) + 1} episodes in the last {max(1.0, hours):.0f} h, "
                           f"typically {max(1.0, typical / 60):.0f} min each, calm in between",
                           len(short) + 1, typical)
    return None
