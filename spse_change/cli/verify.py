"""`spse-change verify`: standard checks and baseline conformance on every host, for people and CI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spse_change.cli.common import (
    add_ansible_options,
    add_json_option,
    become_password,
    interrupted,
    print_json,
    progress,
    project,
)
from spse_change.errors import RC
from spse_change.verify.junit import write_junit
from spse_change.verify.registry import load_registry

SHOWN = {"failed": "FAIL", "error": "ERROR", "waived": "WAIVED"}


def register(sub: argparse._SubParsersAction) -> None:
    verify = sub.add_parser(
        "verify", help="check every host against the SPSE hardening standard and its approved baseline",
        description="Snapshot each host in one playbook run, then run the standard checks and the "
                    "baseline conformance checks as pytest tests. Waivers: waivers.yml; thresholds: "
                    "verify.yml (project folder). Exit 0: every check passed or is waived; 1: a check "
                    "failed or a host could not be checked; 2: bad input; 130/143: stopped.")
    add_ansible_options(verify)
    verify.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML to FILE")
    verify.add_argument("--list-checks", action="store_true",
                        help="list the check ids, their descriptions and the settings; reach no host")
    add_json_option(verify)
    verify.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    if args.list_checks:
        return list_checks(args)
    # Imported here: the checks run under pytest, whose import every other command need not pay.
    from spse_change.verify.service import VerifyRequest, verify_hosts

    request = VerifyRequest(project(args), tuple(args.inventory), args.limit, args.verbose,
                            args.vault_password_file, become_password(args), via=args.via)
    print("Taking snapshots…", file=sys.stderr, flush=True)
    result = verify_hosts(request, progress)
    if args.junit:
        write_junit(args.junit, result.results)
    if args.json:
        print_json(result.to_json())
    else:
        for host, found in result.by_host().items():
            bad = [r for r in found if r.outcome != "passed"]
            failed = sum(r.outcome in ("failed", "error") for r in found)
            waived = sum(r.outcome == "waived" for r in found)
            verdict = "FAIL" if failed else "ok"
            print(f"== {host}: {verdict}: {len(found) - failed - waived} passed, {failed} failed, "
                  f"{waived} waived")
            for r in bad:
                note = f" [{r.waiver}]" if r.waiver else ""
                print(f"   {SHOWN[r.outcome]:<6} {r.check}: {r.message}{note}")
            for r in found:
                if r.outcome == "passed" and r.waiver:
                    print(f"   note   {r.check}: passes; {r.waiver}")
    if result.interrupted:
        return interrupted(result.interrupted, result.unfinished)
    return RC.CHANGES if result.failed else RC.OK


def list_checks(args: argparse.Namespace) -> int:
    registry = load_registry(project(args).root)
    if args.json:
        print_json({"checks": [vars(c) | {"groups": list(c.groups)} for c in registry.checks.values()],
                    "settings": dict(registry.settings)})
        return RC.OK
    for check in registry.checks.values():
        print(f"{check.id:<18} {','.join(check.groups):<17} {check.en}")
        print(f"{'':<18} {'':<17} {check.id_ID}")
    print("settings (verify.yml):")
    for key, value in registry.settings.items():
        print(f"  {key}: {value}")
    return RC.OK
