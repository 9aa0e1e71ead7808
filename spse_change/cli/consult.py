"""`spse-change consult`: the consultation of a major change with ITO LKPP (SOP activities 5 and 6)."""

from __future__ import annotations

import argparse
from pathlib import Path

from spse_change.cli.common import add_as_option, add_json_option, display_path, print_json, project
from spse_change.consult.check import check_package
from spse_change.consult.letters import OutcomeRequest, record_outcome
from spse_change.consult.package import BuildRequest, build_package
from spse_change.errors import RC
from spse_change.records import acting_name

OUTCOMES = ("lkpp", "vendor", "internal", "rejected")


def register(sub: argparse._SubParsersAction) -> None:
    consult = sub.add_parser("consult", help="consultation package and follow-up letters for a major change")
    verbs = consult.add_subparsers(dest="consult", metavar="STEP", required=True,
                                   parser_class=sub._parser_class)
    build = verbs.add_parser(
        "build", help="build the consultation package (Formulir Konsultasi, diff, baselines, reports)",
        description="Build ID-konsultasi-vN.zip in the record's folder for ITO LKPP: the Formulir "
                    "Konsultasi (HTML and PDF), diff.json, the before and after baselines, the attached "
                    "reports and SHA256SUMS. Earlier builds are kept. The last line printed is the "
                    "zip's path. Needs lpse.yml (docs/consult.md).")
    build.add_argument("id", metavar="ID", help="a record in consultation")
    build.add_argument("--nomor", metavar="TEXT", help="the form's letter number (default: lpse.yml's)")
    add_as_option(build)
    add_json_option(build)
    build.set_defaults(func=run_build)

    check = verbs.add_parser(
        "check", help="verify a consultation package against its SHA256SUMS",
        description="Exit 0: every file matches; 1: a file differs, is missing or is not listed (each "
                    "named); 2: not a readable consultation package.")
    check.add_argument("zip", metavar="ZIP", type=Path)
    add_json_option(check)
    check.set_defaults(func=run_check)

    outcome = verbs.add_parser(
        "outcome", help="record ITO LKPP's answer and write the follow-up letter",
        description="lkpp: Surat Permohonan Bantuan Teknis to LKPP; vendor: Usulan Kegiatan to the head "
                    "of the LPSE; internal: a note that the LPSE makes the change itself; rejected: the "
                    "record ends, no letter. Letters (HTML and PDF) are attached to the record; their "
                    "paths are printed.")
    outcome.add_argument("id", metavar="ID", help="a record in consultation")
    outcome.add_argument("--outcome", required=True, choices=OUTCOMES)
    outcome.add_argument("--note", required=True, help="what ITO LKPP answered")
    outcome.add_argument("--nomor", metavar="TEXT", help="the letter's number (default: lpse.yml's pattern)")
    add_as_option(outcome)
    add_json_option(outcome)
    outcome.set_defaults(func=run_outcome)


def run_build(args: argparse.Namespace) -> int:
    result = build_package(BuildRequest(project(args), args.id, acting_name(args.actor), args.nomor))
    if args.json:
        print_json({"record": args.id, "version": result.version, "path": str(result.path),
                    "sha256": result.sha256, "files": list(result.files)})
        return RC.OK
    print(f"{args.id}: consultation package v{result.version}, {len(result.files)} files, "
          f"sha256 {result.sha256}")
    print(display_path(result.path))
    return RC.OK


def run_check(args: argparse.Namespace) -> int:
    result = check_package(args.zip)
    if args.json:
        print_json(result.to_json())
    else:
        for name, problem in result.problems:
            print(f"  {name}: {problem}")
        print(f"{display_path(args.zip)}: " + (f"ok, {result.checked} files match SHA256SUMS" if result.ok
              else f"{len(result.problems)} problem(s) in {result.checked} listed files"))
    return RC.OK if result.ok else RC.CHANGES


def run_outcome(args: argparse.Namespace) -> int:
    where = project(args)
    result = record_outcome(OutcomeRequest(where, args.id, args.outcome, args.note, acting_name(args.actor),
                                           args.nomor))
    folder = where.records_dir / "records" / result.record.id / "attachments"
    paths = [folder / name for name in result.attachments]
    if args.json:
        print_json({"id": result.record.id, "state": result.record.state,
                    "letters": [str(p) for p in paths]})
        return RC.OK
    print(f"{result.record.id} {result.record.state} by {acting_name(args.actor)}")
    for path in paths:
        print(display_path(path))
    return RC.OK
