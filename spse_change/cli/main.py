"""`spse-change` entry point: parse, call a service, print, exit.

User errors (:class:`SpseChangeError`) become one line on stderr and their
exit code, and so do the environment's (a read-only or missing file: exit 2).
Ctrl-C anywhere is one line and exit 130, SIGTERM one line and 143 (a
capture or drift under way also names the hosts it did not finish). A reader that goes away (`| head`)
ends us quietly with exit 141, as SIGPIPE would. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence

from spse_change import __version__
from spse_change.errors import RC, SpseChangeError

# command -> the module of spse_change.cli that registers it, in --help order. Only the module of
# the command being run is imported: a cron capture does not load reports, records or pytest.
COMMANDS = {
    "baseline": "baseline", "diff": "diff", "policy": "diff", "drift": "drift",
    "record": "record", "plan": "change", "apply": "change", "rollback": "change",
    "verify": "verify", "report": "report", "monitor": "monitor", "consult": "consult",
    "node": "node",
}


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default), never a usage dump on stdout."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(RC.USER_ERROR, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI, or (given a known `command`) only the module that registers that command."""
    parser = Parser(prog="spse-change", description=(
        "Record, classify and apply infrastructure changes on SPSE servers, "
        "following the LKPP change SOP."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--project", metavar="DIR",
                        help="project folder holding change_records/ (default: $SPSE_CHANGE_PROJECT or .)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=Parser)
    wanted = [COMMANDS[command]] if command in COMMANDS else COMMANDS.values()
    for module in dict.fromkeys(wanted):
        importlib.import_module(f"spse_change.cli.{module}").register(sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The first word that is neither an option nor --project's value: the command asked for."""
    words = iter(argv)
    for word in words:
        if word == "--project":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


class Terminated(BaseException):
    """SIGTERM outside a playbook run: unwind like Ctrl-C (half-written files go), then one line."""


def _terminate(_signum: int, _frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command(argv)).parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush
        return RC.BROKEN_PIPE
    except SpseChangeError as exc:
        if args.debug:
            raise
        return _error(exc.message, exc.code)
    except OSError as exc:
        if args.debug or exc.filename is None:
            raise
        return _error(f"{exc.filename}: {exc.strerror}", RC.USER_ERROR)
    except KeyboardInterrupt:
        return _error("interrupted", RC.INTERRUPTED)
    except Terminated:
        return _error("terminated", RC.TERMINATED)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _error(message: str, code: int) -> int:
    print(f"spse-change: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
