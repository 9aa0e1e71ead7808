"""`spse-change node check NODE`: is this execution node usable for `--via`?"""

from __future__ import annotations

import argparse

from spse_change.cli.common import (
    add_ansible_options,
    add_json_option,
    become_password,
    print_json,
    progress,
    project,
)
from spse_change.errors import RC
from spse_change.node.check import NodeCheckRequest, check_node


def register(sub: argparse._SubParsersAction) -> None:
    node = sub.add_parser("node", help="execution nodes for --via")
    verbs = node.add_subparsers(dest="verb", metavar="VERB", required=True)
    check = verbs.add_parser(
        "check", help="can NODE run our playbooks (ansible-runner, ansible-core series, Python, "
                      "its SSH to the servers), and what to install if not",
        description="Exit 0: usable; 1: not (the problems and the commands that fix them are "
                    "printed); 2: NODE unreachable over SSH or bad input. With -i, a ping of "
                    "the inventory's SPSE servers runs through the node.")
    check.add_argument("node", metavar="NODE", help="SSH host name, ~/.ssh/config alias or user@host")
    add_ansible_options(check, via=False)
    add_json_option(check)
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    request = NodeCheckRequest(project(args), args.node, tuple(args.inventory), args.limit,
                               args.verbose, args.vault_password_file, become_password(args))
    report = check_node(request, progress)
    if args.json:
        print_json(report.to_json())
    else:
        print(f"node {report.node}: {'usable' if report.usable else 'NOT usable'}")
        print(f"  ansible-runner {report.ansible_runner or '-'}, ansible-core {report.ansible_core or '-'}, "
              f"Python {report.python or '-'}")
        for host, state in report.hosts.items():
            print(f"  {host}: {state}")
        if report.job_folders:
            print(f"  {len(report.job_folders)} job folder(s) on the node (a run under way, or left by a "
                  "killed worker, with its secrets: remove those no run uses):")
            for folder in report.job_folders:
                print(f"    {folder}")
        for problem in report.problems:
            print(f"  problem: {problem}")
        if report.install:
            print("  install on the node (as root):")
            for command in report.install:
                print(f"    {command}")
    return RC.OK if report.usable else RC.CHANGES
