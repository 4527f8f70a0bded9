"""The /detective pages: escaping, ordering, lookups only, CSP, ui.enabled, and the route on the real server."""

from __future__ import annotations

import base64
import http.client
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
import yaml

from kafka_detective.analysis.model import Diagnosis, Evidence, GroupTopicAnalysis
from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.metrics.exposition import Exposition
from kafka_detective.serving import detective_page as dp
from kafka_detective.serving import svg
from kafka_detective.serving.http import MetricsApp, MetricsServer
from kafka_detective.signals.samples import GroupTopicSample

from ..html_support import parse
from .conftest import PASSWORD

NOW = 1_790_000_000.0
EVIL_GROUP = "<script>alert(1)</script>"
EVIL_TOPIC = '"><img src=x onerror=alert(2)>&'


def diagnosis(cause: str = "consumer_stalled", severity: str = "critical", confidence: float = 0.9) -> Diagnosis:
    return Diagnosis(cause=cause, confidence=confidence, severity=severity, onset=NOW - 900,
                     evidence=(Evidence("kafka_consumergroup_lag_sum", 5000, 10, 40, NOW - 60, "lag rose <fast>"),),
                     remediation="Restart the consumers & check logs.",
                     alternatives=((cause, confidence), ("producer_spike", 0.2)))


