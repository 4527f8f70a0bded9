"""Kafka Detective's tools beside the exporter: investigation (investigate, correlate, playbook, learn), scenarios
(simulate, evaluate, anomalies), the pattern-library generator and the local sandbox behind the demo and the tests."""
