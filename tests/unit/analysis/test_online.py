"""OnlineAnalytics: fills the analysis, diagnoses only lag problems, forgets stale subjects."""

from __future__ import annotations

from kafka_detective.analysis.model import GroupTopicAnalysis
from kafka_detective.analysis.online import CompactHistory, OnlineAnalytics
from kafka_detective.signals.samples import GroupTopicSample

T0 = 1_790_000_000.0


def sample(group: str, t: float, log_end: float, committed: float, **kw) -> GroupTopicSample:
    fields = dict(cluster="c", group=group, topic="t", timestamp=t, lag=int(log_end - committed),
                  log_end_offset=int(log_end), committed_offset=int(committed), lag_seconds=None, members=3,
                  state="Stable", rebalances_total=0, lost_messages_total=0, retention_seconds=86400.0,
                  leader_changes_total=0, under_replicated_partitions=0, offline_partitions=0)
    fields.update(kw)
    return GroupTopicSample(**fields)


def test_results_cover_every_subject_and_horizon():
    engine = OnlineAnalytics(horizons_seconds=(300, 900, 1800))
    ends = {"healthy": 0.0, "stuck": 0.0}
    committed = {"healthy": 0.0, "stuck": 0.0}
    peak = 0.0
    for k in range(240):
        t = T0 + 15 * k
        batch = []
        for g in ends:
            ends[g] += 100 * 15
            if g == "healthy" or k < 120:
                committed[g] = ends[g] - 50
            lag_s = 0.5 if g == "healthy" else max(0.5, 15.0 * (k - 120))
            batch.append(sample(g, t, ends[g], committed[g], lag_seconds=lag_s))
        engine.observe(batch)
        peak = max(peak, engine.result("c", "stuck", "t").anomaly_scores.get("lag", 0.0))
    results = {r.group: r for r in engine.results()}
    assert set(results) == {"healthy", "stuck"}
    for r in results.values():
        assert isinstance(r, GroupTopicAnalysis)
        assert set(r.predicted_lag) == {300, 900, 1800}
        assert all(r.predicted_lag_upper[h] >= r.predicted_lag[h] for h in r.predicted_lag)
        assert all(0.0 <= v <= 1.0 for v in r.anomaly_scores.values())
    healthy, stuck = results["healthy"], results["stuck"]
    assert healthy.predicted_lag[1800] < 5000
    assert stuck.predicted_lag[1800] > stuck.predicted_lag[300] > 100 * 15 * 100
    assert stuck.retention_breach_seconds is not None and stuck.retention_breach_seconds < 86400
    assert peak > 0.9
    assert healthy.diagnosis is None


def test_diagnosis_is_called_only_for_lag_problems(monkeypatch):
    calls = []

    def fake_diagnose(history, onset=None, shown_capacity=None):
        from kafka_detective.analysis.model import Diagnosis

        calls.append((history[-1].group, len(history), onset))
        return Diagnosis(cause="consumer_stalled", confidence=0.9, severity="warning", onset=onset)

    import kafka_detective.analysis.rootcause as rootcause

    monkeypatch.setattr(rootcause, "diagnose", fake_diagnose)
    engine = OnlineAnalytics(diagnose_every_seconds=60)
    end = {"ok": 0.0, "bad": 0.0}
    com = {"ok": 0.0, "bad": 0.0}
    for k in range(300):
        t = T0 + 15 * k
        batch = []
        for g in end:
            end[g] += 100 * 15
            if g == "ok" or k < 200:
                com[g] = end[g] - 20
            batch.append(sample(g, t, end[g], com[g]))
        engine.observe(batch)
    assert calls and all(g == "bad" for g, _, _ in calls)
    assert len(calls) <= (300 - 200) * 15 / 60 + 1          # at most once a minute
    bad = engine.result("c", "bad", "t")
    assert bad.diagnosis is not None and bad.diagnosis.cause == "consumer_stalled"
    assert engine.result("c", "ok", "t").diagnosis is None


def test_stale_subjects_are_dropped_and_forget_works():
    engine = OnlineAnalytics(stale_seconds=300)
    engine.observe([sample("gone", T0, 100, 50), sample("stays", T0, 100, 50)])
    for k in range(1, 60):
        engine.observe([sample("stays", T0 + 15 * k, 100 + k, 50 + k)])
    assert ("c", "gone", "t") not in engine.subjects()
    engine.forget([("c", "stays", "t")])
    assert len(engine) == 0 and engine.results() == []


def test_compact_history_round_trip_and_bound():
    h = CompactHistory(capacity=5, spacing=10)
    originals = [sample("g", T0 + 10 * i, 1000 + i, 900 + i, state="Weird" if i == 7 else "Stable",
                        lag_seconds=None if i % 2 else 1.5, disk_used_ratio=0.5) for i in range(9)]
    for s in originals:
        h.add(s)
    got = h.samples("c", "g", "t")
    assert got == originals[-5:]
