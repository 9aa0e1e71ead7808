"""`spse-change plan | apply | rollback`: the minor-change loop (docs/planned-change.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spse_change.apply.hosts import Reach
from spse_change.apply.loop import ApplyRequest, LoopResult, RollbackRequest, apply, rollback
from spse_change.apply.plan import PlanRequest, plan
from spse_change.cli.common import (
    add_ansible_options,
    add_as_option,
    add_json_option,
    become_password,
    print_json,
    progress,
    project,
)
from spse_change.errors import RC, SpseChangeError
from spse_change.records import acting_name


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="check a planned change on the live servers and file it as a record")
    p.add_argument("file", metavar="CHANGE.yml", type=Path,
                   help="the planned change (docs/planned-change.md)")
    _common(p)
    p.set_defaults(func=run_plan)

    a = sub.add_parser("apply", help="apply an approved minor record, host by host; roll back on failure")
    a.add_argument("id", metavar="ID")
    a.add_argument("--serial", type=int, default=1, metavar="N", help="hosts at a time (default 1)")
    a.add_argument("--now", action="store_true", help="apply outside the maintenance window (needs --reason)")
    a.add_argument("--reason", default="", help="why now, outside the window (kept in the record)")
    _common(a)
    a.set_defaults(func=run_apply)

    r = sub.add_parser("rollback", help="roll back a verified record on all its hosts")
    r.add_argument("id", metavar="ID")
    r.add_argument("--reason", required=True, help="why (kept in the record)")
    _common(r)
    r.set_defaults(func=run_rollback)


def _common(parser: argparse.ArgumentParser) -> None:
    add_ansible_options(parser)
    add_as_option(parser)
    add_json_option(parser)


def _reach(args: argparse.Namespace) -> Reach:
    return Reach(inventory=tuple(args.inventory), limit=args.limit, verbosity=args.verbose,
                 vault_password_file=args.vault_password_file, become_password=become_password(args),
                 via=args.via)


def run_plan(args: argparse.Namespace) -> int:
    result = plan(PlanRequest(project(args), args.file, acting_name(args.actor), _reach(args)), progress)
    record = result.record
    if args.json:
        print_json({"id": record.id, "class": record.cls, "state": record.state})
        return RC.OK
    print(result.text())
    print(f"{record.id} {record.state} ({record.cls})")
    return RC.OK


def run_apply(args: argparse.Namespace) -> int:
    if args.now and not args.reason.strip():
        raise SpseChangeError("--now needs --reason TEXT (kept in the record)")
    if args.reason and not args.now:
        raise SpseChangeError("--reason goes with --now")
    request = ApplyRequest(project(args), args.id, acting_name(args.actor), _reach(args), args.serial,
                           args.reason.strip() if args.now else None)
    return _print(apply(request, progress), args)


def run_rollback(args: argparse.Namespace) -> int:
    request = RollbackRequest(project(args), args.id, acting_name(args.actor), args.reason, _reach(args))
    return _print(rollback(request, progress), args)


def _print(result: LoopResult, args: argparse.Namespace) -> int:
    record = result.record
    if args.json:
        print_json({"id": record.id, "class": record.cls, "state": record.state, "reason": result.reason})
        return result.code
    for host, report in sorted(result.reports.items()):
        print(f"== {host}: {report.summary_line()}")
    print(f"{record.id} {record.state}" + (f": {result.reason}" if result.reason else ""),
          file=sys.stdout if result.code == RC.OK else sys.stderr)
    return result.code
