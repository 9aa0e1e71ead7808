"""`spse-change monitor check`: SOP activity 1, is monitoring on where the daily report needs it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spse_change.cli.common import (
    add_ansible_options,
    add_json_option,
    become_password,
    display_path,
    print_json,
    progress,
    project,
)
from spse_change.errors import RC
from spse_change.monitor.check import CHECKS, MonitorRequest, check_monitoring

MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(sub: argparse._SubParsersAction) -> None:
    monitor = sub.add_parser("monitor", help="SOP activity 1: check that monitoring and logs are on")
    actions = monitor.add_subparsers(dest="action", metavar="ACTION", required=True,
                                     parser_class=sub._parser_class)
    checks = "; ".join(f"{c.id}: {c.description}" for c in CHECKS)
    check = actions.add_parser(
        "check", help="check PostgreSQL, SPSE and Apache logging on each host",
        description=f"Checks: {checks}. Exit 0: no deviation (warnings may be printed); 1: an SOP "
                    "deviation (FAIL) or a host that could not be checked; 2: bad input.")
    add_ansible_options(check)
    check.add_argument("--no-capture", action="store_true",
                       help="use each host's latest stored baseline for settings and configuration")
    check.add_argument("--max-age-hours", type=float, default=24.0, metavar="H",
                       help="a log not written for this long is a deviation (default 24)")
    check.add_argument("--propose", type=Path, metavar="FILE",
                       help="write a planned-change file fixing the PostgreSQL logging settings")
    add_json_option(check)
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    request = MonitorRequest(project(args), tuple(args.inventory), args.limit, not args.no_capture,
                             args.max_age_hours, args.propose, args.verbose, args.vault_password_file,
                             become_password(args), args.via)
    print("Checking monitoring…", file=sys.stderr, flush=True)
    result = check_monitoring(request, progress)
    if args.json:
        print_json(result.to_json())
    else:
        for host, findings in result.hosts.items():
            print(f"== {host}")
            for f in findings:
                print(f"  {MARK[f.severity]} {f.check:<14} {f.message}")
        for host, why in result.failed.items():
            print(f"== {host}: not checked: {why}")
        print(f"{result.deviations} deviation(s)")
        if args.propose:
            print(f"planned change written: {display_path(args.propose)}")
    return RC.CHANGES if result.deviations else RC.OK
