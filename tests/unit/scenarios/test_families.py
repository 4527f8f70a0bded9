"""Scenario families: a deterministic sampler, a pinned train/test split, every cause and confounders in both,
the simulator's new mechanics (weekly cycle, commit styles, partial stall, retry spiral, gaps, restarts), and
traces promtool accepts."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import replace

import pytest

from kafka_detective.analysis.model import ROOT_CAUSES
from kafka_detective_tools.scenarios import families, simulator
from kafka_detective_tools.scenarios.simulator import DAY, HOUR, MIN, Event, GroupSpec, Scenario, TopicSpec
from kafka_detective_tools.scenarios.trace import Series, load_trace, write_trace

PER_FAMILY = 3                     # scenarios per family and split sampled by the range tests (fast: no simulation)


def _samples(split: str) -> list[families.FamilyParams]:
    return families.plan(split, PER_FAMILY * len(families.FAMILIES))


def _within(value: float, ranges) -> bool:
    return any(lo <= value <= hi for lo, hi in ranges)


def test_sampler_is_deterministic_and_seeded_by_split_family_index():
    a = families.sample("test", "partial_stall", 7)
    assert a == families.sample("test", "partial_stall", 7)
    assert families.build(a) == families.build(families.sample("test", "partial_stall", 7))
    assert a != families.sample("test", "partial_stall", 8)
    assert a.seed != families.sample("train", "partial_stall", 7).seed
    assert a.name == "test-partial-stall-007"
    with pytest.raises(KeyError):
        families.sample("test", "no_such_family", 0)


def test_the_split_is_pinned():
    """The split was fixed before any tuning (docs/scenarios.md): changing it must be a visible decision."""
    assert families.SPLIT_FIXED_ON == "2026-12-02"
    train, test = families.SPLITS["train"], families.SPLITS["test"]
    assert (train.brokers, train.cluster_partitions, train.groups, train.rate) == (
        ((3, 6),), ((12, 300),), ((2, 40),), ((5.0, 5000.0),))
    assert (test.brokers, test.cluster_partitions, test.groups, test.rate) == (
        ((1, 2), (10, 30)), ((6, 11), (301, 5000)), ((1, 1), (41, 500)), ((1.0, 4.9), (5001.0, 100_000.0)))
    assert set(train.commit_styles) == {"per_message", "batched", "sawtooth"}
    assert set(test.commit_styles) == {"per_message", "batched", "sawtooth", "interval"}


@pytest.mark.parametrize("tuned_on", ["train", "validation"])
@pytest.mark.parametrize("dimension", ["brokers", "cluster_partitions", "groups", "rate"])
def test_test_ranges_lie_beyond_the_train_extremes(dimension, tuned_on):
    train_ranges = getattr(families.SPLITS[tuned_on], dimension)
    lo = min(r[0] for r in train_ranges)
    hi = max(r[1] for r in train_ranges)
    for a, b in getattr(families.SPLITS["test"], dimension):
        assert b < lo or a > hi, (dimension, (a, b), (lo, hi))


def test_test_split_is_harder_where_it_is_not_a_range():
    train, test = families.SPLITS["train"], families.SPLITS["test"]
    assert test.weekly[0] > train.weekly[1]
    assert train.missing_cpu == train.missing_disk == 0.0 < test.missing_cpu and test.missing_disk > 0.0
    assert test.noise[1] >= train.noise[1]


def test_validation_lies_between_train_and_test_where_it_is_not_a_range():
    train, validation, test = (families.SPLITS[s] for s in ("train", "validation", "test"))
    assert train.weekly[1] <= validation.weekly[0] < validation.weekly[1] <= test.weekly[0]
    assert train.missing_cpu < validation.missing_cpu < test.missing_cpu
    assert train.missing_disk < validation.missing_disk < test.missing_disk
    assert train.noise[1] < validation.noise[1] < test.noise[1]
    assert max(b for _, b in train.brokers) < min(a for a, _ in validation.brokers)
    assert max(b for _, b in validation.brokers) < min(a for a, b in test.brokers if a > 2)


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_sampled_parameters_respect_their_split(split):
    spec = families.SPLITS[split]
    seen_missing = set()
    for p in _samples(split):
        assert _within(p.brokers, spec.brokers), p
        assert _within(p.cluster_partitions, spec.cluster_partitions), p
        assert _within(p.groups_total, spec.groups), p
        assert _within(p.rate, spec.rate), p
        assert p.commit in spec.commit_styles
        assert spec.weekly[0] <= p.weekly <= spec.weekly[1] and spec.daily[0] <= p.daily <= spec.daily[1]
        assert sum(p.topic_partitions) <= p.cluster_partitions
        assert 1 <= p.topic_partitions[0] <= families.PARTITION_SERIES_CAP
        assert len(p.group_topics) == min(p.groups_total, families.DETAILED_GROUPS_MAX)
        seen_missing.update(p.missing)
        if p.family == "consumer_cpu_saturation":
            assert "cpu" not in p.missing
        if p.family == "disk_pressure":
            assert "disk" not in p.missing
    assert seen_missing == (set() if split == "train" else {"cpu", "disk"})


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_cause_and_quiet_days_in_both_splits(split):
    plan = families.plan(split, len(families.FAMILIES))
    assert [p.family for p in plan] == list(families.FAMILIES)
    causes = set()
    quiet = 0
    for p in plan:
        sc = families.build(p)
        quiet += sc.quiet
        causes.update(cause for _, _, cause, _ in sc.incidents)
        if sc.extra.get("split_at_breach"):
            causes.add(sc.extra["split_at_breach"])
    expected = (set(ROOT_CAUSES) - {"unknown"}) | set(families.NEW_CAUSES)
    assert expected <= causes, expected - causes
    assert quiet == 1


@pytest.mark.parametrize("split", ["train", "test"])
def test_confounders_in_every_scenario(split):
    for p in _samples(split)[: 2 * len(families.FAMILIES)]:
        sc = families.build(p)
        kinds = {e.kind for e in sc.events}
        assert {"deploy", "produce", "slow_partition"} <= kinds, (p.name, kinds)
        assert {"deploy", "seasonal_peak", "slow_partition"} <= set(sc.extra["confounders"]), p.name
        for onset, end, _, _ in sc.incidents:      # the seasonal peak never sits on an incident
            for e in sc.events:
                if e.kind == "produce" and e.params.get("factor", 0) <= 1.6 and p.family not in (
                        "producer_spike", "recurring"):
                    assert e.end <= onset - 30 * MIN or e.onset >= end, (p.name, e)


# --- the simulator's new mechanics (small clusters, a few hours: fast) --------------------------------------


def _small(**kw) -> Scenario:
    base = dict(name="small", description="d", duration=6 * HOUR, step=60.0,
                topics=[TopicSpec("t", 100.0, 8, 7 * DAY, 0.0)], groups=[GroupSpec("g", "t", 2.0)],
                subject=("g", "t"), brokers=(1, 2, 3, 4, 5), cluster_partitions=40, seed=5, partition_detail=True)
    base.update(kw)
    return Scenario(**base)


def _series(series: list[Series], name: str, **labels: str) -> Series:
    return next(s for s in series if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_partial_stall_freezes_only_the_named_partitions():
    frozen = [1, 5]
    sc = _small(events=[Event("partial_stall", 2 * HOUR, 3 * HOUR, "g", {"partitions": frozen})])
    series, _ = simulator.simulate(sc)
    t0, t1 = simulator.START + 2 * HOUR + 120, simulator.START + 3 * HOUR - 60
    for p in range(8):
        s = _series(series, "kafka_consumergroup_current_offset", partition=str(p))
        moved = s.at(t1) - s.at(t0)
        assert (moved == 0) == (p in frozen), (p, moved)
        assert all(b >= a for a, b in itertools.pairwise(s.values))          # never goes back
    lag = _series(series, "kafka_consumergroup_lag_sum")
    assert lag.at(t1) > 10 * max(lag.at(t0 - 3600), 1)
    assert lag.at(simulator.START + 6 * HOUR) < lag.at(t1) / 10             # caught up afterwards
    lag_s = _series(series, "kafka_consumergroup_max_lag_seconds")
    assert lag_s.at(t1) > 45 * 60                                           # the frozen partitions' oldest message


def test_retry_spiral_raises_the_produce_rate_with_the_lag():
    sc = _small(events=[Event("retry_spiral", 2 * HOUR, 4 * HOUR, "g",
                              {"fail": 0.2, "max_fail": 0.8, "lag_scale": 100.0 * 600, "factor": 0.45})])
    series, _ = simulator.simulate(sc)
    rate = _series(series, "kafka_topic_produce_rate_messages_per_second")
    before = rate.at(simulator.START + 2 * HOUR - 60)
    assert rate.at(simulator.START + 4 * HOUR - 60) > 1.4 * before
    lag = _series(series, "kafka_consumergroup_lag_sum")
    assert lag.at(simulator.START + 4 * HOUR - 60) > lag.at(simulator.START + 3 * HOUR) > lag.at(
        simulator.START + 2 * HOUR + 600)


def test_weekly_cycle_makes_weekends_quieter():
    sc = _small(duration=3 * DAY, start=simulator.START + 5 * DAY, weekly=0.5, partition_detail=False,
                topics=[TopicSpec("t", 100.0, 2, 7 * DAY, 0.0)])      # Saturday, Sunday, Monday
    series, _ = simulator.simulate(sc)
    rate = _series(series, "kafka_topic_produce_rate_messages_per_second")
    sat = [v for t, v in zip(rate.timestamps, rate.values, strict=True) if t < sc.start + DAY]
    mon = [v for t, v in zip(rate.timestamps, rate.values, strict=True) if t >= sc.start + 2 * DAY]
    assert sum(sat) / len(sat) < 0.6 * sum(mon) / len(mon)


def test_a_recurring_batch_is_as_large_on_weekend_nights():
    # The nights after a Thursday start fall on Friday, Saturday and Sunday; the weekly dip halves the weekend's
    # traffic but not the batch, which must exceed the consumers on every night it is labelled an incident.
    params = replace(families.sample("train", "recurring", 6), weekly=0.5, start_day=3, noise=0.0)
    series, truth = simulator.simulate(families.build(params))
    rate = _series(series, "kafka_topic_produce_rate_messages_per_second")
    during = [rate.at(inc.onset + (inc.end - inc.onset) / 2) for inc in truth.incidents]
    assert len(during) >= 3
    assert max(during) < 1.15 * min(during), during


@pytest.mark.parametrize("commit", ["per_message", "sawtooth", "interval"])
def test_commit_styles(commit):
    sc = _small(commit=commit, commit_batch=30_000.0, commit_interval=180.0, partition_detail=False,
                topics=[TopicSpec("t", 100.0, 1, 7 * DAY, 0.0)])
    series, _ = simulator.simulate(sc)
    committed = _series(series, "kafka_consumergroup_current_offset_sum").values[5:]
    lag = _series(series, "kafka_consumergroup_lag_sum").values[5:]
    unchanged = sum(1 for a, b in itertools.pairwise(committed) if a == b)
    if commit == "per_message":
        assert unchanged == 0 and max(lag) < 100 * 60
    elif commit == "sawtooth":                      # a commit every 30 000 messages (5 minutes at 100 msg/s)
        assert unchanged > 0.7 * len(committed) and max(lag) > 25_000
    else:                                           # a commit every 3 minutes: 2 of 3 samples unchanged
        assert 0.5 * len(committed) < unchanged < 0.8 * len(committed)


def test_gaps_restarts_and_missing_signals():
    sc = _small(gaps=[(2 * HOUR, 2 * HOUR + 10 * MIN)], restarts=[4 * HOUR], missing=frozenset({"cpu", "disk"}),
                events=[Event("deploy", HOUR, HOUR + 60, "g")])
    series, _ = simulator.simulate(sc)
    names = {s.name for s in series}
    assert simulator.CONSUMER_CPU_METRIC not in names and "kafka_broker_log_dir_usable_bytes" not in names
    reb = _series(series, "kafka_consumergroup_rebalances_total")
    start = sc.start
    assert not any(start + 2 * HOUR <= t < start + 2 * HOUR + 10 * MIN for t in reb.timestamps)
    assert reb.at(start + 4 * HOUR - 60) == 2 and reb.at(start + 5 * HOUR) == 0     # the exporter restarted
    offsets = _series(series, "kafka_topic_partition_current_offset", partition="0")
    assert offsets.at(start + 5 * HOUR) > offsets.at(start + 4 * HOUR - 60)       # Kafka's offsets did not


def test_family_traces_pass_promtool(tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required (apt-get install prometheus)"
    for p in (families.sample("test", "partial_stall", 0), families.sample("train", "quiet", 1)):
        sc = families.build(p)
        sc.duration = 3 * HOUR              # the first hours: gaps and restarts where this test can see them
        sc.gaps = [(HOUR, HOUR + 5 * MIN)]
        sc.restarts = [2 * HOUR]
        sc.events.append(Event("deploy", 30 * MIN, 31 * MIN, sc.subject[0]))
        series, _ = simulator.simulate(sc)
        path = tmp_path / f"{p.name}.om.gz"
        write_trace(path, series)
        plain = tmp_path / f"{p.name}.om"
        write_trace(plain, load_trace(path).series)            # the .gz round trip, then promtool on the text
        done = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(plain),
                               str(tmp_path / "d")], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]


def test_generate_writes_truth_with_material_alerts():
    p = families.sample("train", "consumer_down", 0)
    series, truth = simulator.simulate(families.shortened(p))
    families.expected_alerts(series, truth)
    inc = truth.incidents[0]
    assert inc.root_cause == "consumer_down" and "KafkaConsumerGroupEmpty" in inc.patterns
    # a consumer outage of >= 10 minutes is a material backlog on any topic: the lag alerts are expected
    assert "KafkaConsumerLagHigh" in inc.patterns and "KafkaConsumerLagSecondsHigh" in inc.patterns
    assert truth.extra["family"] == "consumer_down" and truth.extra["split"] == "train"
