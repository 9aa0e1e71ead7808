"""Options and output helpers shared by the subcommands, so they read alike."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
from pathlib import Path
from typing import Any

from spse_change.project import Project
from spse_change.store.files import dump_json


def add_ansible_options(parser: argparse.ArgumentParser, via: bool = True) -> None:
    """The options an Ansible user expects on anything that touches hosts (and `--via NODE`)."""
    parser.add_argument("-i", "--inventory", action="append", type=Path, default=[],
                        metavar="INVENTORY",
                        help="inventory file or folder (repeatable; default: ansible.cfg's)")
    parser.add_argument("-l", "--limit", metavar="SUBSET", help="limit to these hosts or groups")
    parser.add_argument("--vault-password-file", type=Path, metavar="FILE",
                        help="vault password file for vaulted inventory variables")
    parser.add_argument("-K", "--ask-become-pass", action="store_true",
                        help="ask for the sudo password (when sudo needs one)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more output (-vv shows Ansible's own output)")
    if via:
        parser.add_argument("--via", metavar="NODE",
                            help="run the playbook on this execution node (an SSH host or alias "
                                 "with ansible-runner; it reaches the servers, this machine need "
                                 "not; needs -i; see docs/nodes.md)")


def become_password(args: argparse.Namespace) -> str | None:
    if not args.ask_become_pass:
        return None
    try:
        return getpass.getpass("BECOME password: ")
    except BaseException:  # Ctrl-C, SIGTERM, end of input: end the prompt's line before saying so
        print(file=sys.stderr)
        raise


def add_as_option(parser: argparse.ArgumentParser) -> None:
    """`--as NAME` on the record workflow's commands (names and roles: operators.yml)."""
    parser.add_argument("--as", dest="actor", metavar="NAME",
                        help="who acts: an operator of operators.yml (default: $SPSE_CHANGE_USER)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def project(args: argparse.Namespace) -> Project:
    return Project.discover(args.project)


def print_json(obj: Any) -> None:
    sys.stdout.write(dump_json(obj))


def progress(host: str, outcome: str, message: str) -> None:
    """Per-host progress on stderr as events arrive, so stdout stays parseable."""
    line = f"  {host}: {outcome}"
    if message:
        line += f" ({message})"
    print(line, file=sys.stderr, flush=True)


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)



def interrupted(sig: signal.Signals, unfinished: list[str]) -> int:
    """A stopped run says so on stderr, names the hosts it left, and exits 128 + the signal."""
    hosts = ", ".join(unfinished) or "none"
    print(f"spse-change: stopped by {sig.name}; hosts not finished (nothing stored for them): {hosts}",
          file=sys.stderr)
    return 128 + sig.value
