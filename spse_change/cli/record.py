"""`spse-change record new|list|show|approve|reject|close|attach|audit|roles`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spse_change.cli.common import add_as_option, add_json_option, print_json, project
from spse_change.cli.diff import REF_HELP
from spse_change.errors import RC, SpseChangeError
from spse_change.records import STEP_ROLES, NewRecord, Record, RecordStore, acting_name, read_new_record
from spse_change.records.observed import ObservedChange, observed_record
from spse_change.records.operators import ROLES, STEP_TEXT
from spse_change.records.states import STATES, STEPS

STATE_WIDTH = max(map(len, STATES))


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("record", help="change records: create, decide, attach, audit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    new = verbs.add_parser(
        "new", help="create a change record (state submitted, or consultation when major)",
        description="Either --from FILE or --title TEXT [--host H] for a change to make, or --diff OLD "
                    "NEW --title TEXT --reason TEXT [--from FILE] for a change already made (observed "
                    "between two stored baselines of one host).")
    new.add_argument("--from", dest="from_file", type=Path, metavar="FILE",
                     help="YAML with title, hosts, request and evaluation fields; with --diff only "
                          "request and evaluation (docs/records.md)")
    new.add_argument("--title", help="the change, in one line")
    new.add_argument("--host", action="append", default=[], help="a host the change touches (repeatable)")
    new.add_argument("--diff", nargs=2, metavar=("OLD", "NEW"),
                     help=f"the change already made between two baselines ({REF_HELP})")
    new.add_argument("--reason", help="with --diff: why the change was made")
    add_as_option(new)
    add_json_option(new)
    new.set_defaults(func=run_new)

    lst = verbs.add_parser("list", help="list records")
    lst.add_argument("--state", choices=STATES, help="only records in this state")
    lst.add_argument("--overdue", action="store_true",
                     help="only records with an activity past its SOP time (kept as deviations)")
    add_json_option(lst)
    lst.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="show one record")
    show.add_argument("id", metavar="ID")
    add_json_option(show)
    show.set_defaults(func=run_show)

    for verb, text in (("approve", "approve a submitted record (head of the LPSE)"),
                       ("reject", "reject a submitted record (head of the LPSE)"),
                       ("close", "close a record (head of the LPSE): verified, rolled back, failed, "
                                 "or its consultation's work done (with --baseline)")):
        step = verbs.add_parser(verb, help=text)
        step.add_argument("id", metavar="ID")
        step.add_argument("--reason", required=verb != "close", default="", help="why")
        if verb == "approve":
            step.add_argument("--window", metavar="START/END",
                              help="maintenance window, e.g. 2026-12-01T22:00/2026-12-01T23:00")
        if verb == "close":
            step.add_argument("--baseline", action="append", default=[], metavar="REF",
                              help="after a consultation (assistance-requested, proposal-submitted, "
                                   "internal): each host's baseline once the work is done, e.g. "
                                   "app1@latest; it becomes the host's approved baseline (repeatable)")
        add_as_option(step)
        add_json_option(step)
        step.set_defaults(func=run_step, step=verb)

    attach = verbs.add_parser("attach", help="copy evidence (a report, a letter) into a record")
    attach.add_argument("id", metavar="ID")
    attach.add_argument("files", metavar="FILE", nargs="+", type=Path)
    attach.add_argument("--note", default="", help="what the files are")
    add_as_option(attach)
    add_json_option(attach)
    attach.set_defaults(func=run_attach)

    audit = verbs.add_parser("audit", help="check records against their sealed history (exit 1 on a problem)")
    audit.add_argument("id", metavar="ID", nargs="?")
    add_json_option(audit)
    audit.set_defaults(func=run_audit)

    roles = verbs.add_parser("roles", help="which role may take which step")
    add_json_option(roles)
    roles.set_defaults(func=run_roles)


def store(args: argparse.Namespace) -> RecordStore:
    return RecordStore(project(args))


def run_new(args: argparse.Namespace) -> int:
    if args.diff:
        if args.host or not args.title or not args.reason:
            raise SpseChangeError("record new --diff OLD NEW needs --title and --reason "
                                  "(the host comes from the diff, not --host)")
        change = ObservedChange(args.diff[0], args.diff[1], args.title, args.reason, args.from_file)
        record = store(args).create(observed_record(project(args), change), acting_name(args.actor))
        return _said(args, record, f"{record.id} {record.state} ({record.cls}, {len(record.items)} "
                                   f"item{'s' if len(record.items) != 1 else ''})")
    if args.reason:
        raise SpseChangeError("record new: --reason goes with --diff (a planned change says why in "
                              "its --from file's request.purpose)")
    if (args.from_file is None) == (args.title is None):
        raise SpseChangeError("record new: give --from FILE or --title TEXT (or --diff OLD NEW "
                              "--title TEXT --reason TEXT)")
    if args.from_file is not None:
        new = read_new_record(args.from_file)
        if args.host:
            new = NewRecord(new.title, tuple(args.host), new.request, new.evaluation)
    else:
        new = NewRecord(title=args.title, hosts=tuple(args.host))
    record = store(args).create(new, acting_name(args.actor))
    return _said(args, record, f"{record.id} {record.state}")


def run_step(args: argparse.Namespace) -> int:
    records, actor = store(args), acting_name(args.actor)
    if args.step == "approve":
        record = records.approve(args.id, actor, args.reason, args.window)
    elif args.step == "reject":
        record = records.reject(args.id, actor, args.reason)
    else:
        record = records.close(args.id, actor, args.reason, args.baseline)
    return _said(args, record, f"{record.id} {record.state} by {actor}")


def run_attach(args: argparse.Namespace) -> int:
    record = store(args).attach(args.id, acting_name(args.actor), args.files, args.note)
    added = [a["name"] for a in record.attachments[-len(args.files):]]
    return _said(args, record, f"{record.id}: attached {', '.join(added)}")


def _said(args: argparse.Namespace, record: Record, line: str) -> int:
    if args.json:
        print_json({"id": record.id, "state": record.state, "class": record.cls})
    else:
        print(line)
    return RC.OK


def run_list(args: argparse.Namespace) -> int:
    records, damaged = store(args).list()
    now = datetime.now(UTC)
    chosen = [r for r in records if (args.state is None or r.state == args.state)
              and (not args.overdue or r.overdue(now))]
    if args.json:
        print_json({"records": [_summary(r, now) for r in chosen], "damaged": damaged})
        return RC.OK
    if not chosen and not damaged:
        print("no records" + (" past their SOP time" if args.overdue else ""))
    for r in chosen:
        print(f"{r.id}  {r.state:<{STATE_WIDTH}} {r.cls:<5} {r.priority:<8} "
              f"{','.join(r.hosts) or '-':<12} {r.title}")
        for activity, late in r.overdue(now) if args.overdue else ():
            status = "ongoing" if activity.end is None else "deviation"
            print(f"    {activity.activity}: {_hours(late)} past its {activity.hours:g} h standard "
                  f"({status})")
    for record_id, why in damaged.items():
        print(f"{record_id}  {'DAMAGED':<{STATE_WIDTH}} {why}")
    return RC.OK


def _hours(late: Any) -> str:
    return f"{late.total_seconds() / 3600:.1f} h"


def _summary(record: Record, now: datetime) -> dict[str, Any]:
    return {"id": record.id, "state": record.state, "class": record.cls, "priority": record.priority,
            "hosts": list(record.hosts), "title": record.title, "requester": record.requester,
            "overdue": [{**a.to_json(), "over_hours": round(late.total_seconds() / 3600, 2),
                         "ongoing": a.end is None} for a, late in record.overdue(now)]}


def run_show(args: argparse.Namespace) -> int:
    record = store(args).get(args.id)
    if args.json:
        print_json(record.to_json())
        return RC.OK
    print("\n".join(show_lines(record)))
    return RC.OK


def show_lines(record: Record) -> list[str]:
    """The record as an admin reads it: fields by stage, defaulted ones marked, then the history."""
    default = set(record.defaulted)
    lines = [f"record    {record.id}  {record.state}  (next: {', '.join(record.next_steps()) or 'none'})",
             f"title     {record.title}",
             f"class     {record.cls}   priority {record.priority}   hosts {', '.join(record.hosts) or '-'}"
             + ("   (observed: already made)" if record.observed_change else ""),
             "request"]
    lines += [f"  {k:<15} {v if v not in (None, '') else '-'}" for k, v in record.request.items()]
    lines.append("evaluation")
    for key, value in record.evaluation.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        mark = "  (default)" if f"evaluation.{key}" in default else ""
        lines.append(f"  {key:<15} {shown if shown not in (None, '') else '-'}{mark}")
    if record.approval:
        a = record.approval
        lines.append(f"approval  {a['decision']} by {a['approver']} at {a['at']}: {a['reason']}")
    if record.consultation:
        c = record.consultation
        lines.append(f"consultation  {c['outcome']} by {c['by']} at {c['at']}: {c['note']}")
    if record.implementation:
        i = record.implementation
        lines.append(f"implementation  by {i['implementer']} from {i['started']}"
                     f" to {i['ended'] or '(under way)'}: {i['result'] or 'applying'}"
                     + (f" ({i['notes']})" if i.get("notes") else ""))
    for item in record.items:
        lines.append(f"  {item['class']:<5}  {item['host']}: {item['path']} {item.get('summary', '')}"
                     f"   ({item['rule']}: {item['reason']})")
    for host, ids in record.baselines.items():
        lines.append(f"baselines {host}: " + ", ".join(f"{k} {v}" for k, v in ids.items()))
    for attachment in record.attachments:
        lines.append(f"attached  {attachment['name']} ({attachment['size']} bytes) by {attachment['by']}")
    for deviation in record.deviations():
        lines.append(f"DEVIATION {deviation.activity} took longer than its {deviation.hours:g} h standard")
    lines.append("history")
    lines += [f"  {h['seq']:>3} {h['at']} {h['step']:<9} {h['actor']}"
              + (f"  {h['note']}" if h["note"] else "") for h in record.to_json()["history"]]
    return lines


def run_audit(args: argparse.Namespace) -> int:
    results = store(args).audit(args.id)
    if args.json:
        print_json([r.to_json() for r in results])
    else:
        if not results:
            print("no records")
        for result in results:
            for line in result.problems or ("ok",):
                print(f"{result.record}: {line}")
            for note in result.notes:
                print(f"{result.record}: note: {note}")
    return RC.CHANGES if any(r.problems for r in results) else RC.OK


def run_roles(args: argparse.Namespace) -> int:
    """The role table and the state table, both printed from the rules themselves."""
    transitions = {s.name: {"from": list(s.sources), "to": s.target or " | ".join(s.targets) or None,
                            "what": s.description}
                   for s in STEPS.values()}
    if args.json:
        print_json({"roles": dict(ROLES), "transitions": transitions,
                    "steps": {s: {"roles": list(r), "what": STEP_TEXT[s]} for s, r in STEP_ROLES.items()}})
        return RC.OK
    for role, text in ROLES.items():
        print(f"{role:<10} {text}")
    print()
    for step, roles in STEP_ROLES.items():
        print(f"{step:<17} {', '.join(roles):<26} {STEP_TEXT[step]}")
    print()
    for name, t in transitions.items():
        print(f"{name:<10} {', '.join(t['from']) or '-':<30} → {t['to'] or '(same)':<12} {t['what']}")
    return RC.OK



