"""The one YAML reader of the package: strict, bounded, and failing with one line that names file and line.

PyYAML's `safe_load` keeps the last of two equal keys (a typo'd override silently wins or loses), and its
composer recurses once per nesting level, so a few hundred `[` end in a `RecursionError` traceback. Every YAML
file the package reads — the exporter config, the pattern library, scenario ground truth, incidents — goes
through `load_file` / `loads` here instead, which reject duplicate keys and nesting deeper than `MAX_DEPTH`,
and turn every failure (unreadable file, bytes that are not UTF-8, YAML syntax) into a `YamlError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from kafka_detective.errors import UserError

# Far deeper than any file the package reads (the pattern library nests 6 levels), far shallower than the
# ~300 levels at which the recursive composer exhausts Python's stack.
MAX_DEPTH = 64
NEWLINE = b"\n"


class YamlError(UserError):
    """A YAML file that cannot be read or parsed; `line` is 1-based when known."""

    def __init__(self, source: str, problem: str, line: int | None = None) -> None:
        super().__init__(f"{source}{f' line {line}' if line else ''}: {problem}")
        self.source = source
        self.problem = problem
        self.line = line


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys and nesting deeper than MAX_DEPTH."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                # PyYAML's stubs leave the parser's peek_event unannotated.
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                    self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Checked before the merge keys (`<<`) are flattened in: overriding a merged key is intended YAML.
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            try:
                seen = first_line.get(key)
            except TypeError:
                continue
            if seen is not None:
                raise ConstructorError(None, None, f"duplicate key {key!r} (first defined on line {seen})",
                                       key_node.start_mark)
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def loads(text: str, source: str) -> Any:
    """Parse one YAML document; `source` names it in errors (usually the file path)."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if error.context and error.problem and not isinstance(error, ConstructorError):
            problem = f"{error.problem} ({error.context})"
        return _raise(source, f"invalid YAML: {problem}", mark.line + 1 if mark else None)
    except yaml.YAMLError as error:  # ReaderError (control characters) and friends carry no problem_mark
        line = None
        position = getattr(error, "position", None)
        if isinstance(position, int):
            line = text.count("\n", 0, position) + 1
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        return _raise(source, f"invalid YAML: {reason}", line)
    except RecursionError:  # belt and braces: MAX_DEPTH should stop it first
        return _raise(source, "invalid YAML: nested too deeply")


def _raise(source: str, problem: str, line: int | None = None) -> Any:
    raise YamlError(source, problem, line) from None


def read_text(path: str | Path, what: str = "") -> str:
    """A UTF-8 text file, or a UserError naming it: unreadable, or not UTF-8 (with the line of the bad byte)."""
    label = f"{what} {path}" if what else str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {label}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{label}: {describe_decode_error(error, data)}") from None


def describe_decode_error(error: UnicodeDecodeError, data: bytes | None = None, line: int | None = None) -> str:
    """'not UTF-8 text: byte 0xff at line 3'; the line is counted in `data` (the whole file) when not given."""
    bad = error.object[error.start:error.start + 1] if error.object else b""
    byte = f"byte 0x{bad.hex()}" if bad else "a byte"
    if line is None and data is not None:
        line = data.count(NEWLINE, 0, error.start) + 1
    return f"not UTF-8 text: {byte} at line {line}" if line else f"not UTF-8 text: {byte}"


def text_lines(handle: Iterable[bytes], label: str) -> Iterator[tuple[int, str]]:
    """(line number, text ending in '\\n') of a file opened in binary mode, decoded line by line so that a byte
    that is not UTF-8 is reported with its exact line, streaming (traces can be large)."""
    for lineno, raw in enumerate(handle, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UserError(f"{label}: {describe_decode_error(error, line=lineno)}") from None
        yield lineno, text.rstrip("\r\n") + "\n"


def load_file(path: str | Path, what: str = "") -> Any:
    """Read and parse a YAML file strictly; every failure is one line naming the file (and the line)."""
    text = read_text(path, what)
    return loads(text, f"{what} {path}" if what else str(path))
