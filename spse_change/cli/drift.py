"""`spse-change drift`: compare each host with its approved baseline."""

from __future__ import annotations

import argparse
import sys

from spse_change.cli.common import (
    add_ansible_options,
    add_json_option,
    become_password,
    interrupted,
    print_json,
    progress,
    project,
)
from spse_change.diff import render_text
from spse_change.drift.check import DriftRequest, check_drift
from spse_change.errors import RC


def register(sub: argparse._SubParsersAction) -> None:
    drift = sub.add_parser(
        "drift", help="capture now and compare each host with its approved baseline",
        description="Exit 0: every host matches its approved baseline or only differs by changes "
                    "change records cover; 1: unrecorded drift, a category not "
                    "compared (incomplete), a host without an approved baseline, or a failed "
                    "capture; 2: bad input or nothing to check; 130/143: stopped by SIGINT/SIGTERM.")
    add_ansible_options(drift)
    drift.add_argument("--no-capture", action="store_true",
                       help="use each host's latest stored baseline instead of capturing")
    add_json_option(drift)
    drift.set_defaults(func=run_drift)


def run_drift(args: argparse.Namespace) -> int:
    request = DriftRequest(project(args), tuple(args.inventory), args.limit, not args.no_capture,
                           args.verbose, args.vault_password_file, become_password(args), args.via)
    if request.capture:
        print("Capturing baselines…", file=sys.stderr, flush=True)
    result = check_drift(request, progress)
    if args.json:
        print_json(result.to_json())
    else:
        color = sys.stdout.isatty()
        for h in result.hosts.values():
            if h.status in ("drift", "incomplete") and h.report:
                what = (f"DRIFT, {h.unrecorded} unrecorded change(s) since the approved baseline "
                        "(no change record covers them)" if h.status == "drift"
                        else f"INCOMPLETE, {h.reason}")
                print(f"== {h.host}: {what}")
                print(render_text(h.report, color=color))
            elif h.status == "recorded":
                print(f"== {h.host}: every change since the approved baseline is recorded")
            elif h.status == "clean":
                print(f"== {h.host}: matches its approved baseline")
            else:
                print(f"== {h.host}: {h.status}: {h.reason}")
            for record_id, item in h.recorded:
                print(f"   recorded  {item['path']} {item['summary']}   ({record_id})")
    if result.interrupted:
        unfinished = [h.host for h in result.hosts.values() if h.status == "unfinished"]
        return interrupted(result.interrupted, unfinished)
    return RC.CHANGES if result.attention else RC.OK
