"""`spse-change report`: the SOP's reports (daily performance summary)."""

from __future__ import annotations

import argparse
from pathlib import Path

from spse_change.cli.common import add_json_option, display_path, print_json, project
from spse_change.errors import RC
from spse_change.reports import pglog
from spse_change.reports.apache import NICKNAMES, SLOW_MS
from spse_change.reports.daily import DailyRequest, daily_report
from spse_change.reports.monthly import MonthlyRequest, monthly_report


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="the SOP's reports: daily performance, monthly recap")
    kinds = report.add_subparsers(dest="report", metavar="REPORT", required=True,
                                  parser_class=sub._parser_class)
    daily = kinds.add_parser(
        "daily", help="Laporan Monitoring Kinerja from PostgreSQL, SPSE and Apache logs",
        description="Summarise one day of logs (plain, gzip or bzip2) into the Laporan Monitoring Kinerja "
                    "(HTML and JSON under change_records/reports/daily/DATE/). PostgreSQL logs (stderr, "
                    "csvlog or jsonlog) are analysed by pgBadger. Exit 0: written; 2: bad input (a file "
                    "that is no log of its kind is named with its line; nothing is written).")
    daily.add_argument("--pg-log", nargs="+", type=Path, default=[], metavar="FILE",
                       help="PostgreSQL log files (stderr, csvlog or jsonlog)")
    daily.add_argument("--app-log", nargs="+", type=Path, default=[], metavar="FILE",
                       help="SPSE application logs (webapp/logs/spse4.log)")
    daily.add_argument("--apache-log", nargs="+", type=Path, default=[], metavar="FILE",
                       help="Apache access logs")
    daily.add_argument("--pg-prefix", default=pglog.DEFAULT_PREFIX, metavar="P",
                       help=f"the server's log_line_prefix (stderr logs; default {pglog.DEFAULT_PREFIX!r})")
    daily.add_argument("--pg-min-duration", type=int, metavar="MS",
                       help="the server's log_min_duration_statement, stated in the report")
    daily.add_argument("--apache-format", default="combined", metavar="FORMAT",
                       help=f"Apache LogFormat string or nickname ({', '.join(NICKNAMES)}; default combined)")
    daily.add_argument("--slow-ms", type=int, default=SLOW_MS, metavar="MS",
                       help=f"an Apache request this slow or slower is slow (default {SLOW_MS})")
    daily.add_argument("--date", metavar="YYYY-MM-DD",
                       help="the day to report (default: the day of the first PostgreSQL entry)")
    daily.add_argument("--out", type=Path, metavar="DIR",
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
    monthly.add_argument("--out", type=Path, metavar="DIR",
                         help="write here instead of change_records/reports/monthly/MONTH/")
    add_json_option(monthly)
    monthly.set_defaults(func=run_monthly)


def run_daily(args: argparse.Namespace) -> int:
    request = DailyRequest(project(args), tuple(args.pg_log), tuple(args.app_log), tuple(args.apache_log),
                           pg_prefix=args.pg_prefix, pg_min_duration_ms=args.pg_min_duration,
                           apache_format=args.apache_format, date=args.date, out_dir=args.out,
                           slow_ms=args.slow_ms)
    result = daily_report(request)
    if args.json:
        print_json(result.report)
        return RC.OK
    summary = result.report["summary"]
    print(f"{result.report['title']} {result.report['date']}: "
          f"{summary.get('findings', 0)} suggested change(s), "
          f"{summary.get('unreadable_lines', 0)} unreadable line(s)")
    print(f"  {display_path(result.html_path)}")
    print(f"  {display_path(result.json_path)}")
    return RC.OK


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
