"""Trace I/O: round trip, promtool acceptance, malformed input, samples from a trace."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kafka_detective.errors import UserError
from kafka_detective_tools.scenarios.trace import (
    Incident,
    Series,
    Truth,
    load_trace,
    load_truth,
    samples_from_trace,
    write_trace,
    write_truth,
)

T0 = 1_790_000_000.0
GT = {"cluster": "c", "consumergroup": "g", "topic": "t"}


def small_trace() -> list[Series]:
    ts = [T0 + 30 * i for i in range(5)]
    return [
        Series("kafka_consumergroup_lag_sum", dict(GT), ts, [5, 7, 9, 11, 13]),
        Series("kafka_consumergroup_current_offset_sum", dict(GT), ts, [100, 110, 120, 130, 140]),
        Series("kafka_consumergroup_max_lag_seconds", dict(GT), ts, [1.5, 2.0, 2.5, 3.0, 3.5]),
        Series("kafka_consumergroup_rebalances_total", {"cluster": "c", "consumergroup": "g"}, ts, [0, 0, 1, 1, 2]),
        Series("kafka_consumergroup_members", {"cluster": "c", "consumergroup": "g"}, ts, [3, 3, 2, 3, 3]),
        Series("kafka_consumergroup_state", {"cluster": "c", "consumergroup": "g", "state": "Stable"}, ts,
               [1, 1, 0, 1, 1]),
        Series("kafka_consumergroup_state", {"cluster": "c", "consumergroup": "g", "state": "PreparingRebalance"},
               ts, [0, 0, 1, 0, 0]),
        Series("kafka_topic_retention_seconds", {"cluster": "c", "topic": "t"}, ts[:1], [86400]),
        *[Series("kafka_topic_partition_current_offset", {"cluster": "c", "topic": "t", "partition": str(p)}, ts,
                 [50 + 10 * i + p for i in range(5)]) for p in range(2)],
        Series("kafka_topic_partition_leader_changes_total", {"cluster": "c", "topic": "t", "partition": "0"}, ts,
               [0, 1, 1, 1, 2]),
        Series("kafka_consumergroup_info", {"cluster": "c", "consumergroup": "g", "protocol": 'we"ird\\x'}, ts[:1],
               [1]),
    ]


def test_round_trip(tmp_path):
    path = tmp_path / "t.om"
    series = small_trace()
    write_trace(path, series)
    text = path.read_text()
    assert text.endswith("# EOF\n")
    assert text.count("# TYPE kafka_consumergroup_state gauge") == 1
    assert "# TYPE kafka_consumergroup_rebalances counter" in text
    assert 'kafka_consumergroup_lag_sum{cluster="c",consumergroup="g",topic="t"} 5 1790000000.000' in text
    trace = load_trace(path)
    assert {s.key() for s in trace.series} == {s.key() for s in series}
    for s in series:
        got = next(x for x in trace.series if x.key() == s.key())
        assert got.timestamps == s.timestamps and got.values == [float(v) for v in s.values]
    assert trace.subjects() == [("c", "g", "t")]
    assert len(trace.select("kafka_consumergroup_state", cluster="c")) == 2


def test_a_compressed_trace_holds_no_write_time_so_one_seed_gives_the_same_bytes(tmp_path):
    path = tmp_path / "t.om.gz"
    write_trace(path, small_trace())
    header = path.read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b"                       # gzip (RFC 1952)
    assert int.from_bytes(header[4:8], "little") == 0      # MTIME: no time stamp
    assert load_trace(path).series == load_trace(_plain_copy(path, tmp_path)).series


def _plain_copy(path, tmp_path):
    import gzip

    plain = tmp_path / "t.om"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    return plain


def test_samples_from_trace(tmp_path):
    path = tmp_path / "t.om"
    write_trace(path, small_trace())
    samples = samples_from_trace(load_trace(path), "c", "g", "t")
    assert len(samples) == 5
    s = samples[2]
    assert (s.lag, s.committed_offset, s.log_end_offset) == (9, 120, 50 + 20 + 50 + 20 + 1)
    assert s.state == "PreparingRebalance" and s.members == 2 and s.rebalances_total == 1
    assert s.lag_seconds == 2.5 and s.retention_seconds == 86400 and s.leader_changes_total == 1
    assert samples[-1].rebalances_total == 2
    with pytest.raises(UserError, match="no kafka_consumergroup_lag_sum"):
        samples_from_trace(load_trace(path), "c", "other", "t")


def test_a_broker_that_left_the_metadata_stops_counting_in_the_leadership_skew(tmp_path):
    # Three brokers lead 4 partitions each; broker 3 fails after the third minute and the two survivors lead 6 each.
    # Its series stops: like Prometheus, the replay keeps its last value for the lookback (5 minutes), then drops it.
    ts = [T0 + 60 * i for i in range(12)]
    lead = {"cluster": "c"}
    series = [
        Series("kafka_consumergroup_lag_sum", dict(GT), ts, [0] * 12),
        Series("kafka_brokers", dict(lead), ts, [3, 3, 3] + [2] * 9),
        Series("kafka_broker_leader_partitions", {**lead, "broker_id": "1"}, ts, [4, 4, 4] + [6] * 9),
        Series("kafka_broker_leader_partitions", {**lead, "broker_id": "2"}, ts, [4, 4, 4] + [6] * 9),
        Series("kafka_broker_leader_partitions", {**lead, "broker_id": "3"}, ts[:3], [4, 4, 4]),
    ]
    path = tmp_path / "t.om"
    write_trace(path, series)
    samples = samples_from_trace(load_trace(path), "c", "g", "t")
    assert [s.brokers for s in samples] == [3, 3, 3] + [2] * 9
    assert samples[0].broker_leader_share_ratio == 1.0
    assert samples[7].broker_leader_share_ratio == 6 / (16 / 3)     # 5 minutes after its last point: still held
    assert samples[8].broker_leader_share_ratio == 1.0              # then gone: two brokers, an even split


def test_promtool_accepts_a_written_trace(tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required (apt-get install prometheus)"
    path = tmp_path / "t.om"
    write_trace(path, small_trace())
    done = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(path), str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("body, line, message", [
    ("# TYPE x gauge\nx{a=\"1\"} 1 1790000000\nx{a=\"1\"} oops 1790000030\n# EOF\n", 3, "not a number"),
    ("# TYPE x gauge\nx{a=\"1\"} 1\n# EOF\n", 2, "without a timestamp"),
    ("# TYPE x gauge\nx{a=1} 1 1790000000\n# EOF\n", 2, "malformed labels"),
    ("# TYPE x gauge\nx 1 1790000030\nx 1 1790000000\n# EOF\n", 3, "back in time"),
    ("# TYPE x gauge\n{} 1 2\n", 2, "malformed sample"),
    ("# EOF\nx 1 2\n", 2, "after # EOF"),
])
def test_malformed_trace_names_the_line(tmp_path, body, line, message):
    path = tmp_path / "bad.om"
    path.write_text(body)
    with pytest.raises(UserError, match=rf"bad\.om:{line}: .*{message}"):
        load_trace(path)


def test_truth_round_trip_and_errors(tmp_path):
    truth = Truth(name="x", cluster="c", consumergroup="g", topic="t", start=T0, end=T0 + 3600, step_seconds=30,
                  incidents=[Incident(T0 + 60, T0 + 600, "consumer_down", ["KafkaConsumerGroupEmpty"])],
                  other_subjects=[("c", "g2", "t")], extra={"lag_threshold": 10})
    path = tmp_path / "x.truth.yaml"
    write_truth(path, truth)
    assert load_truth(path) == truth
    bad = tmp_path / "bad.truth.yaml"
    bad.write_text("subject: [\n")
    with pytest.raises(UserError, match="invalid YAML"):
        load_truth(bad)
    bad.write_text("subject: {cluster: c}\n")
    with pytest.raises(UserError, match="malformed ground truth"):
        load_truth(bad)


def test_replay_feeds_the_engine_it_is_given_even_an_empty_one(tmp_path, write_short_scenario) -> None:
    # an engine with no subject yet has len() 0: the replay must not take it for "no engine" and build its own
    from kafka_detective.analysis.online import OnlineAnalytics
    from kafka_detective_tools.scenarios.replay import replay

    write_short_scenario(tmp_path, "quiet-steady", quiet_hours=1.0)
    engine = OnlineAnalytics()
    assert len(engine) == 0
    rep = replay(tmp_path / "quiet-steady.om", tmp_path / "quiet-steady.truth.yaml", engine=engine)
    assert len(engine) >= 1 and engine.result(*rep.truth.subject) is not None
