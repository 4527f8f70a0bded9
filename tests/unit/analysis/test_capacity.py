"""The consumers' shown capacity: the highest rate a group committed at over half an hour within the last day.

A gradual slowdown leaves the consume rate of the last two hours flat while the consumers are not saturated, and
shows only once the daily climb of the producers outgrows the capacity that is left: against the two-hour baseline
that is producers writing more and consumers reading as much as before, which reads as a producer spike. The
consumers read as much as the producers write at yesterday's peak, though, so a lag that grows under a lower
produce rate today is a capacity they lost."""

from __future__ import annotations

import math

from kafka_detective.analysis import rootcause
from kafka_detective.analysis.capacity import ShownCapacity, shown_capacity
from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.signals.samples import GroupTopicSample
from synthetic import Synth

HOUR = 3600.0
DAY = 86400.0
STEP = 60.0
START = 1_760_000_000.0 - 1_760_000_000.0 % DAY     # midnight UTC


def _feed(cap: ShownCapacity, rate: float, minutes: int, t0: float = 0.0, c0: float = 0.0) -> tuple[float, float]:
    t, c = t0, c0
    for _ in range(minutes):
        t += STEP
        c += rate * STEP
        cap.update(t, c, c + 10.0, 10.0)
    return t, c


def test_the_capacity_is_a_sustained_rate_and_known_after_one_window() -> None:
    cap = ShownCapacity()
    t, c = _feed(cap, 100.0, 20)
    assert cap.value(t) is None                          # less than a window seen
    t, c = _feed(cap, 100.0, 30, t, c)
    assert math.isclose(cap.value(t) or 0.0, 100.0, rel_tol=1e-6)
    # five minutes at 3x raise the half-hour rate by a third of that, not to 300
    t, c = _feed(cap, 300.0, 5, t, c)
    t, c = _feed(cap, 100.0, 40, t, c)
    assert 100.0 < (cap.value(t) or 0.0) < 140.0, cap.value(t)


def test_the_capacity_forgets_after_a_day() -> None:
    cap = ShownCapacity()
    t, c = _feed(cap, 200.0, 60)
    t, c = _feed(cap, 50.0, 25 * 60, t, c)
    assert math.isclose(cap.value(t) or 0.0, 50.0, rel_tol=1e-6)


def test_only_what_there_was_to_read_counts_and_an_offset_reset_restarts() -> None:
    cap = ShownCapacity()
    t, c = _feed(cap, 100.0, 40)
    # the summed committed offset jumps by 10 million while the topic held 10 unread messages (a partition whose
    # committed offset appeared at once): no more than what there was to read counts
    t += STEP
    cap.update(t, c + 10_000_000, c + 10.0 + 100.0 * STEP, 10.0)
    c += 10_000_000
    for _ in range(40):
        t += STEP
        c += 100.0 * STEP
        cap.update(t, c, c - 10_000_000 + 10.0 + 100.0 * STEP, 10.0)
    assert (cap.value(t) or 0.0) < 110.0, cap.value(t)
    # committed offsets that go backwards (a reset to earliest) restart the window rather than read as a rate
    cap2 = ShownCapacity()
    t2, c2 = _feed(cap2, 100.0, 40)
    cap2.update(t2 + STEP, 0.0, c2 + 10.0, c2 + 10.0)
    assert math.isclose(cap2.value(t2 + STEP) or 0.0, 100.0, rel_tol=1e-6)


def _two_days(capacity_day2, produce_day2=None) -> list[GroupTopicSample]:
    """A topic whose producers follow a daily cycle (100 msg/s, 140 at noon, 60 at midnight), read by consumers
    that keep up on day 1; on day 2 their capacity and the produce rate follow the given profiles (hours since
    day 2's midnight)."""
    s = Synth(n=int(2 * DAY / STEP), step=STEP, onset=0, produce=100.0, capacity=250.0, noise=0.03, seed=11,
              start=START)

    def daily(i: int) -> float:
        return 100.0 + 40.0 * math.sin(2 * math.pi * ((i * STEP) % DAY - 6 * HOUR) / DAY)

    def produce(i: int) -> float:
        h = i * STEP / HOUR - 24.0
        return produce_day2(h, daily(i)) if produce_day2 is not None and h >= 0 else daily(i)

    def capacity(i: int) -> float:
        h = i * STEP / HOUR - 24.0
        return capacity_day2(h) if h >= 0 else 250.0

    s.produce_at = produce
    s.capacity_at = capacity
    return s.samples()


