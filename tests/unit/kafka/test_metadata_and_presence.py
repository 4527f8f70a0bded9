"""Which errors fresh metadata cures, and what the describe APIs' answers say about a group that went missing."""

import kafka.errors as Errors
import pytest

from kafka_detective.gathering.snapshot import PartialResult
from kafka_detective.kafka import metadata
from kafka_detective.kafka.groups import GroupListingIncomplete
from kafka_detective.kafka.presence import ABSENT, PRESENT, UNKNOWN, Presence, combine, verdict


@pytest.mark.parametrize("error, stale, now", [
    (Errors.UnknownBrokerIdError(1), True, True),
    (Errors.NotLeaderForPartitionError("moved"), True, True),
    (Errors.NotCoordinatorError("moved"), True, True),
    (Errors.NodeNotReadyError(3), True, True),
    (Errors.KafkaConnectionError("refused"), True, False),        # cured by a refresh, but it cost a timeout
    (Errors.GroupAuthorizationFailedError("acl"), False, False),
    (ValueError("bug"), False, False),
])
def test_stale_metadata_errors(error, stale, now):
    assert metadata.stale_metadata(error) is stale
    assert metadata.retry_now(error) is now


def test_causes_inside_partial_failures_and_listings_count():
    listing = GroupListingIncomplete({}, {1: Errors.UnknownBrokerIdError(1), 3: Errors.UnknownBrokerIdError(3)})
    assert metadata.stale_metadata(listing) and metadata.retry_now(listing)
    partial = PartialResult("offsets", None, {2: Errors.NotLeaderForPartitionError("x")})
    assert metadata.stale_metadata(partial) and metadata.retry_now(partial)
    slow = PartialResult("offsets", None, {2: Errors.NotLeaderForPartitionError("x"), 3: Errors.KafkaTimeoutError()})
    assert metadata.stale_metadata(slow) and not metadata.retry_now(slow)
    try:
        raise PartialResult("groups", None) from Errors.UnknownBrokerIdError(1)
    except PartialResult as chained:
        assert metadata.stale_metadata(chained)
    assert not metadata.stale_metadata(PartialResult("groups: 2 groups unconfirmed", None))


@pytest.mark.parametrize("error_code, state, said", [
    (0, "Stable", PRESENT),
    (0, "Empty", PRESENT),
    (0, "Dead", ABSENT),                                   # brokers before 4.0 answer an unknown group so
    (Errors.GroupIdNotFoundError.errno, "Dead", ABSENT),   # 4.x, or a group of the other protocol
    (Errors.UnsupportedVersionError.errno, "", ABSENT),    # ConsumerGroupDescribe on 3.9, consumer protocol off
    (Errors.CoordinatorLoadInProgressError.errno, "", UNKNOWN),
    (Errors.NotCoordinatorError.errno, "", UNKNOWN),
    (Errors.GroupAuthorizationFailedError.errno, "", ABSENT),  # ListGroups hides it from us too
    (Errors.CoordinatorNotAvailableError.errno, "", UNKNOWN),
])
def test_verdict_of_one_describe_answer(error_code, state, said):
    assert verdict(error_code, state) == said


def test_a_group_is_gone_only_when_every_api_says_so():
    presence = Presence()
    combine("kip848", 2, {"classic": ABSENT, "consumer": PRESENT}, presence)
    combine("deleted", 2, {"classic": ABSENT, "consumer": ABSENT}, presence)
    combine("loading", 2, {"classic": UNKNOWN, "consumer": ABSENT}, presence)
    combine("unanswered", 2, {}, presence)
    assert presence.found == {"kip848": (2, "consumer")}
    assert presence.gone == {"deleted"}
    assert presence.unknown == {"loading", "unanswered"}
