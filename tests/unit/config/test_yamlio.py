"""The package's one YAML reader: duplicate keys, nesting depth, bytes that are not UTF-8, and that every reader
(exporter config, pattern library, ground truth, incidents) goes through it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kafka_detective import yamlio
from kafka_detective.errors import UserError


def error_of(text: str) -> yamlio.YamlError:
    with pytest.raises(yamlio.YamlError) as caught:
        yamlio.loads(text, "f.yaml")
    return caught.value


def test_duplicate_keys_are_rejected_with_both_lines() -> None:
    error = error_of("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (error.line, error.problem) == (4, "invalid YAML: duplicate key 'c' (first defined on line 3)")
    assert str(error) == "f.yaml line 4: invalid YAML: duplicate key 'c' (first defined on line 3)"
    # keys equal as values are duplicates even when spelled differently
    assert "duplicate key 1" in error_of("1: a\n0x1: b\n").problem
    assert "duplicate key 'x'" in error_of("{x: 1, 'x': 2}").problem


def test_merge_keys_may_be_overridden() -> None:
    assert yamlio.loads("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n", "f") == {
        "base": {"x": 1, "y": 2}, "d": {"x": 3, "y": 2}}


@pytest.mark.parametrize("text", ["[" * 3000 + "]" * 3000, "- " * 200 + "x", "{a: " * 500 + "1" + "}" * 500])
def test_deep_nesting_is_an_error_not_a_recursion_error(text: str) -> None:
    assert "nested deeper than 64 levels" in error_of(text).problem


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = yamlio.MAX_DEPTH - 1
    value = yamlio.loads("[" * depth + "1" + "]" * depth, "f")
    for _ in range(depth):
        value = value[0]
    assert value == 1


def test_syntax_and_reader_errors_carry_the_line() -> None:
    error = error_of("a: 1\nb: [1, 2\n")
    assert error.line == 3 and error.problem.startswith("invalid YAML: expected ',' or ']'")
    error = error_of("a: 1\nb: \x07\n")
    assert error.line == 2 and "special characters are not allowed" in error.problem


def test_read_text_names_the_file_and_the_line_of_a_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nb: 2\nc: caf\xe9\n")
    with pytest.raises(UserError, match=rf"^incident {path}: not UTF-8 text: byte 0xe9 at line 3$"):
        yamlio.load_file(path, "incident")
    with pytest.raises(UserError, match=rf"^cannot read incident {tmp_path / 'none'}: No such file or directory$"):
        yamlio.load_file(tmp_path / "none", "incident")
    with pytest.raises(UserError, match="Is a directory"):
        yamlio.load_file(tmp_path)


def test_text_lines_streams_and_reports_the_exact_line() -> None:
    assert list(yamlio.text_lines(io.BytesIO(b"a\r\nb\nc"), "t")) == [(1, "a\n"), (2, "b\n"), (3, "c\n")]
    lines = yamlio.text_lines(io.BytesIO(b"ok\n" * 5000 + b"\xff\n"), "trace t.om")
    with pytest.raises(UserError, match=r"^trace t.om: not UTF-8 text: byte 0xff at line 5001$"):
        list(lines)


def test_every_yaml_reader_of_the_package_is_strict(tmp_path: Path) -> None:
    """No module parses YAML with PyYAML's lenient loaders: they would accept duplicate keys again."""
    package = Path(yamlio.__file__).parent
    lenient = []
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("yaml.safe_load(", "yaml.load(", "yaml.full_load(", "yaml.unsafe_load(", "yaml.safe_load_all("):
            if needle in text and path.name != "yamlio.py":
                lenient.append(f"{path.relative_to(package)}: {needle}")
    # sandbox/stack.py deep-copies a dict it dumped itself; the web config has its own strict loader
    allowed = {"sandbox/stack.py: yaml.safe_load(", "serving/web_config.py: yaml.load("}
    assert sorted(set(lenient) - allowed) == []


def test_pattern_library_rejects_duplicate_keys(tmp_path: Path) -> None:
    from kafka_detective_tools.patterns.loader import PatternError, load_library

    root = Path(__file__).resolve().parents[3]
    patterns = tmp_path / "patterns"
    patterns.mkdir()
    (patterns / "config.yaml").write_text((root / "patterns" / "config.yaml").read_text())
    (patterns / "x.yaml").write_text("alert: A\nseverity: warning\nalert: B\n")
    with pytest.raises(PatternError) as caught:
        load_library(tmp_path)
    assert str(caught.value) == ("patterns/x.yaml: field '(file, line 3)': invalid YAML: duplicate key 'alert' "
                                 "(first defined on line 1)")


def test_ground_truth_rejects_duplicate_keys(tmp_path: Path) -> None:
    from kafka_detective_tools.scenarios.trace import load_truth

    path = tmp_path / "s.truth.yaml"
    path.write_text("name: s\nstart: 0\nstart: 60\n")
    with pytest.raises(UserError, match=r"^ground truth .*s\.truth\.yaml line 3: invalid YAML: duplicate key"):
        load_truth(path)
