"""The causes named from per-partition and feedback evidence (partial_stall, retry_death_spiral), the episode
patterns (recurring, intermittent) and the per-partition feature of the samples: each with a case that must give
the cause and a near miss that must not."""

from __future__ import annotations

from dataclasses import replace

from kafka_detective.analysis import episodes
from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.analysis.rootcause import correlation, diagnose
from kafka_detective.signals.samples import FROZEN_SECONDS, GroupTopicSample, frozen_partitions
from synthetic import scenario

HOUR = 3600.0
DAY = 86400.0


def _with_frozen(samples: list[GroupTopicSample], start: int, frozen: int, partitions: int = 20,
                 ids: tuple[int, ...] = (3, 7)) -> list[GroupTopicSample]:
    return [replace(s, partitions=partitions, frozen_partitions=frozen if i >= start else 0,
                    frozen_partition_ids=ids if i >= start else ()) for i, s in enumerate(samples)]


def _partial_stall(frozen: int) -> list[GroupTopicSample]:
    # Two of twenty partitions stop: the group loses a tenth of its pace and the lag grows on them only.
    s = scenario("consumer_slowdown", noise=0.05)
    s.capacity_at = lambda i: 130 * (0.72 if i >= s.onset else 1.0)
    return _with_frozen(s.samples(), s.onset + 2, frozen)


def test_partial_stall_is_named_with_its_partitions() -> None:
    d = diagnose(_partial_stall(2))
    assert d.cause == "partial_stall", d.alternatives
    assert "partitions 3, 7" in d.evidence[0].note and "2 of 20" in d.evidence[0].note


def test_most_partitions_frozen_is_not_a_partial_stall() -> None:
    d = diagnose(_partial_stall(15))
    assert d.cause != "partial_stall", d.alternatives


def test_partitions_frozen_before_the_onset_too_are_no_evidence() -> None:
    samples = _with_frozen(_partial_stall(0), 0, 2)
    d = diagnose(samples)
    assert d.cause != "partial_stall", d.alternatives


def _retry_spiral(rise_per_sample: float) -> list[GroupTopicSample]:
    # Failures re-produced: the produce rate keeps rising while the consumers (slowed by time-outs) fall behind;
    # the extra produce stays below the consume rate (retries are a share of what is read).
    s = scenario("consumer_slowdown", noise=0.03)
    s.produce_at = lambda i: 100 * (1 + rise_per_sample * max(0, i - s.onset) + (0.15 if i >= s.onset else 0.0))
    s.capacity_at = lambda i: 130 * (0.6 if i >= s.onset else 1.0)
    return s.samples()


def test_produce_rising_with_the_lag_is_a_retry_death_spiral() -> None:
    d = diagnose(_retry_spiral(0.005))
    assert d.cause == "retry_death_spiral", d.alternatives
    assert any("rises with the lag" in e.note for e in d.evidence)


def test_a_step_spike_is_not_a_spiral() -> None:
    d = diagnose(scenario("producer_spike", noise=0.05).samples())
    assert d.cause == "producer_spike", d.alternatives
    assert "retry_death_spiral" not in [c for c, v in d.alternatives if v > 0.3]


def test_correlation() -> None:
    assert correlation([1, 2, 3, 4], [2, 4, 6, 8]) == 1.0
    assert correlation([1, 2, 3, 4], [5, 5, 5, 5]) == 0.0
    assert correlation([1, 2], [1, 2]) == 0.0


# --- per-partition feature ----------------------------------------------------------------------------------


def test_frozen_partitions_are_the_ones_far_behind_the_others() -> None:
    ages = {p: (10, 2.0) for p in range(10)}
    ages[4] = (900, FROZEN_SECONDS + 60)
    ages[8] = (500, FROZEN_SECONDS + 10)
    assert frozen_partitions(ages) == (2, (4, 8))
    # every partition that far behind: a whole-group problem, not a partial one
    assert frozen_partitions({p: (100, 2 * FROZEN_SECONDS) for p in range(6)}) == (0, ())
    # young enough: not frozen
    ages[4] = (900, FROZEN_SECONDS - 1)
    assert frozen_partitions(ages)[0] == 1
    assert frozen_partitions({}) == (0, ())


