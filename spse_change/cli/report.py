"""`spse-change report`: the SOP's reports (daily performance summary)."""

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
from spse_change.errors import RC, SpseChangeError
from spse_change.reports import pglog
from spse_change.reports.apache import NICKNAMES, SLOW_MS
from spse_change.reports.daily import DailyRequest, DailyResult, daily_report
from spse_change.reports.fetch import DEFAULT_MAX_BYTES, FetchRequest, fetch_daily_report, parse_size
from spse_change.reports.monthly import MonthlyRequest, monthly_report


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="the SOP's reports: daily performance, monthly recap")
    kinds = report.add_subparsers(dest="report", metavar="REPORT", required=True,
                                  parser_class=sub._parser_class)
    daily = kinds.add_parser(
        "daily", help="Laporan Monitoring Kinerja from PostgreSQL, SPSE and Apache logs",
        description="Summarise one day of logs into the Laporan Monitoring Kinerja (HTML and JSON under "
                    "change_records/reports/daily/DATE/), one section per host. Without log files, the "
                    "day's PostgreSQL, SPSE and Apache logs are fetched from the inventory's hosts "
                    "through Ansible (scrubbed of credentials on the host); with --pg-log/--app-log/"
                    "--apache-log, the files given (plain, gzip or bzip2) are read. PostgreSQL logs "
                    "(stderr, csvlog or jsonlog) are analysed by pgBadger. Exit 0: written; 1: written, "
                    "but some host or log could not be read (named in the report); 2: bad input (a file "
                    "that is no log of its kind is named with its line; nothing is written).")
    daily.add_argument("--pg-log", nargs="+", type=Path, default=[], metavar="FILE",
                       help="PostgreSQL log files (stderr, csvlog or jsonlog)")
    daily.add_argument("--app-log", nargs="+", type=Path, default=[], metavar="FILE",
                       help="SPSE application logs (webapp/logs/spse4.log)")
    daily.add_argument("--apache-log", nargs="+", type=Path, default=[], metavar="FILE",
                       help="Apache access logs")
    daily.add_argument("--pg-prefix", default=pglog.DEFAULT_PREFIX, metavar="P",
                       help=f"the server's log_line_prefix (stderr logs; default {pglog.DEFAULT_PREFIX!r})"
                       .replace("%", "%%"))  # argparse formats help with %
    daily.add_argument("--pg-min-duration", type=int, metavar="MS",
                       help="the server's log_min_duration_statement, stated in the report")
    daily.add_argument("--apache-format", metavar="FORMAT",
                       help=f"Apache LogFormat string or nickname ({', '.join(NICKNAMES)}; default: from "
                            "hosts, each host's configured format (its latest baseline), else combined; "
                            "from files, combined)")
    daily.add_argument("--slow-ms", type=int, default=SLOW_MS, metavar="MS",
                       help=f"an Apache request this slow or slower is slow (default {SLOW_MS})")
    daily.add_argument("--date", metavar="YYYY-MM-DD",
                       help="the day to report, the hosts' own (default: from hosts, yesterday; from "
                            "files, the day of the first PostgreSQL entry)")
    daily.add_argument("--max-bytes", default=f"{DEFAULT_MAX_BYTES >> 20}M", metavar="SIZE",
                       help=f"from hosts: most bytes of each log read (e.g. 50M, 1G; default "
                            f"{DEFAULT_MAX_BYTES >> 20}M); past it the report says the log was cut")
    add_ansible_options(daily)
    daily.add_argument("--out", type=out_dir, metavar="DIR",
                       help="write here instead of change_records/reports/daily/DATE/")
    add_json_option(daily)
    daily.set_defaults(func=run_daily)

    monthly = kinds.add_parser(
        "monthly", help="Rekap Penanganan Permasalahan from the helpdesk's tickets",
        description="Recap one month of helpdesk tickets (CSV or XLSX; columns in docs/report-monthly.md) "
                    "by the SOP's three categories, priority and resolution time against targets, with "
                    "the candidate changes (HTML and JSON under change_records/reports/monthly/MONTH/). "
                    "Exit 0: written; 2: bad input (a ticket file that does not parse is named with its "
                    "line; nothing is written).")
    monthly.add_argument("--month", required=True, metavar="YYYY-MM", help="the month to recap")
    monthly.add_argument("--tickets", required=True, type=Path, metavar="FILE",
                         help="the helpdesk's ticket export (CSV or XLSX)")
    monthly.add_argument("--out", type=out_dir, metavar="DIR",
                         help="write here instead of change_records/reports/monthly/MONTH/")
    add_json_option(monthly)
    monthly.set_defaults(func=run_monthly)


def out_dir(text: str) -> Path:
    """--out: a folder, or one to create; an existing file is refused before any log is read."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return path


def run_daily(args: argparse.Namespace) -> int:
    files = args.pg_log or args.app_log or args.apache_log
    if files and (args.inventory or args.limit or args.via):
        raise SpseChangeError("report daily: give log files or -i/-l/--via (fetch from hosts), not both")
    if files:
        request = DailyRequest(project(args), tuple(args.pg_log), tuple(args.app_log), tuple(args.apache_log),
                               pg_prefix=args.pg_prefix, pg_min_duration_ms=args.pg_min_duration,
                               apache_format=args.apache_format or "combined", date=args.date,
                               out_dir=args.out, slow_ms=args.slow_ms)
        return _print_daily(args, daily_report(request), True)
    fetch = FetchRequest(project(args), tuple(args.inventory), args.limit, args.date,
                         parse_size(args.max_bytes), args.apache_format, args.slow_ms, args.out, args.verbose,
                         args.vault_password_file, become_password(args), args.via)
    print(f"Fetching the logs of {fetch.day}…", file=sys.stderr, flush=True)
    result = fetch_daily_report(fetch, progress)
    return _print_daily(args, result, result.complete)


def _print_daily(args: argparse.Namespace, result: DailyResult, complete: bool) -> int:
    if args.json:
        print_json(result.report)
        return RC.OK if complete else RC.CHANGES
    summary = result.report["summary"]
    print(f"{result.report['title']} {result.report['date']}: "
          f"{summary.get('findings', 0)} suggested change(s), "
          f"{summary.get('unreadable_lines', 0)} unreadable line(s)")
    for section in result.report["hosts"]:
        for log in section.get("logs", []):
            if log["cut"]:
                print(f"  {section['host']}: {log['name']} cut after {log['bytes']} bytes (--max-bytes)")
        for item in section.get("not_read", []):
            print(f"  {section['host']}: NOT READ {item['name']}: {item['reason']}")
    print(f"  {display_path(result.html_path)}")
    print(f"  {display_path(result.json_path)}")
    return RC.OK if complete else RC.CHANGES


def run_monthly(args: argparse.Namespace) -> int:
    result = monthly_report(MonthlyRequest(project(args), args.month, args.tickets, args.out))
    if args.json:
        print_json(result.report)
        return RC.OK
    r = result.report
    counts = ", ".join(f"{c['label']} {c['tickets']}" for c in r["by_category"])
    print(f"{r['title']} {r['month']}: {r['tickets']} ticket(s) ({counts}); "
          f"{len(r['breaches'])} past target; {len(r['candidates'])} candidate change(s)")
    print(f"  {display_path(result.html_path)}")
    print(f"  {display_path(result.json_path)}")
    return RC.OK