def sample(group: str, topic: str, t: float, lag: int, lag_seconds: float | None = 100.0, cluster: str = "prod",
           offset: int = 0) -> GroupTopicSample:
    return GroupTopicSample(cluster=cluster, group=group, topic=topic, timestamp=t, lag=lag,
                            log_end_offset=offset + lag, committed_offset=offset, lag_seconds=lag_seconds, members=2,
                            state="Stable", rebalances_total=int(t // 600), lost_messages_total=0,
                            retention_seconds=86400.0, leader_changes_total=0, under_replicated_partitions=0,
                            offline_partitions=0)


def subject(group: str, topic: str = "orders", d: Diagnosis | None = None, score: float = 0.1,
            lag: int = 100, lag_seconds: float = 60.0, cluster: str = "prod") -> dp.Subject:
    a = GroupTopicAnalysis(cluster=cluster, group=group, topic=topic, predicted_lag={300: lag + 10, 1800: lag + 50},
                           predicted_lag_upper={300: lag + 20, 1800: lag + 200}, anomaly_scores={"lag": score},
                           diagnosis=d)
    return dp.Subject(a, sample(group, topic, NOW, lag, lag_seconds, cluster))


def history(group: str, topic: str, n: int = 60) -> list[GroupTopicSample]:
    return [sample(group, topic, NOW - (n - i) * 60, lag=10 * i * i, offset=1000 * i) for i in range(n)]


def source(*subjects: dp.Subject) -> dp.StaticSource:
    return dp.StaticSource(list(subjects), {s.key: history(*s.key[1:]) for s in subjects})


# --- ordering and content -------------------------------------------------------------------------------------


def test_the_worst_case_comes_first_and_quiet_subjects_are_not_listed():
    subjects = [subject("quiet", score=0.1),
                subject("anomalous", score=0.95),
                subject("warned", d=diagnosis("producer_spike", "warning", 0.95)),
                subject("paged-low", d=diagnosis("consumer_down", "critical", 0.5)),
                subject("paged", d=diagnosis("consumer_stalled", "critical", 0.9))]
    order = [s.analysis.group for s in dp.worst_first(subjects)]
    assert order == ["paged", "paged-low", "warned", "anomalous"]
    page = dp.render_index(subjects, NOW)
    rows = re.findall(r'<td class="name group">([^<]*)</td>', page)
    assert rows == order
    assert "Consumers stalled (committed offset frozen)" in page
    assert "4 of 5 group/topic(s) need attention" in page


def test_the_list_shows_lag_forecast_onset_and_expected_alerts():
    page = dp.render_index([subject("paged", d=diagnosis(), lag=5000, lag_seconds=2000.0)], NOW)
    assert "5,000" in page and "33 min" in page             # lag and lag seconds
    assert "5,050 in 30 min (up to 5,200)" in page          # the longest horizon's forecast and bound
    assert "15 min ago" in page                             # onset 900 s before now
    assert "KafkaConsumerLagSecondsCritical" in page and "KafkaConsumerStalled" in page


def test_no_open_case_says_so():
    page = dp.render_index([subject("quiet")], NOW)
    assert "No open case" in page and "<table" not in page


def test_expected_alerts_follow_the_values_and_the_cause():
    a = subject("g", d=diagnosis("retention_loss"), lag_seconds=400.0)
    assert dp.expected_alerts(a.analysis, a.latest) == ["KafkaConsumerLagSecondsHigh", "KafkaConsumerMessagesLost"]
    quiet = subject("q", lag_seconds=10.0)
    assert dp.expected_alerts(quiet.analysis, quiet.latest) == []


def test_cause_alerts_match_the_pattern_library():
    from kafka_detective_tools.patterns.loader import load_library

    library = load_library(Path(__file__).resolve().parents[3])
    causes_of = {p.alert: set(p.root_causes) for p in library.patterns}
    for cause, alerts in dp.CAUSE_ALERTS.items():
        for alert in alerts:
            assert alert in causes_of, f"{alert} is not an alert of the pattern library"
            assert cause in causes_of[alert], f"{alert} does not list {cause} in its root_causes"
    for alert in ("KafkaConsumerLagSecondsHigh", "KafkaConsumerLagSecondsCritical",
                  "KafkaConsumerRetentionBreachPredicted"):
        assert alert in causes_of


def test_the_value_thresholds_are_the_pattern_librarys_defaults():
    """expected_alerts() decides the lag-seconds and retention alerts from the values with thresholds of its own
    (the image does not ship patterns/config.yaml): they must be the library's defaults."""
    from kafka_detective_tools.patterns.loader import load_library

    config = load_library(Path(__file__).resolve().parents[3]).config
    page = {"lag_seconds_warning": dp.LAG_SECONDS_WARNING, "lag_seconds_critical": dp.LAG_SECONDS_CRITICAL,
            "retention_breach_seconds_warning": dp.RETENTION_BREACH_WARNING}
    assert page == {key: float(config[key]) for key in page}


def test_the_case_file_has_charts_causes_evidence_and_the_runbook():
    s = subject("paged", d=diagnosis())
    response = dp.respond("/detective/case?" + urlencode({"cluster": "prod", "group": "paged", "topic": "orders"}),
                          source(s), now=NOW)
    assert response.status == 200
    page = response.body.decode()
    elements = parse(page)
    assert elements.tags.count("svg") == 4
    assert "onset" in page and 'class="co"' in page          # the onset line
    assert 'id="causes"' in page and 'id="evidence"' in page and 'id="runbook"' in page
    assert 'kafka_consumergroup_current_offset_sum{cluster="prod",consumergroup="paged",topic="orders"}' \
        in "".join(elements.text)                             # PromQL filled in for this group (unescaped text)
    assert "lag rose <fast>" in "".join(elements.text)


def test_a_case_without_topic_opens_the_groups_worst_topic():
    cases = source(subject("g", "a", d=diagnosis("producer_spike", "warning")),
                   subject("g", "b", d=diagnosis("consumer_down", "critical")))
    for target in ("/detective/case?cluster=prod&group=g", "/detective/case?cluster=prod&group=g&topic="):
        response = dp.respond(target, cases, now=NOW)
        assert response.status == 200 and "consumer_down" in response.body.decode()


# --- safety -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["index", "case"])
def test_names_are_rendered_as_text_never_as_markup(path):
    s = subject(EVIL_GROUP, EVIL_TOPIC, d=diagnosis(), cluster="c<marquee>")
    target = "/detective" if path == "index" else \
        "/detective/case?" + urlencode({"cluster": "c<marquee>", "group": EVIL_GROUP, "topic": EVIL_TOPIC})
    response = dp.respond(target, source(s), now=NOW)
    assert response.status == 200
    page = response.body.decode()
    elements = parse(page)
    assert "script" not in elements.tags and "img" not in elements.tags and "marquee" not in elements.tags
    assert not any(name.startswith("on") for name, _ in elements.attrs)
    text = "".join(elements.text)
    assert EVIL_GROUP in text and EVIL_TOPIC in text and "c<marquee>" in text


def test_the_case_link_round_trips_any_name():
    s = subject(EVIL_GROUP, "t&x=1#frag", d=diagnosis())
    href = dict(parse(dp.render_index([s], NOW)).attrs)["href"]
    assert href is not None and href.startswith("/detective/case?")
    response = dp.respond(href, source(s), now=NOW)
    assert response.status == 200 and EVIL_GROUP in "".join(parse(response.body.decode()).text)


@pytest.mark.parametrize("target", [
    "/detective/case?cluster=prod&group=nope&topic=orders",
    "/detective/case?cluster=other&group=paged&topic=orders",
    "/detective/case?group=paged&topic=orders",
    "/detective/case?cluster=prod&group=paged&topic=../../etc/passwd",
    "/detective/nothing",
])
def test_unknown_cases_and_pages_are_404(target):
    response = dp.respond(target, source(subject("paged", d=diagnosis())), now=NOW)
    assert response.status == 404
    assert ("Content-Security-Policy", dp.CSP) in response.headers
    assert b"passwd" not in response.body


def test_every_page_carries_the_content_security_policy():
    for target in ("/detective", "/detective/", "/detective/case?cluster=prod&group=paged&topic=orders"):
        headers = dict(dp.respond(target, source(subject("paged", d=diagnosis())), now=NOW).headers)
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "script-src" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_disabled_ui_is_404_for_every_path():
    for target in ("/detective", "/detective/case?cluster=prod&group=paged&topic=orders"):
        assert dp.respond(target, source(subject("paged", d=diagnosis())), enabled=False).status == 404


def test_a_rendering_failure_is_a_500_page_not_a_dead_connection():
    class Broken:
        def subjects(self):
            raise RuntimeError("boom")

        def history(self, *key):
            return []

    response = dp.respond("/detective", Broken(), now=NOW)
    assert response.status == 500 and b"boom" not in response.body


# --- charts -------------------------------------------------------------------------------------------------------


def test_a_chart_breaks_at_gaps_and_marks_the_onset():
    points = [(NOW, 1.0), (NOW + 60, None), (NOW + 120, 3.0), (NOW + 180, 4.0)]
    chart = svg.chart("Lag <x>", [svg.Series("lag", "#000", points)], onset=NOW + 60)
    assert chart.count("M") >= 2 and "Lag &lt;x&gt;" in chart and 'class="co"' in chart
    assert "no history yet" in svg.chart("Lag", [svg.Series("lag", "#000", [(NOW, 1.0)])])


def test_rates_skip_counters_that_went_backwards():
    h = [sample("g", "t", NOW, 0, offset=100), sample("g", "t", NOW + 10, 0, offset=200),
         sample("g", "t", NOW + 20, 0, offset=50)]
    _produce, consume = dp._rates(h)
    assert consume == [(NOW + 10, 10.0), (NOW + 20, None)]


# --- the real server ----------------------------------------------------------------------------------------------


def analytics_collector(cluster: str = "prod") -> SimpleNamespace:
    """A collector as the page sees it, holding a real OnlineAnalytics fed with a stalled group."""
    analytics = OnlineAnalytics(diagnose_every_seconds=1.0)
    for i in range(240):
        t = NOW - 240 * 30 + i * 30
        stalled = i >= 180
        committed = 1000 * (180 if stalled else i)
        analytics.observe([GroupTopicSample(
            cluster=cluster, group="checkout", topic="orders", timestamp=t, lag=1000 * i + 50 - committed,
            log_end_offset=1000 * i + 50, committed_offset=committed, lag_seconds=(i - 180) * 30.0 if stalled else 1.0,
            members=3, state="Stable", rebalances_total=0, lost_messages_total=0, retention_seconds=604800.0,
            leader_changes_total=0, under_replicated_partitions=0, offline_partitions=0)])
    return SimpleNamespace(cluster=SimpleNamespace(name=cluster), analysis=analytics.results(), analytics=analytics)


def get(srv: MetricsServer, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.headers), r.read().decode()
    finally:
        conn.close()


@pytest.fixture
def live():
    collector = analytics_collector()
    srv = MetricsServer(MetricsApp(Exposition(), [collector]), "127.0.0.1", 0)  # type: ignore[list-item]
    srv.start()
    yield srv
    srv.stop()


def test_the_server_lists_the_diagnosed_group_and_opens_its_case(live):
    status, headers, page = get(live, "/detective")
    assert status == 200 and headers["Content-Type"] == dp.CONTENT_TYPE
    assert headers["Content-Security-Policy"] == dp.CSP
    assert "checkout" in page and "Consumers stalled" in page
    href = dict(parse(page).attrs)["href"]
    status, _, case = get(live, href)
    assert status == 200 and case.count("<svg") == 4 and 'id="runbook"' in case


def test_ui_disabled_on_the_server(live):
    srv = MetricsServer(MetricsApp(Exposition(), [analytics_collector()], ui_enabled=False), "127.0.0.1", 0)  # type: ignore[list-item]
    srv.start()
    try:
        assert get(srv, "/detective")[0] == 404
        assert "/detective" not in get(srv, "/")[2]
    finally:
        srv.stop()


def test_the_page_sits_behind_the_endpoints_basic_auth(tmp_path, password_hash):
    web = tmp_path / "web.yml"
    web.write_text(yaml.safe_dump({"basic_auth_users": {"prometheus": password_hash}}))
    srv = MetricsServer(MetricsApp(Exposition(), [analytics_collector()]), "127.0.0.1", 0,  # type: ignore[list-item]
                        web_config_file=str(web))
    srv.start()
    try:
        status, _, page = get(srv, "/detective")
        assert status == 401 and "checkout" not in page
        token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        status, _, page = get(srv, "/detective", {"Authorization": f"Basic {token}"})
        assert status == 200 and "checkout" in page
    finally:
        srv.stop()


# --- similar past incidents ---------------------------------------------------------------------------------------


def test_the_case_file_lists_similar_learned_incidents(tmp_path):
    import json

    from kafka_detective.analysis.rootcause import diagnose
    from kafka_detective.analysis.signatures import signature
    from synthetic import scenario

    history = scenario("consumer_stalled", n=400, onset=300, noise=0.1).samples()
    d = diagnose(history)
    assert d.onset is not None
    learned = tmp_path / "learned"
    learned.mkdir()
    past = signature(history, d.onset, history[-1].timestamp, name="last-week-stall", cause="consumer_stalled",
                     notes="poison message <b>retried</b>")
    (learned / "last-week-stall.signature.json").write_text(json.dumps(past.to_dict()))
    s0 = history[0]
    case = dp.Subject(GroupTopicAnalysis(s0.cluster, s0.group, s0.topic, diagnosis=d), history[-1])
    src = dp.StaticSource([case], {case.key: history})
    target = dp.case_href(case.analysis)

    page = dp.respond(target, src, now=history[-1].timestamp, library_dir=str(tmp_path)).body.decode()
    assert "Similar past incidents" in page and "last-week-stall" in page
    assert "poison message &lt;b&gt;retried&lt;/b&gt;" in page
    assert "Similar past incidents" not in dp.respond(target, src, now=history[-1].timestamp).body.decode()
    # a library without learned incidents, or none at all, leaves the section out
    assert "Similar past incidents" not in dp.respond(target, src, library_dir=str(tmp_path / "none")).body.decode()


def test_the_growth_phase_ends_at_the_lag_peak_unless_it_is_too_close_to_the_onset():
    from kafka_detective.analysis.signatures import growth_phase

    h = history("g", "t")                                   # 60 samples one minute apart, ending at NOW - 60
    d = diagnosis()                                         # onset NOW - 900
    early_peak = Diagnosis(cause=d.cause, confidence=d.confidence, severity=d.severity, onset=NOW - 900,
                           evidence=(Evidence("kafka_consumergroup_lag_sum", 5000, 10, 40, NOW - 800, ""),))
    assert growth_phase(h, early_peak) == (NOW - 900, h[-1].timestamp)   # within 3 steps: to the end
    late_peak = Diagnosis(cause=d.cause, confidence=d.confidence, severity=d.severity, onset=NOW - 900,
                          evidence=(Evidence("kafka_consumergroup_lag_sum", 5000, 10, 40, NOW - 600, ""),))
    assert growth_phase(h, late_peak) == (NOW - 900, NOW - 600)
    assert growth_phase(h, Diagnosis(cause="unknown", confidence=0.0, severity="info", onset=None)) is None


# --- past episodes ------------------------------------------------------------------------------------------------


def section(page: str, title: str) -> str | None:
    """The text a person reads under the `<h2>` called `title`, up to the next heading (None: no such section)."""
    for chunk in page.split("<h2>")[1:]:
        heading, _, body = chunk.partition("</h2>")
        if heading == title:
            return " ".join(t.strip() for t in parse(body.split("<h2>")[0]).text if t.strip())
    return None


def case_page(s: dp.Subject, episodes: list[tuple[float, float, str]]) -> str:
    src = dp.StaticSource([s], {s.key: history(*s.key[1:])}, {s.key: episodes})
    response = dp.respond(dp.case_href(s.analysis), src, now=NOW)
    assert response.status == 200
    return response.body.decode()


def test_the_history_lists_past_episodes_newest_first_with_their_causes():
    day = 86400.0
    past = [(NOW - 3 * day, NOW - 3 * day + 1200, "producer_spike"),     # oldest first, as the engine keeps them
            (NOW - 2 * day, NOW - 2 * day + 7200, "consumer_slowdown"),
            (NOW - day, NOW - day + 300, "consumer_stalled")]
    text = section(case_page(subject("paged", d=diagnosis()), past), "History")
    assert text is not None
    starts = [text.index(dp.fmt_time(start)) for start, _, _ in past]
    assert starts == sorted(starts, reverse=True), text                  # newest first
    newest, middle, oldest = (text[i:] for i in reversed(starts))
    assert newest.split(" UTC ", 1)[1].startswith("5 min Consumers stalled"), newest
    assert middle.split(" UTC ", 1)[1].startswith("2.0 h Consumer processing slowdown"), middle
    assert oldest.split(" UTC ", 1)[1].startswith("20 min Producer traffic spike"), oldest
    assert "consumer_stalled" in newest and "producer_spike" in oldest


def test_a_recurring_diagnosis_shows_the_sentence_the_engine_wrote_with_the_history():
    sentence = "daily at ~03:00 UTC, 3 of the last 4 days (typically 20 min); each time: producer_spike"
    recurring = Diagnosis(cause="recurring", confidence=0.8, severity="warning", onset=NOW - 600,
                          evidence=(Evidence("kafka_consumergroup_lag_sum", 3, 1, 2, NOW, sentence),),
                          alternatives=(("recurring", 0.8), ("producer_spike", 0.3)))
    past = [(NOW - 86400.0, NOW - 86400.0 + 1200, "producer_spike")]
    text = section(case_page(subject("nightly", d=recurring), past), "History")
    assert text is not None and text.startswith(sentence), text
    # a diagnosis of a single episode has no recurrence to name
    text = section(case_page(subject("paged", d=diagnosis()), past), "History")
    assert text is not None and "each time" not in text and "lag rose" not in text


def test_no_past_episode_no_history_section():
    page = case_page(subject("paged", d=diagnosis()), [])
    assert section(page, "History") is None and section(page, "Ranked causes") is not None
    assert section(dp.render_case(subject("paged", d=diagnosis()), history("paged", "orders"), NOW), "History") \
        is None


def test_the_history_of_a_hostile_group_name_is_text():
    page = case_page(subject(EVIL_GROUP, EVIL_TOPIC, d=diagnosis()), [(NOW - 7200, NOW - 6000, "<marquee>odd")])
    elements = parse(page)
    assert "script" not in elements.tags and "img" not in elements.tags and "marquee" not in elements.tags
    text = section(page, "History")
    assert text is not None and "20 min <marquee>odd" in text
    assert EVIL_GROUP in "".join(elements.text)


def test_the_engine_remembers_each_episode_and_the_page_shows_them():
    from synthetic import scenario

    # Freezes of 6 minutes every 3 hours: the first two are over when the third is diagnosed as intermittent.
    step, hour = 60.0, 3600.0
    freezes = [int(3 * hour / step), int(6 * hour / step), int(9 * hour / step)]
    synth = scenario("consumer_stalled", n=freezes[2] + 8, step=step, onset=freezes[0], noise=0.03)
    synth.stalled_at = lambda i: any(f <= i < f + 6 for f in freezes)
    analytics = OnlineAnalytics()
    for s in synth.samples():
        analytics.observe([s])
    key = (synth.cluster, synth.group, synth.topic)

    past = analytics.episodes(*key)
    assert [cause for _, _, cause in past] == ["consumer_stalled", "consumer_stalled"]
    for (start, end, _), freeze in zip(past, freezes, strict=False):
        # each starts within minutes of its freeze and ends (last evidence) before the next one
        assert 0 <= start - (synth.start + freeze * step) <= 600 and start < end < start + hour, (start, end)
    past.clear()                                                 # a copy: the engine's memory is untouched
    assert len(analytics.episodes(*key)) == 2 and analytics.episodes("prod", "other", "orders") == []

    d = analytics.result(*key).diagnosis                         # type: ignore[union-attr]
    assert d is not None and d.cause == "intermittent"
    collector = SimpleNamespace(cluster=SimpleNamespace(name=synth.cluster), analysis=analytics.results(),
                                analytics=analytics)
    page = dp.respond(dp.case_href(analytics.result(*key)), dp.CollectorSource([collector]),  # type: ignore[arg-type]
                      now=synth.start + len(synth.samples()) * step).body.decode()
    text = section(page, "History")
    assert text is not None and text.startswith("3 episodes in the last 6 h"), text
    top = table_rows(page, "causes")[0]                          # the recurrence is the evidence for the top cause
    assert "intermittent" in top and "3 episodes in the last 6 h" in top, top
    assert text.index(dp.fmt_time(analytics.episodes(*key)[1][0])) < text.index(
        dp.fmt_time(analytics.episodes(*key)[0][0]))


# --- evidence for each ranked cause -------------------------------------------------------------------------------


def table_rows(page: str, table_id: str) -> list[str]:
    """The text a person reads on each body row of the table `table_id`, cells separated by " | "."""
    body = page.split(f'<table id="{table_id}">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" | ".join(" ".join(t.strip() for t in parse("<td" + cell).text if t.strip())
                       for cell in row.split("<td")[1:]) for row in body.split("<tr")[1:]]


