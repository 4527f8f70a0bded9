"""Errors of the local Kafka sandbox (the jars, the TLS material and the cluster share them)."""

from __future__ import annotations

from kafka_detective.errors import UserError


class MissingToolError(UserError):
    """Java 17+ or Maven is not installed: the message says what to install."""


class KafkaSandboxError(RuntimeError):
    """The local Kafka could not be fetched, formatted or started; the message points at the log."""
