"""A sharded exporter's warm start refills the analytics with its own consumer groups only."""

from __future__ import annotations

import pytest

from kafka_detective.analysis.online import OnlineAnalytics
from kafka_detective.analysis.warm_start import warm_start

from .test_warm_start import RECORDED, _RecordedPrometheus, _serving


@pytest.mark.parametrize("owned", [True, False])
def test_a_shard_replays_only_the_groups_it_owns(owned: bool) -> None:
    analytics = OnlineAnalytics(history_seconds=600, history_points=600)
    with _serving(_RecordedPrometheus) as url:
        fed = warm_start(analytics, url, RECORDED["cluster"], lookback=600, interval=1,
                         owns=lambda group: owned and group == RECORDED["group"])
    history = analytics.history(RECORDED["cluster"], RECORDED["group"], RECORDED["topic"])
    assert (fed, len(history)) == ((12, 12) if owned else (0, 0))
