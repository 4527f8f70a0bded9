"""A full cluster restart seen through the loop's connector seam: partial cycles keep what is missing, stale client
metadata is refreshed at once, and the data ages tell how old each kind of data really is (the fake cluster is
`kafka_fakes.FakeKafka`).
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kafka_detective.pipeline.cycle import ClusterCollector

from .kafka_fakes import FakeKafka, Group, make_collector, page


def lag(collector: ClusterCollector) -> dict[tuple[str, int], float]:
    return {(dict(k)["consumergroup"], int(dict(k)["partition"])): v
            for k, v in page(collector).get("kafka_consumergroup_lag", {}).items()}


def last_success(collector: ClusterCollector, phase: str) -> float | None:
    return page(collector)["kafka_detective_last_success_timestamp_seconds"].get(
        (("cluster", "t"), ("phase", phase)))


@pytest.fixture
def kafka() -> FakeKafka:
    return FakeKafka(groups={"on-1": Group(1, {0: 10}), "on-3": Group(3, {2: 30}), "on-2": Group(2, {1: 20})})


def restart_with_first_broker_back(collector: ClusterCollector, kafka: FakeKafka, first: int = 2) -> None:
    kafka.live = set()
    collector.run_cycle()  # cluster unreachable: the admin client is dropped
    kafka.live = {first}   # the reconnect bootstraps from the only broker back


def test_first_cycle_after_a_restart_with_one_broker_keeps_every_group_and_is_partial(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    before = lag(collector)
    assert before == {("on-1", 0): 90, ("on-2", 1): 180, ("on-3", 2): 270}
    groups_success = last_success(collector, "groups")
    restart_with_first_broker_back(collector, kafka)

    snapshot = collector.run_cycle()

    # Broker 2 lists only its own group and the coordinators of the others are not back: nothing confirms that
    # on-1 and on-3 are gone, so they stay, and the offline partitions keep their offsets (and lag).
    assert lag(collector) == before
    assert "groups" in snapshot.failed_phases
    assert last_success(collector, "groups") == groups_success
    now = collector._phase_success["cluster"] + 5
    ages = collector.data_ages(now)
    assert ages["groups"] > ages["cluster"] == 5
    assert collector.snapshot_age(now) == ages["groups"]


def test_without_the_partial_rule_the_empty_listing_would_have_dropped_the_groups(kafka):
    """The check above can fail: the same restart with broker 2 coordinating nothing lists no group at all."""
    kafka.groups["on-2"].coordinator = 1
    collector = make_collector(kafka)
    collector.run_cycle()
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    assert {g for g, _ in lag(collector)} == {"on-1", "on-2", "on-3"}


def test_client_metadata_missing_the_brokers_that_came_back_is_refreshed_in_the_same_cycle(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    kafka.live = {1, 2, 3}  # the other brokers registered; the client still knows only broker 2
    kafka.partitions = {0: (1, 150), 1: (2, 250), 2: (3, 350)}
    kafka.groups["on-3"].committed = {2: 330}

    snapshot = collector.run_cycle()

    assert not snapshot.failed_phases
    assert lag(collector) == {("on-1", 0): 140, ("on-2", 1): 230, ("on-3", 2): 20}
    refreshes = page(collector)["kafka_detective_metadata_refreshes_total"]
    assert refreshes[(("cluster", "t"), ("reason", "brokers"))] == 1
    assert {1, 3} <= set(kafka.backoff_resets)


def test_a_metadata_refresh_that_failed_is_not_tried_again_in_the_same_cycle(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    kafka.live = {1, 2, 3}       # the client knows only broker 2 and must refresh to reach the others...
    kafka.metadata_fails = True  # ...but its Metadata request goes unanswered
    attempts = kafka.refresh_attempts

    snapshot = collector.run_cycle()

    # One attempt (after DescribeCluster); the offsets and groups phases fail on the unknown brokers without
    # waiting for another, and the client is replaced next cycle.
    assert kafka.refresh_attempts - attempts == 1
    assert {"offsets", "groups"} <= snapshot.failed_phases
    assert collector._admin is None
    kafka.metadata_fails = False
    assert not collector.run_cycle().failed_phases


def test_a_stale_leader_error_refreshes_metadata_and_retries_the_phase_at_once(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    kafka.leaders_moved = True
    kafka.partitions = {0: (1, 111), 1: (2, 200), 2: (3, 300)}

    snapshot = collector.run_cycle()

    assert "offsets" not in snapshot.failed_phases
    assert lag(collector)[("on-1", 0)] == 101
    refreshes = page(collector)["kafka_detective_metadata_refreshes_total"]
    assert refreshes[(("cluster", "t"), ("reason", "error"))] == 1


@pytest.mark.parametrize("consumer_api, deleted", [
    (True, "on-3"),    # both describe APIs answer GROUP_ID_NOT_FOUND
    (False, "on-1"),   # a broker without ConsumerGroupDescribe: DescribeGroups' answer alone confirms it
], ids=["confirmed-by-its-coordinator", "broker-without-consumer-group-api"])
def test_a_deleted_group_leaves_at_once(kafka, consumer_api, deleted):
    kafka.consumer_api = consumer_api
    collector = make_collector(kafka)
    collector.run_cycle()
    del kafka.groups[deleted]

    snapshot = collector.run_cycle()

    assert "groups" not in snapshot.failed_phases
    assert {g for g, _ in lag(collector)} == {"on-1", "on-2", "on-3"} - {deleted}


def test_a_group_its_coordinator_does_not_list_yet_is_found_and_collected_fresh(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    kafka.unlisted = {"on-3"}
    kafka.groups["on-3"].committed = {2: 299}
    kafka.groups["on-3"].state = "Stable"
    kafka.sent.clear()

    snapshot = collector.run_cycle()

    assert "groups" not in snapshot.failed_phases
    assert lag(collector)[("on-3", 2)] == 1
    state = page(collector)["kafka_consumergroup_state"]
    assert state[(("cluster", "t"), ("consumergroup", "on-3"), ("state", "Stable"))] == 1
    # The presence check's describe is the group's description for the cycle: its coordinator is asked once.
    assert kafka.sent.count(("DescribeGroupsRequest", 3)) == 1, kafka.sent


def test_data_ages_grow_while_a_phase_fails_and_reset_when_it_succeeds(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    done = collector._phase_success["groups"]
    restart_with_first_broker_back(collector, kafka)
    collector.run_cycle()
    collector.run_cycle()
    assert collector.data_ages(done + 100)["groups"] == pytest.approx(100)
    assert collector.snapshot_age(done + 100) == pytest.approx(100)
    kafka.live = {1, 2, 3}
    collector.run_cycle()
    assert collector._phase_success["groups"] > done
    assert collector.data_ages()["groups"] < 5


def test_core_phases_report_an_age_from_start_before_their_first_success():
    collector = make_collector(FakeKafka(live=set()))
    collector.run_cycle()
    ages = collector.data_ages(collector._started + 42)
    assert {p: ages[p] for p in ("cluster", "offsets", "groups")} == {"cluster": 42, "offsets": 42, "groups": 42}


def test_the_scrape_reports_each_data_age_and_the_stalest_core_one_as_snapshot_age(kafka):
    from kafka_detective.serving.http import MetricsApp

    collector = make_collector(kafka)
    collector.run_cycle()
    collector._phase_success = {**collector._phase_success, "groups": collector._phase_success["groups"] - 300}
    body = MetricsApp(collector.exposition, [collector]).dynamic_body().decode()
    samples = {(s.name, s.labels.get("phase")): s.value for fam in text_string_to_metric_families(body)
               for s in fam.samples if s.name.startswith("kafka_detective_")}
    assert samples[("kafka_detective_data_age_seconds", "groups")] == pytest.approx(300, abs=5)
    assert samples[("kafka_detective_data_age_seconds", "cluster")] < 5
    assert samples[("kafka_detective_snapshot_age_seconds", None)] == samples[("kafka_detective_data_age_seconds",
                                                                               "groups")]


def test_groups_of_a_broker_whose_listing_failed_are_kept_without_asking_it_again(kafka):
    collector = make_collector(kafka)
    collector.run_cycle()
    kafka.listing_fails = {3}
    kafka.groups["on-1"].committed = {0: 50}
    kafka.sent.clear()

    snapshot = collector.run_cycle()

    assert "groups" in snapshot.failed_phases
    assert lag(collector) == {("on-1", 0): 50, ("on-2", 1): 180, ("on-3", 2): 270}
    # Broker 3 still leads a partition: only its ListOffsets goes there besides the listing that failed.
    assert not [(api, node) for api, node in kafka.sent
                if node == 3 and api not in ("ListGroupsRequest", "ListOffsetsRequest")]
