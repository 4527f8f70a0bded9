"""Where the Kafka Detective repository is (patterns/, alert-rules/, dashboards/, runbooks/, alertmanager/).

The tools are an installable wheel: they must not guess the repository from their own location in a source
tree. The root is, in this order, the one given with `--root`, the one named by `KAFKA_DETECTIVE_ROOT`, or the
nearest parent of the current directory (itself included) holding `patterns/config.yaml`.
"""

from __future__ import annotations

import os
from pathlib import Path

from kafka_detective.errors import UserError

ENV = "KAFKA_DETECTIVE_ROOT"
MARKER = Path("patterns") / "config.yaml"


def find_root(root: str | Path | None = None, start: Path | None = None) -> Path:
    """The repository root (see the module docstring); UserError saying how to point at it when not found."""
    explicit = root if root is not None else os.environ.get(ENV) or None
    if explicit is not None:
        path = Path(explicit).resolve()
        if not (path / MARKER).is_file():
            source = "--root" if root is not None else ENV
            raise UserError(f"{path}: no {MARKER.as_posix()} ({source} must name the Kafka Detective repository)")
        return path
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / MARKER).is_file():
            return candidate
    raise UserError(f"no {MARKER.as_posix()} in {here} or its parents: run from the Kafka Detective repository, "
                    f"pass --root DIR or set {ENV}")