# --- episode patterns ---------------------------------------------------------------------------------------


def test_recurring_names_the_time_of_day_and_the_nights() -> None:
    night = 3 * HOUR
    past = [(d * DAY + night + 60 * d, d * DAY + night + 1800) for d in range(1, 4)]
    p = episodes.pattern(past, 4 * DAY + night, observed_since=0.0)
    assert p is not None and p.cause == "recurring"
    assert "daily at ~03:0" in p.note and "4 of the last" in p.note


def test_an_episode_at_another_time_of_day_is_not_recurring() -> None:
    past = [(1 * DAY + 3 * HOUR, 1 * DAY + 3.5 * HOUR)]
    p = episodes.pattern(past, 2 * DAY + 9 * HOUR, observed_since=0.0)
    assert p is None or p.cause != "recurring"


def test_intermittent_counts_short_episodes_with_calm_between() -> None:
    past = [(10 * HOUR, 10 * HOUR + 300), (13 * HOUR, 13 * HOUR + 420)]
    p = episodes.pattern(past, 16 * HOUR, observed_since=0.0)
    assert p is not None and p.cause == "intermittent"
    assert p.count == 3 and "3 episodes" in p.note and "typically 6 min" in p.note


def test_a_long_earlier_episode_is_not_intermittent() -> None:
    past = [(10 * HOUR, 12 * HOUR)]
    assert episodes.pattern(past, 15 * HOUR, observed_since=0.0) is None
    # a flapping episode (reopened minutes after it ended) is one problem, not a pattern
    assert episodes.pattern([(10 * HOUR, 10 * HOUR + 300)], 10 * HOUR + 900, observed_since=0.0) is None


# --- online: first signs and episodes -------------------------------------------------------------------------


def _feed(engine: OnlineAnalytics, samples: list[GroupTopicSample]) -> list[str | None]:
    causes = []
    for s in samples:
        engine.observe([s])
        r = engine.result(s.cluster, s.group, s.topic)
        causes.append(r.diagnosis.cause if r and r.diagnosis else None)
    return causes


def test_short_freezes_are_diagnosed_and_the_repeats_are_intermittent() -> None:
    # Freezes of 6 minutes every 3 hours: each is diagnosed, the first as a stall, the repeats as intermittent.
    step = 60.0
    n = int(10 * HOUR / step)
    freezes = [int(3 * HOUR / step), int(6 * HOUR / step), int(9 * HOUR / step)]
    s = scenario("consumer_stalled", n=n, step=step, onset=freezes[0], noise=0.03)
    s.stalled_at = lambda i: any(f <= i < f + 6 for f in freezes)
    causes = _feed(OnlineAnalytics(), s.samples())
    first = [c for c in causes[freezes[0]:freezes[0] + 12] if c]
    later = [c for c in causes[freezes[2]:freezes[2] + 12] if c]
    assert first and first[-1] == "consumer_stalled", causes[freezes[0]:freezes[0] + 12]
    assert later and later[-1] == "intermittent", causes[freezes[2]:freezes[2] + 12]


def test_a_quiet_day_gets_no_diagnosis_from_first_signs() -> None:
    step = 60.0
    s = scenario("none", n=int(24 * HOUR / step), step=step, noise=0.1, seed=5)
    causes = _feed(OnlineAnalytics(), s.samples())
    assert not any(causes), [c for c in causes if c]


# --- one vocabulary ---------------------------------------------------------------------------------------------


