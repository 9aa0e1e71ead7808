"""`spse-change` entry point: parse, call a service, print, exit.

User errors (:class:`SpseChangeError`) become one line on stderr and their
exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from spse_change import __version__
from spse_change.cli import baseline, diff, drift
from spse_change.errors import RC, SpseChangeError

COMMANDS = (baseline, diff, drift)


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default), never a usage dump on stdout."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(RC.USER_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="spse-change", description=(
        "Record, classify and apply infrastructure changes on SPSE servers, "
        "following the LKPP change SOP."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--project", metavar="DIR",
                        help="project folder holding change_records/ (default: $SPSE_CHANGE_PROJECT or .)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SpseChangeError as exc:
        if args.debug:
            raise
        print(f"spse-change: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("spse-change: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