def test_each_ranked_cause_shows_the_findings_that_point_to_it():
    d = Diagnosis(cause="consumer_slowdown", confidence=0.7, severity="warning", onset=NOW - 900, evidence=(
        Evidence("kafka_consumergroup_consume_rate_messages_per_second", 40, 100, 80, NOW - 600,
                 "consume rate <x0.40> of baseline", ("consumer_slowdown", "consumer_cpu_saturation")),
        Evidence("kafka_consumergroup_lag_sum", 5000, 10, 40, NOW - 60, "lag rose from 10 to 5000"),
        Evidence("kafka_detective_consumer_cpu_ratio", 0.5, 0.4, 0.9, NOW - 600, "consumer CPU 50%",
                 ("consumer_cpu_saturation",))),
        alternatives=(("consumer_slowdown", 0.7), ("consumer_cpu_saturation", 0.3), ("unknown", 0.1)))
    rows = table_rows(case_page(subject("slow", d=d), []), "causes")
    assert len(rows) == 3
    assert rows[0].endswith("| consume rate <x0.40> of baseline"), rows[0]
    assert rows[1].endswith("| consume rate <x0.40> of baseline consumer CPU 50%"), rows[1]
    assert rows[2].endswith("| no finding points to it specifically"), rows[2]
    assert not any("lag rose" in row for row in rows)            # the lag itself speaks for no cause in particular


