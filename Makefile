# Kafka Detective — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
export PATH := $(HOME)/.cache/kafka-detective/bin:$(PATH)

.PHONY: setup demo test test-unit lint generate check-generated bench

setup:            ## install everything the tests and the demo need (idempotent)
	bash scripts/setup.sh

demo: setup       ## start a local Kafka, the exporter, Prometheus, Alertmanager and a case study
	$(PYTHON) -m kafka_detective demo $(DEMO_ARGS)

test: setup       ## every test: lint, generated artefacts, unit, rules, helm, integration, end to end
	$(MAKE) lint check-generated
	bash scripts/pytest.sh

lint:
	$(PYTHON) -m ruff check exporter tools tests bench
	$(PYTHON) -m mypy   # strict for the runtime, lenient for the tools ([tool.mypy] in pyproject.toml)
	lint-imports   # the import contracts of .importlinter: the runtime is a one-way pipeline

generate:         ## regenerate alert rules, runbooks, dashboards, docs/metrics.md and the chart's copies
	$(PYTHON) -m kafka_detective generate

check-generated:  ## fail when regenerating would change anything
	$(PYTHON) -m kafka_detective generate --check

bench:            ## collection cycle at 100-5,000 groups on a local broker: CPU, wall, RSS, series, scrape latency
	$(PYTHON) bench/collection_cycle.py --json bench/results/collection_cycle.json --markdown bench/results/collection_cycle.md
