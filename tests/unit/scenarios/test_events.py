"""Scenario events: every kind the scenarios use parses to its typed event; a wrong field is named."""

from __future__ import annotations

import pytest

from kafka_detective_tools.scenarios import events, families, simulator
from kafka_detective_tools.scenarios.events import Event, ScenarioError, parse_events


def _scenario(*records: Event) -> simulator.Scenario:
    sc = simulator.build("consumer-down")
    sc.events = list(records)
    return sc


def test_library_and_families_parse_to_typed_events_in_order() -> None:
    scenarios = [simulator.build(name) for name in simulator.scenario_names()]
    scenarios += [families.build(families.sample(split, family, i)) for split in ("train", "test")
                  for family in families.FAMILIES for i in range(4)]
    kinds = set()
    for sc in scenarios:
        typed = parse_events(sc)
        assert [type(e) for e in typed] == [events.EVENT_KINDS[r.kind] for r in sc.events], sc.name
        assert [(e.onset, e.end) for e in typed] == [(r.onset, r.end) for r in sc.events], sc.name
        kinds |= {r.kind for r in sc.events}
    assert len(kinds) >= 15


def test_parameters_and_target_become_typed_fields() -> None:
    (storm, broker, stall) = parse_events(_scenario(
        Event("rebalance_storm", 10.0, 20.0, "orders-service", {"factor": 0.45}),
        Event("broker_down", 0.0, 60.0, "2", {"offline_seconds": 30}),
        Event("partial_stall", 0.0, 60.0, "audit", {"partitions": ["0", 2]}),
    ))
    assert storm == events.RebalanceStorm(10.0, 20.0, "orders-service", factor=0.45, min_gap=30.0, max_gap=90.0)
    assert broker == events.BrokerDown(0.0, 60.0, 2, factor=0.5, offline_seconds=30)
    assert stall == events.PartialStall(0.0, 60.0, "audit", (0, 2))


@pytest.mark.parametrize(("record", "message"), [
    (Event("explode", 0.0, 1.0, "orders"), "kind: unknown event kind 'explode'"),
    (Event("produce", 0.0, 1.0, "orders", {"facter": 2.0}), "params.facter: not a parameter of produce"),
    (Event("produce", 0.0, 1.0, "orders"), "params.factor: missing (required by produce)"),
    (Event("produce", 0.0, 1.0, "orders", {"factor": "3x"}), "params.factor: expected a number, got '3x'"),
    (Event("produce", 0.0, 1.0, "payments", {"factor": 2.0}), "target: no topic 'payments'"),
    (Event("stall", 0.0, 1.0, "orders"), "target: no group 'orders'"),
    (Event("skew", 0.0, 1.0, "b1"), "target: expected a broker id, got 'b1'"),
    (Event("disk", 0.0, 1.0, "7", {"to": 0.9}), "target: no broker 7"),
    (Event("slow_partition", 0.0, 1.0, "audit", {"partition": "first"}), "params.partition: expected an integer"),
    (Event("down", "soon", 1.0, "audit"), "onset/end: expected a number, got 'soon'"),
])
def test_a_malformed_event_is_named_with_its_field(record: Event, message: str) -> None:
    sc = _scenario(Event("down", 0.0, 1.0, "audit"), record)
    with pytest.raises(ScenarioError) as error:
        parse_events(sc)
    assert str(error.value).startswith(f"scenario 'consumer-down', event 1 ({record.kind}): {message}")


def test_simulate_rejects_a_malformed_event_before_simulating() -> None:
    with pytest.raises(ScenarioError, match=r"event 0 \(capacity\): params.factor: missing"):
        simulator.simulate(_scenario(Event("capacity", 0.0, 60.0, "audit", {"ramp": 60.0})))