def test_the_findings_of_a_real_diagnosis_point_to_the_causes_they_were_scored_for():
    from kafka_detective.analysis.rootcause import diagnose
    from synthetic import scenario

    samples = scenario("consumer_stalled", n=400, onset=300, noise=0.1).samples()
    d = diagnose(samples)
    assert d.cause == "consumer_stalled"
    s0 = samples[-1]
    case = dp.Subject(GroupTopicAnalysis(s0.cluster, s0.group, s0.topic, diagnosis=d), s0)
    page = dp.respond(dp.case_href(case.analysis), dp.StaticSource([case], {case.key: samples}),
                      now=s0.timestamp).body.decode()
    top = table_rows(page, "causes")[0]
    assert top.startswith("1 | Consumers stalled") and "committed offset did not move" in top, top
    assert "lag rose" not in top and "oldest unconsumed message" not in top


# --- evidence against each ranked cause ---------------------------------------------------------------------------


def real_case(cause: str) -> tuple[Diagnosis, list[str]]:
    """The diagnosis of the synthetic history of `cause` and the rows of its case file's ranked causes."""
    from kafka_detective.analysis.rootcause import diagnose
    from synthetic import scenario

    samples = scenario(cause).samples()
    d = diagnose(samples)
    s0 = samples[-1]
    case = dp.Subject(GroupTopicAnalysis(s0.cluster, s0.group, s0.topic, diagnosis=d), s0)
    page = dp.respond(dp.case_href(case.analysis), dp.StaticSource([case], {case.key: samples}),
                      now=s0.timestamp).body.decode()
    return d, table_rows(page, "causes")