def test_the_vocabulary_is_the_same_everywhere() -> None:
    import re
    from pathlib import Path

    from kafka_detective.analysis.model import CAUSE_MEANING, ROOT_CAUSES
    from kafka_detective.analysis.rootcause import REMEDIATION, SUMMARY
    from kafka_detective_tools.patterns.model import ROOT_CAUSE_MEANING

    assert set(CAUSE_MEANING) == set(ROOT_CAUSES) == set(REMEDIATION) == set(SUMMARY)
    assert ROOT_CAUSE_MEANING is CAUSE_MEANING
    doc = (Path(__file__).parents[3] / "docs" / "architecture.md").read_text()
    section = doc.split("## Root-cause vocabulary", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `([a-z_]+)` \|", section, re.M) == list(ROOT_CAUSES)


def _one_cycle_bump(leader_change: bool) -> list[GroupTopicSample]:
    # A short election wave: the consumers pause for about a minute (one cycle of lag), then catch up.
    step = 60.0
    s = scenario("none", n=240, step=step, noise=0.03, seed=4)
    samples = s.samples()
    out = []
    for i, x in enumerate(samples):
        bump = 60 * 100 if i == 200 else 0
        lc = 3 if (leader_change and i >= 200) else 0
        out.append(replace(x, lag=x.lag + bump, committed_offset=x.committed_offset - bump, leader_changes_total=lc))
    return out


def test_a_one_cycle_bump_with_a_leader_change_is_a_leader_election() -> None:
    causes = _feed(OnlineAnalytics(), _one_cycle_bump(True))
    assert "leader_election" in causes[200:212], causes[200:212]


def test_the_same_bump_without_a_leader_change_is_no_problem() -> None:
    causes = _feed(OnlineAnalytics(), _one_cycle_bump(False))
    assert not any(causes), [c for c in causes if c]


def test_a_trace_gives_frozen_partitions_from_the_per_partition_offsets() -> None:
    from kafka_detective_tools.scenarios.trace import Series, Trace, samples_from_trace

    gt = {"cluster": "c", "consumergroup": "g", "topic": "t"}
    ts = [1_000.0 + 60 * k for k in range(20)]
    series = [Series("kafka_consumergroup_lag_sum", dict(gt), ts, [50.0] * len(ts))]
    for p in range(8):
        labels = {**gt, "partition": str(p)}
        # partition 5 stops at step 5; the others move every step
        offsets = [100.0 * min(k, 5) if p == 5 else 100.0 * k for k in range(len(ts))]
        series.append(Series("kafka_consumergroup_current_offset", labels, ts, offsets))
        series.append(Series("kafka_consumergroup_lag", labels, ts, [5.0] * len(ts)))
    samples = samples_from_trace(Trace(series=series), "c", "g", "t")
    assert samples[8].partitions == 8 and samples[8].frozen_partitions == 0   # 3 min: not yet frozen
    assert samples[12].frozen_partitions == 1 and samples[12].frozen_partition_ids == (5,)
    assert samples[0].frozen_partitions == 0


def _slow_partial_backlog(frozen: int) -> list[GroupTopicSample]:
    # Two of twenty partitions stop at sample 150: the backlog grows by a tenth of the production per second,
    # far from "material" for the first 20 minutes.
    s = scenario("none", n=240, step=60.0, noise=0.03, seed=4)
    out = []
    for i, x in enumerate(s.samples()):
        extra = int(10 * 60 * max(0, i - 150)) if i < 200 else 0
        fz = frozen if 155 <= i < 200 else 0
        out.append(replace(x, lag=x.lag + extra, committed_offset=x.committed_offset - extra, partitions=20,
                           frozen_partitions=fz, frozen_partition_ids=(3, 7) if fz else ()))
    return out


def test_frozen_partitions_open_the_problem_before_the_backlog_is_material() -> None:
    with_sign = _feed(OnlineAnalytics(), _slow_partial_backlog(2))
    without = _feed(OnlineAnalytics(), _slow_partial_backlog(0))
    assert with_sign[157:160] == ["partial_stall"] * 3, with_sign[150:165]
    first_without = next(i for i, c in enumerate(without) if c)
    assert first_without > 165, without[150:175]
