"""The configuration tests run the real CLI: `serve --config FILE --check-config [flags]`, in process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kafka_detective.cli import main


@pytest.fixture
def check(tmp_path: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[int, list[str], str]]]:
    """Write the config (text or bytes) and check it: (exit code, stderr lines, stdout); never a traceback."""
    root = logging.getLogger()
    level = root.level
    for name in ("KAFKA_DETECTIVE_CONFIG", "KAFKA_DETECTIVE_BOOTSTRAP_SERVERS", "KAFKA_DETECTIVE_INTERVAL_SECONDS",
                 "KAFKA_DETECTIVE_LISTEN_PORT"):
        monkeypatch.delenv(name, raising=False)

    def run(content: str | bytes, *flags: str) -> tuple[int, list[str], str]:
        path = tmp_path / "config.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        code = main(["serve", "--config", str(path), "--check-config", *flags])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.err.strip().splitlines(), captured.out

    yield run
    root.setLevel(level)   # serve sets the root logger's level from the config
