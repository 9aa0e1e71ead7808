"""`spse-change baseline capture|import|list|show|approve`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from spse_change.capture.baseline import CaptureRequest, capture
from spse_change.capture.importer import ImportRequest, import_baselines
from spse_change.cli.common import (
    add_ansible_options,
    add_as_option,
    add_json_option,
    become_password,
    display_path,
    interrupted,
    print_json,
    progress,
    project,
)
from spse_change.errors import RC, SpseChangeError
from spse_change.project import Project
from spse_change.store.baselines import BaselineStore


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("baseline", help="capture, import, list, show and approve baselines")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    cap = verbs.add_parser("capture", help="capture a baseline of every SPSE server")
    add_ansible_options(cap)
    cap.add_argument("--label", default="", help="a note stored with the baselines")
    add_json_option(cap)
    cap.set_defaults(func=run_capture)

    imp = verbs.add_parser("import", help="store baselines from a capture run's job events "
                                          "(ansible-runner artifact folder or AWX export)",
                           description="Store each host's baseline from the events of a capture run "
                                       "(AWX job or ansible-runner), checked against the key the run "
                                       "signed with (docs/awx.md). Exit 0: stored (or already stored); "
                                       "1: some host failed in that run (named); 2: the export is "
                                       "edited, cut or not a capture run (nothing stored).")
    imp.add_argument("source", metavar="SOURCE", type=Path,
                     help="artifacts/<ident>/ folder, or a JSON file of AWX job events "
                          "(/api/v2/jobs/N/job_events/ pages)")
    imp.add_argument("--label", default="", help="a note stored with the baselines")
    imp.add_argument("--key-file", type=Path, metavar="FILE",
                     help="the key the run signed with (default: the project's .spse-change/hmac.key)")
    add_json_option(imp)
    imp.set_defaults(func=run_import)

    lst = verbs.add_parser("list", help="list stored baselines")
    lst.add_argument("--host", help="only this host")
    add_json_option(lst)
    lst.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="show one baseline")
    show.add_argument("ref", metavar="REF", help="id, HOST@latest, HOST@-N, HOST@approved or file")
    add_json_option(show)
    show.set_defaults(func=run_show)

    approve = verbs.add_parser("approve", help="mark a baseline as the host's approved state")
    approve.add_argument("ref", metavar="REF", help="id, HOST@latest, HOST@-N or file")
    approve.add_argument("--reason", required=True, help="why this state is approved")
    approve.add_argument("--by", help="who approves, without operators.yml (default: your login)")
    add_as_option(approve)
    add_json_option(approve)
    approve.set_defaults(func=run_approve)


def run_capture(args: argparse.Namespace) -> int:
    proj = project(args)
    request = CaptureRequest(project=proj, inventory=tuple(args.inventory), limit=args.limit,
                             label=args.label, verbosity=args.verbose,
                             vault_password_file=args.vault_password_file,
                             become_password=become_password(args), via=args.via)
    print("Capturing baselines…", file=sys.stderr, flush=True)
    result = capture(request, progress)
    if args.json:
        print_json(result.to_json())
    else:
        for host, path in result.stored.items():
            note = ""
            if host in result.incomplete:
                note = f"  (incomplete: {', '.join(sorted(result.incomplete[host]))})"
            print(f"{host}: stored {display_path(path)}{note}")
        for host, reason in result.failed.items():
            print(f"{host}: FAILED: {reason}")
        print(f"{len(result.stored)} stored, {len(result.failed)} failed")
    if result.interrupted:
        return interrupted(result.interrupted, result.unfinished)
    return RC.CHANGES if result.failed else RC.OK


def run_import(args: argparse.Namespace) -> int:
    result = import_baselines(ImportRequest(project=project(args), source=args.source,
                                            label=args.label, key_file=args.key_file))
    if args.json:
        print_json(result.to_json())
    else:
        for host, path in result.stored.items():
            print(f"{host}: stored {display_path(path)}")
        for host, path in result.present.items():
            print(f"{host}: already stored {display_path(path)}")
        for host, reason in result.failed.items():
            print(f"{host}: FAILED in that run: {reason}")
        print(f"{len(result.stored)} stored, {len(result.present)} already stored, "
              f"{len(result.failed)} failed")
    return RC.CHANGES if result.failed else RC.OK


def default_user() -> str:
    """The person behind sudo, not root, when there is one."""
    return os.environ.get("SUDO_USER") or getpass.getuser()


def approver(proj: Project, args: argparse.Namespace) -> str:
    """Who approves: once operators.yml exists, a kepala named by --as (the free-text --by no longer
    decides); before that, --by or the login."""
    from spse_change.records import Operators, acting_name  # here: capture's start-up is benched

    operators = Operators.load(proj.root)
    if operators is None:
        return args.by or default_user()
    if args.by:
        raise SpseChangeError(f"--by is replaced by --as once {operators.source} exists")
    return operators.check(acting_name(args.actor), "baseline-approve").id


def run_approve(args: argparse.Namespace) -> int:
    proj = project(args)
    record = BaselineStore(proj.records_dir).approve(args.ref, approver(proj, args), args.reason)
    if args.json:
        print_json(record)
    else:
        print(f"approved {record['id']} by {record['by']} at {record['at']}: {record['reason']}")
    return RC.OK


def run_list(args: argparse.Namespace) -> int:
    infos = BaselineStore(project(args).records_dir).list(args.host)
    if args.json:
        print_json([{"id": i.id, "host": i.host, "captured_at": i.captured_at, "label": i.label,
                     "approved": i.approved, "path": str(i.path)} for i in infos])
        return RC.OK
    if not infos:
        print("no baselines yet: run 'spse-change baseline capture'")
    for i in infos:
        mark = "*" if i.approved else " "
        print(f"{mark} {i.id}  {i.captured_at}  {i.label}".rstrip())
    return RC.OK


def run_show(args: argparse.Namespace) -> int:
    baseline = BaselineStore(project(args).records_dir).load(args.ref)
    if args.json:
        print_json(baseline)
        return RC.OK
    print("\n".join(summary_lines(baseline)))
    return RC.OK


def summary_lines(baseline: dict[str, Any]) -> list[str]:
    """The facts an admin checks first, then how much each category holds."""
    data = baseline["data"]
    os_ = data.get("os", {})
    hw = data.get("hardware", {})
    db = data.get("database", {})
    lines = [
        f"baseline  {baseline['id']}",
        f"host      {baseline['host']}  captured {baseline['captured_at']}"
        + (f"  label: {baseline['label']}" if baseline.get("label") else ""),
        f"groups    {', '.join(baseline.get('groups') or []) or '(not recorded)'}",
        f"os        {os_.get('distribution')} {os_.get('version')} (kernel {os_.get('kernel')})",
        f"cpu       {hw.get('cpu', {}).get('vcpus')} vCPU, {hw.get('cpu', {}).get('model')}",
        f"memory    {hw.get('memory', {}).get('total_mb')} MB",
    ]
    if db:
        lines.append(f"postgres  {db.get('server_version')}, {len(db.get('settings', {}))} settings")
    for name, inst in sorted(data.get("spse", {}).get("instances", {}).items()):
        lines.append(f"spse      {name} {inst.get('version')} on :{inst.get('http_port')}"
                     f"{inst.get('http_path') or ''}, java {inst.get('java_version')}")
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(data.items()) if isinstance(v, dict))
    lines.append(f"holds     {counts}")
    for what, why in sorted(baseline.get("incomplete", {}).items()):
        lines.append(f"INCOMPLETE {what}: {why}")
    return lines
