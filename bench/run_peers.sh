#!/usr/bin/env bash
# Kafka Detective vs kafka_exporter vs kminion on one local Kafka broker with the same workload.
#
#   bash bench/run_peers.sh [peers_bench.py options, e.g. --estates 100x1000,2000x10000 --out DIR]
#
# Run from the repository root with the project installed (`make setup`), Java 17+ (the project's LocalKafka)
# and Go (to build the peers). On a machine shared with other heavy jobs run it under their lock, e.g.
# `flock "$TMPDIR/kafka-heavy.lock" bash bench/run_peers.sh`.
#
# Environment:
#   PEERS_BIN   where the peer binaries live / are built   (default: $HOME/.cache/kafka-detective-peers/bin)
#   PEERS_SRC   source trees to build from when the Go module proxy refuses a module: PEERS_SRC/kafka_exporter
#               and PEERS_SRC/kminion, each with its go.mod (e.g. checkouts of the v1.9.0 and v2.3.5 tags)
#   PEERS_SNAPSHOTS  a directory of source snapshots (kafka_exporter-*-src.tar.gz, kminion-*-src.tar.gz) to
#               unpack into PEERS_SRC when PEERS_SRC is not set
#   PYTHON      the Python that has kafka_detective installed (default: python3)
#   KAFKA_EXPORTER_KAFKA_VERSION   --kafka.version given to kafka_exporter (default 4.0.0, sarama's newest)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS_BIN="${PEERS_BIN:-$HOME/.cache/kafka-detective-peers/bin}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$PEERS_BIN"
# Source snapshots of the peers (kafka_exporter v1.9.0, kminion v2.3.5), if given; their Go dependencies come
# from the Go module proxy.
if [[ -z "${PEERS_SRC:-}" && -n "${PEERS_SNAPSHOTS:-}" ]]; then
    PEERS_SRC="$(mktemp -d)"
    for t in "$PEERS_SNAPSHOTS"/*-src.tar.gz; do tar -xzf "$t" -C "$PEERS_SRC"; done
fi

# build NAME MODULE@VERSION: go install from the module proxy; else go build from $PEERS_SRC/NAME; else skip.
build() {
    local name="$1" module="$2"
    if [[ -x "$PEERS_BIN/$name" ]]; then
        echo "peer $name: $PEERS_BIN/$name ($(cat "$PEERS_BIN/$name.version" 2>/dev/null || echo 'version unknown'))"
        return
    fi
    echo "peer $name: go install $module"
    if GOBIN="$PEERS_BIN" go install "$module" 2>"$PEERS_BIN/$name.build.log"; then
        echo "$module" >"$PEERS_BIN/$name.version"
        return
    fi
    echo "  the module proxy refused or the build failed: $(tail -n 2 "$PEERS_BIN/$name.build.log" | tr '\n' ' ')"
    local src="${PEERS_SRC:-}/$name"
    if [[ -n "${PEERS_SRC:-}" && -f "$src/go.mod" ]]; then
        echo "  building from $src instead"
        local ldflags=""
        if [[ "$name" == kafka_exporter && -f "$src/VERSION" ]]; then
            ldflags="-X github.com/prometheus/common/version.Version=$(cat "$src/VERSION")"
        fi
        (cd "$src" && go build -ldflags "$ldflags" -o "$PEERS_BIN/$name" .) >>"$PEERS_BIN/$name.build.log" 2>&1 \
            && { echo "source $src ($(cat "$src/VERSION" 2>/dev/null || echo '?'))" >"$PEERS_BIN/$name.version"; return; }
        echo "  go build failed too: $(tail -n 3 "$PEERS_BIN/$name.build.log" | tr '\n' ' ')"
    fi
    echo "  $name is skipped"
}

# Only the peers the run measures (--only NAMES, default all three).
only="kafka-detective,kafka_exporter,kminion"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --only) only="${args[i + 1]:-}" ;;
        --only=*) only="${args[i]#--only=}" ;;
    esac
done
[[ ",$only," == *",kafka_exporter,"* ]] && build kafka_exporter github.com/danielqsj/kafka_exporter@v1.9.0
# The versions the issue measured (the snapshots in PEERS_SNAPSHOTS are the same tags).
# kminion's go.mod says github.com/cloudhut/kminion/v2 (the repository moved to redpanda-data, the path did not)
[[ ",$only," == *",kminion,"* ]] && build kminion github.com/cloudhut/kminion/v2@v2.3.5

exec "$PYTHON" "$here/peers_bench.py" --bin "$PEERS_BIN" "$@"
