"""The demo's stories, played as sampled histories through the online engine configured as the demo's exporter:
each must end with its own cause without a baseline longer than the story's own first phase."""

from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.signals.samples import GroupTopicSample
from kafka_detective_tools.sandbox.stack import COMPRESSED_ANALYTICS
from kafka_detective_tools.sandbox.traffic import SCENARIOS, TrafficScenario
from synthetic import Synth

UNLIMITED = 1000.0   # msg/s a consumer without a rate limit takes (the traffic driver's are only bounded by Kafka)


def story_samples(story: TrafficScenario) -> list[GroupTopicSample]:
    """The story's produce rate, consumer capacity and freezes, one sample a second (stories with cluster
    actions are out of reach: no broker dies and no record is deleted here)."""
    assert all(not p.actions and p.churn_seconds is None for p in story.phases), story.name
    starts = [sum(p.seconds for p in story.phases[:i]) for i in range(len(story.phases))]

    def phase(i: int):
        return next(p for s, p in zip(reversed(starts), reversed(story.phases), strict=True) if i >= s)

    return Synth(n=int(story.seconds) + 30, step=1.0, onset=int(story.onset_seconds),
                 produce_at=lambda i: phase(i).produce_rate,
                 capacity_at=lambda i: phase(i).consumers * (phase(i).consumer_rate or UNLIMITED),
                 members_at=lambda i: phase(i).consumers,
                 stalled_at=lambda i: phase(i).frozen).samples()


def diagnoses(story: TrafficScenario) -> list[str | None]:
    """The online diagnosis after every sample."""
    engine = OnlineAnalytics(**COMPRESSED_ANALYTICS)
    out = []
    for sample in story_samples(story):
        engine.observe([sample])
        (analysis,) = engine.results()
        out.append(analysis.diagnosis.cause if analysis.diagnosis is not None else None)
    return out


def test_baseline_lengthens_only_the_first_phase_and_never_shortens_it() -> None:
    story = SCENARIOS["the-3am-mystery"]
    longer = story.with_baseline(600)
    assert longer.phases[0].seconds == 600
    assert longer.phases[1:] == story.phases[1:]
    assert story.with_baseline(0) == story
    assert longer.onset_seconds == 600


def test_verdict_compares_the_final_diagnosis_with_the_story_cause() -> None:
    story = SCENARIOS["the-ghost"]
    assert story.verdict("intermittent") == (True, "as expected (intermittent)")
    assert story.verdict("consumer_stalled") == (False, "expected intermittent, got consumer_stalled")
    assert story.verdict(None) == (False, "expected intermittent, got no diagnosis")


def test_the_3am_batch_is_a_producer_spike_after_the_story_own_minute_of_baseline() -> None:
    seen = diagnoses(SCENARIOS["the-3am-mystery"])
    assert seen[-1] == "producer_spike"
    assert "producer_spike" in seen[:int(SCENARIOS["the-3am-mystery"].onset_seconds) + 40]


def test_the_slowdown_is_a_consumer_slowdown_over_its_last_minute() -> None:
    # Every sample of the minute the demo ends in: the diagnosis of a still-growing slowdown used to fall back to
    # `unknown` now and then (the change-point fit put the onset at the newest sample).
    last_minute = diagnoses(SCENARIOS["the-slowdown"])[-60:]
    assert last_minute.count("consumer_slowdown") > len(last_minute) / 2
    assert set(last_minute) <= {"consumer_slowdown", "unknown"}
    assert "unknown" not in last_minute


def test_the_ghost_is_stalled_at_its_first_freeze_and_intermittent_at_its_second() -> None:
    story = SCENARIOS["the-ghost"]
    seen = diagnoses(story)
    second = int(sum(p.seconds for p in story.phases[:3]))
    assert "consumer_stalled" in seen[:second]
    assert "intermittent" not in seen[:second]
    assert seen[-1] == "intermittent"


def test_the_demo_exporter_compresses_the_intermittent_gap_and_production_keeps_30_minutes() -> None:
    from kafka_detective.analysis.episodes import RULES
    from kafka_detective.config import AnalysisConfig
    from kafka_detective_tools.sandbox.stack import sandbox_exporter_config

    settings = sandbox_exporter_config("127.0.0.1:9092").analysis.online_settings()
    assert {k: settings[k] for k in COMPRESSED_ANALYTICS} == COMPRESSED_ANALYTICS
    assert AnalysisConfig().intermittent_min_gap_seconds == RULES.intermittent_min_gap_seconds == 1800.0
    assert OnlineAnalytics().episode_rules == RULES
