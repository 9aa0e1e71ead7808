"""Every command's help prints, and says what each of its arguments is."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from spse_change.cli.main import build_parser


def commands(parser: argparse.ArgumentParser, name: str = "spse-change"
             ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for verb, sub in action.choices.items():
                yield from commands(sub, f"{name} {verb}")


def test_every_help_prints() -> None:
    """argparse formats help with %: a stray one (a log_line_prefix default) is a traceback."""
    seen = [name for name, parser in commands(build_parser()) if parser.format_help()]
    assert "spse-change consult check" in seen and "spse-change baseline import" in seen


def test_every_argument_says_what_it_is() -> None:
    """A bare record ID is self-explanatory; anything else without help leaves the admin guessing."""
    bare = [f"{name} {action.dest}" for name, parser in commands(build_parser())
            for action in parser._actions
            if not action.help and action.dest != "id" and not isinstance(action, argparse._SubParsersAction)]
    assert bare == []


def test_every_command_has_json() -> None:
    """Scripts and cron read every command's result, not its prose."""
    leaves = [(name, {o for a in parser._actions for o in a.option_strings})
              for name, parser in commands(build_parser())
              if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)]
    assert len(leaves) > 20
    assert [name for name, options in leaves if "--json" not in options] == []
    assert [name for name, options in leaves if "-i" in options and not {"-l", "-v", "-K"} <= options] == []
