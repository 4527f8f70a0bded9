"""The demo's healthy baseline: long enough for the exporter's anomaly scores to learn a group before its story
starts (they score nothing during their warm-up, and the online engine then names no spike or slowdown)."""

from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective_tools.sandbox.stack import COMPRESSED_ANALYTICS
from kafka_detective_tools.sandbox.traffic import SCENARIOS, analytics_warmup_seconds
from synthetic import Synth


def test_baseline_lengthens_only_the_first_phase_and_never_shortens_it() -> None:
    story = SCENARIOS["the-3am-mystery"]
    longer = story.with_baseline(600)
    assert longer.phases[0].seconds == 600
    assert longer.phases[1:] == story.phases[1:]
    assert story.with_baseline(0) == story


def first_diagnosis(baseline: int) -> str | None:
    """The online engine, configured as the demo's exporter, on the 3 AM batch (40/s, then 250/s for 80 s, for
    consumers that take 90/s) sampled every second after `baseline` healthy seconds."""
    history = Synth(n=baseline + 100, step=1.0, onset=baseline, produce=40, capacity=90,
                    produce_at=lambda i: 250.0 if baseline <= i < baseline + 80 else 40.0).samples()
    engine = OnlineAnalytics(**COMPRESSED_ANALYTICS)
    for sample in history:
        engine.observe([sample])
        (analysis,) = engine.results()
        if analysis.diagnosis is not None:
            return analysis.diagnosis.cause
    return None


def test_default_baseline_lets_the_engine_name_the_3am_batch() -> None:
    assert first_diagnosis(int(analytics_warmup_seconds())) == "producer_spike"

