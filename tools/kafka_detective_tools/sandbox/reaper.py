"""A reaper process that kills the sandbox's JVMs if this Python process dies without cleaning up.

Every JVM runs in its own process group and is registered with the reaper, so an interrupted test run (even by
SIGKILL) never leaves brokers behind; temporary directories registered with it are removed too.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger(__name__)

# Runs as a separate process reading commands on stdin. EOF means the parent is gone (exit, crash, SIGKILL):
# then it terminates every registered process group and removes registered temporary directories.
_REAPER_CODE = r"""
import os, shutil, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
groups, dirs = set(), set()
for line in sys.stdin:
    op, _, arg = line.rstrip("\n").partition(" ")
    if op == "+g": groups.add(int(arg))
    elif op == "-g": groups.discard(int(arg))
    elif op == "+d": dirs.add(arg)
    elif op == "-d": dirs.discard(arg)
def alive(g):
    try:
        os.killpg(g, 0)
        return True
    except OSError:
        return False
for g in list(groups):
    try: os.killpg(g, signal.SIGTERM)
    except OSError: pass
deadline = time.time() + 10
while time.time() < deadline and any(alive(g) for g in groups):
    time.sleep(0.2)
for g in groups:
    try: os.killpg(g, signal.SIGKILL)
    except OSError: pass
time.sleep(0.5)
for d in dirs:
    shutil.rmtree(d, ignore_errors=True)
"""


class Reaper:
    _lock = threading.Lock()
    _proc: subprocess.Popen[str] | None = None
    _pid: int | None = None

    @classmethod
    def send(cls, line: str) -> None:
        with cls._lock:
            # A forked child (multiprocessing) must not reuse the parent's reaper: its EOF would never come.
            if cls._proc is None or cls._pid != os.getpid() or cls._proc.poll() is not None:
                cls._proc = subprocess.Popen(
                    [sys.executable, "-c", _REAPER_CODE],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    start_new_session=True,
                )
                cls._pid = os.getpid()
            assert cls._proc.stdin is not None
            try:
                cls._proc.stdin.write(line + "\n")
                cls._proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                log.warning("kafka sandbox reaper is gone; JVMs are only cleaned up by this process")
