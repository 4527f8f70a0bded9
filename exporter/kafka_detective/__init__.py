"""Kafka Detective: a Prometheus exporter and alerting bundle that diagnoses Kafka production mysteries."""

__version__ = "0.1.0"
