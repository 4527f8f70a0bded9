"""Headless Chromium (Debian's `chromium` package) for looking at the /detective pages as a person would.

Used by the browser test and by the demo, which keeps screenshots in its report folder. The flags keep Chromium
off the network (no component updates, no sync, no background fetches) and out of any shared profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")


class BrowserError(RuntimeError):
    pass


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    exe = chromium()
    if exe is None:
        raise BrowserError("chromium is not installed (Debian: apt-get install chromium, or make setup)")
    with tempfile.TemporaryDirectory(prefix="kd-chromium-") as profile:
        proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BrowserError(f"chromium exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return proc


def dump_dom(url: str, timeout: float = 60.0) -> str:
    """The DOM after Chromium loaded and parsed the page, serialised (what a person's browser would show)."""
    return _run(["--dump-dom", url], timeout).stdout


def screenshot(url: str, path: Path, width: int = 1280, height: int = 1400, timeout: float = 60.0) -> Path:
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={path}", f"--window-size={width},{height}", url], timeout)
    if not path.exists() or path.stat().st_size == 0:
        raise BrowserError(f"chromium wrote no screenshot to {path}")
    return path
