"""When CPython's cyclic garbage collector examines the old objects: between two cycles, every few minutes.

A cycle at 2,000 groups x 10,000 partitions allocates a few hundred thousand container objects that live about
one cycle (decoded Kafka answers, the snapshot, the rendered families), and ~200,000 stay alive at any moment.
With the default thresholds (700, 10, 10) enough of them reached the oldest generation to trigger two or three
full collections per cycle: 0.13 s each on a quiet machine and 0.3 s under load, ~0.35 s of CPU per cycle in
all, each holding the GIL from start to end — the scrapes that arrived then waited for it (scrape latencies of
100-300 ms measured during cycles, see docs/benchmarks.md).

So the young generations keep their default thresholds (their passes are short: most cyclic garbage, such as
kafka-python's futures and callbacks, dies there), the automatic full collection is disabled, and a loop runs
one full collection after a cycle when the last one is `FULL_COLLECTION_SECONDS` old: whatever cyclic garbage
survived into the old generation is freed within five minutes instead of within a cycle. The objects that exist
once the exporter is set up (modules, classes, configuration) are frozen, so no collection examines them.
"""

from __future__ import annotations

import gc
import threading
import time

FULL_COLLECTION_SECONDS = 300.0
# Full collections only when asked: the oldest generation's threshold counts young (generation-1) passes, a few
# dozen per cycle, so this one is never reached.
_NEVER = 1 << 30

_lock = threading.Lock()
_last_full = time.monotonic()


def install() -> None:
    """Take over the timing of full collections for this process (once the exporter is set up)."""
    young, middle, _ = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young, middle, _NEVER)


def after_cycle() -> None:
    """Run a full collection if the last one is `FULL_COLLECTION_SECONDS` old (called by every cluster's loop)."""
    global _last_full
    with _lock:
        if time.monotonic() - _last_full < FULL_COLLECTION_SECONDS:
            return
        _last_full = time.monotonic()
    gc.collect()
