"""kafka_detective_tools.repo.find_root: the one way the tools find the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_detective.errors import UserError
from kafka_detective_tools.repo import ENV, find_root


def repository(path: Path) -> Path:
    (path / "patterns").mkdir(parents=True)
    (path / "patterns" / "config.yaml").write_text("_config: {}\n")
    return path


def test_the_nearest_parent_holding_patterns_config_is_the_root(tmp_path: Path, monkeypatch) -> None:
    root = repository(tmp_path / "repo")
    nested = root / "docs" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.delenv(ENV, raising=False)
    assert find_root(start=nested) == root.resolve()
    monkeypatch.chdir(nested)
    assert find_root() == root.resolve()


def test_an_explicit_root_wins_over_the_environment_and_the_current_directory(tmp_path: Path, monkeypatch) -> None:
    here = repository(tmp_path / "here")
    named = repository(tmp_path / "named")
    given = repository(tmp_path / "given")
    monkeypatch.chdir(here)
    monkeypatch.setenv(ENV, str(named))
    assert find_root() == named.resolve()
    assert find_root(given) == given.resolve()


def test_a_root_without_patterns_config_is_a_user_error_naming_the_way_out(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(UserError, match="--root"):
        find_root(tmp_path)
    monkeypatch.setenv(ENV, str(tmp_path))
    with pytest.raises(UserError, match=ENV):
        find_root()
    monkeypatch.delenv(ENV)
    with pytest.raises(UserError, match=f"pass --root DIR or set {ENV}"):
        find_root(start=tmp_path)
