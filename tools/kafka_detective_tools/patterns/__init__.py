"""Pattern library: `patterns/**/*.yaml` + `patterns/config.yaml` → alert rules, runbooks, promtool tests,
Alertmanager example, docs/metrics.md and (through `dashboards.py`) Grafana dashboards.

Entry points: `loader.load_library(root, override)` and `generator.build_outputs(library)`.
"""
