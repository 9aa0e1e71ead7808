"""`spse-change diff OLD NEW` and `spse-change policy list`."""

from __future__ import annotations

import argparse
import sys

from spse_change.cli.common import add_json_option, print_json, project
from spse_change.diff import CATEGORIES, diff_baselines, load_policy, render_text
from spse_change.errors import RC
from spse_change.store.baselines import BaselineStore

REF_HELP = "id, HOST@latest, HOST@-N, HOST@approved or a baseline file"


def register(sub: argparse._SubParsersAction) -> None:
    diff = sub.add_parser("diff", help="compare two baselines and classify each change",
                          description="Exit 0: everything compared and no differences; "
                                      "1: differences, or something could not be compared; "
                                      "2: trouble.")
    diff.add_argument("old", metavar="OLD", help=REF_HELP)
    diff.add_argument("new", metavar="NEW", help=REF_HELP)
    diff.add_argument("--category", nargs="+", metavar="C",
                      help=f"only these categories ({', '.join(CATEGORIES)})")
    add_json_option(diff)
    diff.set_defaults(func=run_diff)

    policy = sub.add_parser("policy", help="the classification rules in force")
    verbs = policy.add_subparsers(dest="verb", metavar="VERB", required=True)
    lst = verbs.add_parser("list", help="list the active rules, first match wins")
    add_json_option(lst)
    lst.set_defaults(func=run_policy_list)


def run_diff(args: argparse.Namespace) -> int:
    proj = project(args)
    store = BaselineStore(proj.records_dir)
    old, new = store.load(args.old), store.load(args.new)
    report = diff_baselines(old, new, load_policy(proj.root), args.category)
    if args.json:
        print_json(report.to_json())
    else:
        print(render_text(report, color=sys.stdout.isatty()))
    return RC.OK if report.clean else RC.CHANGES


def run_policy_list(args: argparse.Namespace) -> int:
    policy = load_policy(project(args).root)
    if args.json:
        print_json(policy.to_json())
        return RC.OK
    for r in policy.rules:
        when = f" [{', '.join(r.match.kinds)}]" if r.match.kinds else ""
        cond = f" if {r.match.condition}" if r.match.condition else ""
        where = "".join(f" where {name} is {' or '.join(globs)}" for name, globs in r.match.where)
        origin = "" if r.origin == "default" else f"  ({r.origin})"
        print(f"{r.id:<8} {r.cls:<6} {', '.join(r.match.paths)}{when}{cond}{where}{origin}")
        print(f"{'':<16}{r.description}")
    print("(no rule matched → major: unknown changes are consulted)")
    return RC.OK
