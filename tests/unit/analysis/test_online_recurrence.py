"""A nightly batch is a `recurring` problem from its second night on, even once the daily profiles of the rates and
the lag have learnt it as normal: the recurrence itself opens the problem, and an episode explained for a few
minutes (a burst, then a long drain with nothing left to explain) counts as an explained episode."""

from __future__ import annotations

from kafka_detective.analysis import episodes
from kafka_detective.analysis.online import OnlineAnalytics, _episode_cause
from kafka_detective.signals.samples import GroupTopicSample
from synthetic import Synth

HOUR = 3600.0
DAY = 86400.0
STEP = 60.0
RATE = 100.0
START = 1_760_000_000.0 - 1_760_000_000.0 % DAY     # midnight UTC


def _nights(factors: list[float], minutes: float) -> list[GroupTopicSample]:
    """A group at 100 msg/s with consumers 30 % faster; on night d (1, 2, ...) producers write factors[d-1] times
    their rate from 03:00 for `minutes`."""
    s = Synth(n=int((len(factors) + 1) * DAY / STEP), step=STEP, onset=0, produce=RATE, capacity=1.3 * RATE,
              noise=0.05, seed=3, start=START)

    def produce(i: int) -> float:
        for d, factor in enumerate(factors, 1):
            if 0 <= i * STEP - (d * DAY + 3 * HOUR) < minutes * 60:
                return RATE * factor
        return RATE

    s.produce_at = produce
    return s.samples()


def _diagnoses_by_night(samples: list[GroupTopicSample]) -> dict[int, list[str]]:
    engine = OnlineAnalytics()
    out: dict[int, list[str]] = {}
    for x in samples:
        engine.observe([x])
        r = engine.result(x.cluster, x.group, x.topic)
        if r is not None and r.diagnosis is not None:
            out.setdefault(int((x.timestamp - START) // DAY), []).append(r.diagnosis.cause)
    return out


def test_a_nightly_burst_is_recurring_from_the_second_night_though_its_drain_is_unexplained() -> None:
    # 15x for two minutes: a producer spike at first, then an hour of drain where no cause explains anything new
    # (`unknown` is diagnosed most); the night was explained all the same, so the next night recurs.
    by_night = _diagnoses_by_night(_nights([15.0] * 4, 2))
    assert by_night[1][0] == "producer_spike", by_night[1][:5]
    for night in (2, 3, 4):
        assert by_night[night][0] == "recurring", (night, by_night[night][:5])


def test_a_backlog_at_the_hour_of_earlier_episodes_opens_the_problem() -> None:
    # Three nights of a clear batch, then a mild one: its backlog becomes material (over 2 minutes of production)
    # but grows too slowly for the growth test and is no anomaly against the learnt 03:00 profile.
    by_night = _diagnoses_by_night(_nights([2.0, 2.0, 2.0, 1.45], 40))
    assert by_night.get(4) and set(by_night[4]) == {"recurring"}, by_night.get(4)


def test_a_peak_the_consumers_absorb_at_that_hour_opens_nothing() -> None:
    # the same hour, a peak under the consumers' capacity: no material backlog, no problem
    by_night = _diagnoses_by_night(_nights([2.0, 2.0, 2.0, 1.2], 40))
    assert not by_night.get(4), by_night.get(4)


def test_recurring_is_asked_at_any_time_with_the_earlier_episodes() -> None:
    past = [(d * DAY + 3 * HOUR, d * DAY + 3.5 * HOUR) for d in range(1, 4)]
    p = episodes.recurring(past, 4 * DAY + 3.2 * HOUR, observed_since=0.0)
    assert p is not None and p.count == 4 and "daily at ~03:12 UTC, 4 of the last 5 days" in p.note, p
    assert episodes.recurring(past, 4 * DAY + 5 * HOUR, observed_since=0.0) is None     # another time of day
    assert episodes.recurring(past[:1], 4 * DAY + 3 * HOUR, observed_since=0.0) is None  # 1 night of 3: no habit
    # the first day observed has no earlier day to recur on
    assert episodes.recurring([], 0.5 * DAY, observed_since=0.0) is None


def test_an_episode_is_remembered_by_the_cause_that_explained_it() -> None:
    assert _episode_cause({"unknown": 50, "producer_spike": 5}) == "producer_spike"
    assert _episode_cause({"unknown": 3}) == "unknown"
    assert _episode_cause({"consumer_stalled": 2, "consumer_slowdown": 4, "unknown": 9}) == "consumer_slowdown"
