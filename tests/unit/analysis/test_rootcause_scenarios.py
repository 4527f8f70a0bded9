"""diagnose() against the simulator's labelled incidents (ground truth from the scenario library)."""

from __future__ import annotations

import pytest

from kafka_detective.analysis.rootcause import diagnose
from kafka_detective_tools.scenarios.simulator import build, scenario_names, simulate
from kafka_detective_tools.scenarios.trace import Trace, samples_from_trace

# Every incident scenario: the offline diagnosis must get each incident right (top-1) on the incident window
# with 2 h of baseline, with the true onset and with the onset it finds. A window stops 10 minutes before the
# next incident starts (an incident labelled consumer_down ends where the retention_loss one begins, on the
# first lost message; from then on the loss is the headline).
SCENARIOS = ["broker-failure", "broker-skew", "consumer-cpu-saturation", "consumer-down", "consumer-slowdown",
             "consumer-stalled", "death-spiral", "disk-pressure", "leader-election", "producer-spike",
             "rebalance-storm", "retention-loss", "slow-consumer-degradation", "slow-lag-growth", "the-3am-mystery",
             "the-ghost", "the-slowdown", "the-storm", "the-vanishing-messages"]


def _history(name: str):
    series, truth = simulate(build(name))
    return samples_from_trace(Trace(series=series), *truth.subject), truth


def test_the_list_names_real_scenarios() -> None:
    assert set(SCENARIOS) <= set(scenario_names())


# `recurring` and `intermittent` name a history of episodes, which one window does not have (the online engine
# keeps it): offline, each of those episodes must be diagnosed as what it is each time, the cause of the
# scenario's first incident (the 3 AM batch: producer_spike; the ghost's freezes: consumer_stalled).
EPISODE_PATTERNS = ("recurring", "intermittent")


@pytest.mark.parametrize("name", SCENARIOS)
def test_simulated_incidents_are_diagnosed(name: str) -> None:
    history, truth = _history(name)
    starts = sorted(i.onset for i in truth.incidents)
    for incident in truth.incidents:
        end = min([incident.end] + [t - 600 for t in starts if t > incident.onset])
        window = [s for s in history if incident.onset - 7200 <= s.timestamp <= end]
        expected = incident.root_cause
        if expected in EPISODE_PATTERNS:
            expected = truth.incidents[0].root_cause
            assert expected not in EPISODE_PATTERNS, (name, expected)
        for onset in (incident.onset, None):
            d = diagnose(window, onset=onset)
            assert d.cause == expected, (name, onset, d.cause, d.alternatives)


@pytest.mark.parametrize("name", [n for n in scenario_names() if n.startswith("quiet")])
def test_quiet_traces_have_no_lag_problem(name: str) -> None:
    history, _ = _history(name)
    for end in range(240, len(history), 240):          # every few hours, the last 2 hours
        d = diagnose(history[max(0, end - 240):end])
        assert d.cause == "unknown" and d.severity == "info", (name, end, d)