def _diagnoses(samples: list[GroupTopicSample], after: float) -> list[tuple[float, str]]:
    """(time since the first diagnosis after `after`, cause) of every cycle with a diagnosis."""
    engine = OnlineAnalytics()
    out: list[tuple[float, str]] = []
    first = None
    for x in samples:
        engine.observe([x])
        r = engine.result(x.cluster, x.group, x.topic)
        if x.timestamp >= START + after and r is not None and r.diagnosis is not None:
            first = x.timestamp if first is None else first
            out.append((x.timestamp - first, r.diagnosis.cause))
    return out


def test_a_gradual_slowdown_outgrown_by_the_daily_climb_is_a_slowdown() -> None:
    # day 2: the consumers lose capacity from 00:00 (250 msg/s) to 12:00 (90 msg/s); the producers' morning climb
    # outgrows it around 09:30 at ~130 msg/s, less than the 140 the consumers read at yesterday's noon. Without the
    # shown capacity the first hour reads `unknown` (the consumers read as much as through the last two hours).
    seen = _diagnoses(_two_days(lambda h: max(90.0, 250.0 - 160.0 * h / 12.0)), DAY)
    assert seen, "no diagnosis"
    first_hour = [cause for dt, cause in seen if dt <= HOUR]
    assert next(cause for dt, cause in seen if dt >= 15 * 60) == "consumer_slowdown", first_hour[:20]
    assert first_hour.count("consumer_slowdown") > 0.8 * len(first_hour), first_hour


def test_a_surge_beyond_anything_the_consumers_have_read_stays_a_producer_spike() -> None:
    # near miss: the consumers keep their 250 msg/s; at 09:00 the producers write 2.5x their rate (~320 msg/s), far
    # beyond the 140 msg/s the consumers ever had to read: the lag is the producers'
    seen = _diagnoses(_two_days(lambda h: 250.0, lambda h, base: base * (2.5 if 9 <= h < 10 else 1.0)), DAY)
    assert seen, "no diagnosis"
    first = [cause for dt, cause in seen if dt <= 15 * 60]
    assert first.count("producer_spike") > 0.8 * len(first), first


def test_offline_the_capacity_is_read_from_the_history_itself() -> None:
    # consumers that kept up with yesterday's daily peak (140 msg/s at noon) have shown about that much
    history = _two_days(lambda h: 250.0)
    assert 130.0 < (shown_capacity(history) or 0.0) < 150.0, shown_capacity(history)
    assert shown_capacity(history[:20]) is None and shown_capacity([]) is None


def test_the_diagnosis_reads_the_shown_capacity_it_is_given() -> None:
    # the same two-hour history: producers climbing 30 % while the consumers keep reading ~100 msg/s and a lag grows
    s = Synth(n=120, step=STEP, onset=80, produce=100.0, capacity=300.0, noise=0.02, seed=5)
    s.produce_at = lambda i: 100.0 if i < 80 else 130.0
    s.capacity_at = lambda i: 300.0 if i < 80 else 100.0
    history = s.samples()
    onset = history[80].timestamp
    spike = rootcause.diagnose(history, onset=onset, shown_capacity=None)
    known = rootcause.diagnose(history, onset=onset, shown_capacity=150.0)
    below = rootcause.diagnose(history, onset=onset, shown_capacity=105.0)
    assert known.cause == "consumer_slowdown", known.alternatives
    assert any("lost capacity" in e.note for e in known.evidence), [e.note for e in known.evidence]
    assert any("lost capacity, not a surge" in e.note for e in known.counter_evidence)
    # consumers that never read more than they do now: the producers' surge is the cause
    assert spike.cause == below.cause == "producer_spike", (spike.alternatives, below.alternatives)
