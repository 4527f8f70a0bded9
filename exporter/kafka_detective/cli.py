"""`kafka-detective` command line.

Every subcommand is a module that defines:

    NAME: str                      # the subcommand
    HELP: str                      # one line for `--help`
    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> int

The exporter's own commands (`serve`) are the modules of `kafka_detective.commands`. The investigation and
development tools (investigate, correlate, playbook, learn, simulate, evaluate, anomalies, generate, demo) live
in the separate `kafka-detective-tools` distribution, which registers its command modules under the
`kafka_detective.commands` entry-point group: the exporter knows none of them, and its image carries none.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import NoReturn

from kafka_detective import __version__, commands
from kafka_detective.errors import UserError
from kafka_detective.yamlio import describe_decode_error

TOOLS_DISTRIBUTION = "kafka-detective-tools"
ENTRY_POINT_GROUP = "kafka_detective.commands"


def _command_modules() -> list[ModuleType]:
    names = [f"{commands.__name__}.{info.name}" for info in pkgutil.iter_modules(commands.__path__)
             if not info.name.startswith("_")]
    found = [importlib.import_module(name) for name in sorted(names)]
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found.append(importlib.import_module(entry.value))
        except Exception as error:  # a broken tools install must not take `serve` down with it
            logging.getLogger(__name__).warning("command %s (%s) is unavailable: %s", entry.name, entry.value, error)
    return sorted((m for m in found if hasattr(m, "NAME") and hasattr(m, "run")), key=lambda m: m.NAME)


DEBUG_ENV = "KAFKA_DETECTIVE_DEBUG"


class _Parser(argparse.ArgumentParser):
    """Bad flags give one line (`kafka-detective correlate: error: argument --max-shift: ...`), not the usage
    block followed by the error; `--help` still shows the usage."""

    tools_missing = False   # set by build_parser when no tools command could be loaded

    def error(self, message: str) -> NoReturn:
        if "invalid choice" in message and self.tools_missing:
            message += f"; the investigation tools come with `pip install {TOOLS_DISTRIBUTION}`"
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kafka-detective",
        description="Kafka Detective: consumer lag, data loss and cluster health for Prometheus, "
        "with forecasts, anomaly scores and root-cause analysis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--log-level", default=None, help="debug, info, warning or error (default: info)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = _command_modules()
    parser.tools_missing = all(m.__name__.startswith(f"{commands.__name__}.") for m in modules)
    for module in modules:
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        if hasattr(module, "add_arguments"):
            module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:   # --help, --version, or a bad flag (already printed as one line)
        return stop.code if isinstance(stop.code, int) else 2
    level = (args.log_level or "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except UserError as error:
        print(f"kafka-detective {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kafka-detective simulate --list | head`: the reader left; nothing useful can be printed anywhere.
        _silence_stdout()
        return 1
    except (OSError, UnicodeError) as error:
        # Last resort for what no command turned into a UserError: one line, not a traceback. Tests and bug
        # reports set KAFKA_DETECTIVE_DEBUG=1 to see where it came from.
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"kafka-detective: error: {describe_error(error)}", file=sys.stderr)
        return 1


def describe_error(error: BaseException) -> str:
    """One line for an OSError or a Unicode error, naming the file when the error knows it."""
    if isinstance(error, UnicodeDecodeError):
        return f"input is {describe_decode_error(error)}"
    if isinstance(error, OSError):
        reason = error.strerror or str(error) or type(error).__name__
        files = [str(f) for f in (error.filename, error.filename2) if f is not None]
        return f"{reason}: {' -> '.join(files)}" if files else reason
    return str(error) or type(error).__name__


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
