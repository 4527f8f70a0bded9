#!/usr/bin/env bash
# Installs everything the tests and the demo need, idempotently. Safe to run on a fresh machine and on every
# `make test`: each step checks first and only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION="v3.22.0"
TOOLS_BIN="${HOME}/.cache/kafka-detective/bin"
PYTHON="${PYTHON:-python3}"
mkdir -p "$TOOLS_BIN"
export PATH="$TOOLS_BIN:$PATH"

say() { printf '==> %s\n' "$*"; }
need_root() {
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "error: $1 is missing and cannot be installed without root; install it: $2" >&2
    exit 1
  fi
}
apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ ! -f /tmp/.kafka-detective-apt-updated ]; then
    $sudo apt-get update -qq && touch /tmp/.kafka-detective-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# --- Python -------------------------------------------------------------------------------------------------
"$PYTHON" - <<'PY' || { echo "error: Python 3.11+ is required (found $($PYTHON --version 2>&1))" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
# Two distributions, both editable: the exporter (kafka-detective, exporter/) and its tools
# (kafka-detective-tools, tools/: investigation CLI, scenarios, generator, sandbox) with the test dependencies.
installed_at() { "$PYTHON" -c "import $1, os; print(os.path.realpath($1.__path__[0]))" 2>/dev/null || true; }
if ! "$PYTHON" -c "import kafka_detective, kafka_detective_tools, _jsonnet, numpy, scipy, matplotlib, pytest, ruff, mypy, importlinter, confluent_kafka, kubernetes_validate, wheel" 2>/dev/null \
   || [ "$(installed_at kafka_detective)" != "$(realpath exporter/kafka_detective)" ] \
   || [ "$(installed_at kafka_detective_tools)" != "$(realpath tools/kafka_detective_tools)" ]; then
  say "installing the exporter, its tools and the test dependencies"
  "$PYTHON" -m pip install -q --disable-pip-version-check -e . -e "./tools[dev]"
fi

# --- Java and Maven (the local Kafka broker) ---------------------------------------------------------------
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ] || ! command -v mvn >/dev/null; then
  need_root "Java 17+ and Maven" "apt-get install openjdk-17-jre-headless maven"
  say "installing Java 17 and Maven"
  apt_install openjdk-17-jre-headless maven
fi

# --- Prometheus, promtool, Alertmanager, amtool (Debian packages) -------------------------------------------
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null || ! command -v amtool >/dev/null \
   || ! command -v prometheus-alertmanager >/dev/null; then
  need_root "Prometheus/Alertmanager" "apt-get install prometheus prometheus-alertmanager"
  say "installing Prometheus and Alertmanager (Debian packages)"
  apt_install prometheus prometheus-alertmanager
  # The packages start system services we do not use; the tests run their own instances.
  (systemctl stop prometheus prometheus-alertmanager prometheus-node-exporter 2>/dev/null || true)
  (service prometheus stop; service prometheus-alertmanager stop; service prometheus-node-exporter stop) >/dev/null 2>&1 || true
fi

# --- Chromium (Debian package): the browser test of the /detective pages (tests/e2e/test_detective_browser.py) ---
if ! command -v chromium >/dev/null; then
  need_root "Chromium" "apt-get install chromium"
  say "installing Chromium (Debian package)"
  apt_install chromium
fi

# --- helm, built from the Go module proxy at a pinned version -------------------------------------------------
# A helm built by `go install` reports only its minor version, so the pinned version is kept in a stamp file.
if ! [ -x "$TOOLS_BIN/helm" ] || [ "$(cat "$TOOLS_BIN/.helm-version" 2>/dev/null)" != "$HELM_VERSION" ]; then
  command -v go >/dev/null || { echo "error: Go is needed to build helm ${HELM_VERSION}: install golang" >&2; exit 1; }
  say "building helm ${HELM_VERSION} (go install)"
  GOBIN="$TOOLS_BIN" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
  echo "$HELM_VERSION" > "$TOOLS_BIN/.helm-version"
fi

# --- Kafka broker and tools jars (Maven Central, cached outside the repo) ---------------------------------
say "Kafka distribution: $("$PYTHON" -c 'from kafka_detective_tools.sandbox.kafka_distribution import ensure_kafka_distribution as e; print(e())')"
# and the older releases the compatibility tests run against (tests/integration/test_compat_kafka39.py)
say "Kafka distributions for compatibility tests: $("$PYTHON" -c 'from kafka_detective_tools.sandbox.kafka_distribution import COMPAT_KAFKA_VERSIONS as V, ensure_kafka_distribution as e; print(" ".join(str(e(version=v)) for v in V))')"

# --- Go modules of the chart's CRD checker (the Prometheus Operator's API types), fetched once ----------------
if [ -d tests/helm/crdcheck ]; then
  say "warming the CRD checker's Go modules"
  (cd tests/helm/crdcheck && go mod download && go build -o /dev/null .)
fi
say "setup complete"