def row_of(rows: list[str], cause: str) -> str:
    return next(row for row in rows if f" {cause} |" in row)


def test_a_rebalance_storm_case_lists_the_rebalances_for_it_and_the_missing_cpu_signal_against_the_runner_up():
    _, rows = real_case("rebalance_storm")
    assert rows[0].startswith("1 | Consumer group rebalancing rebalance_storm | 95% |"), rows[0]
    assert "rebalances around the onset" in rows[0] and dp.AGAINST not in rows[0], rows[0]
    cpu = row_of(rows, "consumer_cpu_saturation")      # ranked behind it (no CPU signal to rule it out)
    assert cpu.startswith("2 | ") and f"{dp.AGAINST} no CPU signal" in cpu, cpu


def test_a_consumer_down_case_lists_the_empty_group_for_it_and_what_argues_against_the_runner_up():
    d, rows = real_case("consumer_down")
    assert rows[0].startswith("1 | ") and "consumer_down" in rows[0]
    assert "group had no members in 100% of the window" in rows[0] and dp.AGAINST not in rows[0], rows[0]
    spike = row_of(rows, "producer_spike")
    assert spike.endswith(f"| no finding points to it specifically {dp.AGAINST} produce rate at baseline (x0.99) "
                          f"{dp.AGAINST} consume rate fell to x0.00 of baseline: the consumers slowed, not only "
                          "outpaced"), spike
    # the empty group also argues against consumer_slowdown, which the collapsed consume rate speaks for: the case
    # file shows both when that cause is ranked
    slow = Diagnosis(cause=d.cause, confidence=d.confidence, severity=d.severity, onset=d.onset, evidence=d.evidence,
                     alternatives=(("consumer_down", 0.9), ("consumer_slowdown", 0.1)),
                     counter_evidence=d.counter_evidence)
    row = table_rows(case_page(subject("down", d=slow), []), "causes")[1]
    assert row.startswith("2 | Consumer processing slowdown consumer_slowdown | 10% | consume rate x0.00 of baseline")
    assert row.endswith(f"{dp.AGAINST} group had no members in 100% of the window: no consumer to be slow or stalled"
                        ), row


def test_findings_against_a_cause_are_marked_and_escaped():
    d = Diagnosis(cause="consumer_slowdown", confidence=0.7, severity="warning", onset=NOW - 900,
                  alternatives=(("consumer_slowdown", 0.7), ("rebalance_storm", 0.2)),
                  counter_evidence=(Evidence("kafka_consumergroup_rebalances_total", 0, 0, 1, NOW - 900,
                                             "no <b>rebalance</b> & no <script>", (), ("rebalance_storm",)),))
    page = case_page(subject("marked", d=d), [])
    rows = table_rows(page, "causes")
    assert rows[1].endswith(f"| no finding points to it specifically {dp.AGAINST} no <b>rebalance</b> & no <script>"
                            ), rows[1]
    assert dp.AGAINST not in rows[0]
    assert '<span class="against">\u2717 no &lt;b&gt;rebalance&lt;/b&gt; &amp; no &lt;script&gt;</span>' in page
    assert "script" not in parse(page).tags
