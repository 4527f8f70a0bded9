"""Pattern library: `patterns/**/*.yaml` + `patterns/config.yaml` → alert rules, runbooks, promtool tests,
Alertmanager example, docs/metrics.md and (through `dashboards.py`) Grafana dashboards.

Entry points: `loader.load_library(root, override)` — the one reader of the pattern YAML, giving the typed
`model.Library` that generate, learn, evaluate and the dashboards use — and `generator.build_outputs(library)`.
"""
