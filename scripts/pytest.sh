#!/usr/bin/env bash
# Runs the whole test suite. pytest exits 5 when it collected no test: that is a failure here, not a pass,
# because it means the suite silently lost its tests.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="${HOME}/.cache/kafka-detective/bin:$PATH"
python3 -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
