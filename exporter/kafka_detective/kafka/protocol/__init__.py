"""Kafka protocol messages that kafka-python 3 does not ship.

kafka-python builds its request/response classes from Kafka's JSON message schemas; its metaclass reads
`<ClassName>.json` from the package named by the `load_json` class keyword, so the schemas beside this module
define the wire format. Importing this package registers the response classes with kafka-python's response
registry (keyed by API key), which is how the connection decodes a reply to a request we send.
"""

from __future__ import annotations

from kafka.protocol.api_message import ApiMessage

# `type: ignore[call-arg]` below: kafka-python is untyped, so mypy checks the `load_json` class keyword (taken by
# ApiMessage.__init_subclass__) against object.__init_subclass__.

class ConsumerGroupDescribeRequest(ApiMessage, load_json=__name__):  # type: ignore[call-arg]
    """ConsumerGroupDescribe (API key 69, KIP-848): describes `consumer`-protocol groups."""


class ConsumerGroupDescribeResponse(ApiMessage, load_json=__name__):  # type: ignore[call-arg]
    """Reply to ConsumerGroupDescribeRequest; one DescribedGroup per requested group id."""


__all__ = ["ConsumerGroupDescribeRequest", "ConsumerGroupDescribeResponse"]
