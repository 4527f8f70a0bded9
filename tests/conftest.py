"""Root pytest configuration: kept minimal; real-Kafka fixtures live in tests/integration/conftest.py."""

from __future__ import annotations

import pytest


def pytest_report_header(config: pytest.Config) -> str:
    # Which Kafka the integration tests run, and where its jars are cached, without starting anything.
    from kafka_detective_tools.sandbox.kafka_distribution import KAFKA_VERSION, distribution_dir

    return f"local Kafka: {KAFKA_VERSION} (jars cached in {distribution_dir()})"
