"""The daily *Laporan Monitoring Kinerja* (SOP activities 1b and 2), from log files.

Build: PostgreSQL logs through pgBadger, the SPSE application log and
Apache access logs through our readers, then the analisa rules. Every
input is checked before anything is written: a file that is no log of its
stated kind stops the report (one line, exit 2) and nothing is written;
lines inside a real log that cannot be read are counted in the report.
Written as JSON (the data) and HTML (for people) under
`change_records/reports/daily/YYYY-MM-DD/`, atomically, under the store's
lock.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from pathlib import Path
from typing import Any

from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.reports import analysis, apache, applog, pglog
from spse_change.reports.render import render_daily
from spse_change.reports.sources import LineReader
from spse_change.store.files import dump_json, locked, write_atomic, writing

SCHEMA = "spse-change/report-daily/1"
TITLE = "Laporan Monitoring Kinerja"
BASENAME = "laporan-monitoring-kinerja"
ISO_DAY = re.compile(rb"(\d{4}-\d\d-\d\d)[ T]\d\d:\d\d")


@dataclass(frozen=True)
class DailyRequest:
    project: Project
    pg_logs: tuple[Path, ...] = ()
    app_logs: tuple[Path, ...] = ()
    apache_logs: tuple[Path, ...] = ()
    pg_prefix: str = pglog.DEFAULT_PREFIX
    pg_min_duration_ms: int | None = None  # the server's log_min_duration_statement, when known
    apache_format: str = "combined"
    date: str | None = None  # YYYY-MM-DD; default: the day of the first PostgreSQL entry
    out_dir: Path | None = None
    host: str = "berkas lokal"
    slow_ms: int = apache.SLOW_MS
    jobs: int = field(default_factory=pglog.default_jobs)

    def __post_init__(self) -> None:
        if not (self.pg_logs or self.app_logs or self.apache_logs):
            raise SpseChangeError("report daily: give at least one of --pg-log, --app-log, --apache-log")
        if self.date is not None:
            try:
                Date.fromisoformat(self.date)
            except ValueError:
                raise SpseChangeError(f"--date {self.date!r}: expected YYYY-MM-DD") from None
            if not re.fullmatch(r"\d{4}-\d\d-\d\d", self.date):
                raise SpseChangeError(f"--date {self.date!r}: expected YYYY-MM-DD")
        for path in (*self.pg_logs, *self.app_logs, *self.apache_logs):
            if not path.is_file():
                raise SpseChangeError(f"{path}: no such log file")
        if self.slow_ms <= 0:
            raise SpseChangeError("--slow-ms must be positive")


@dataclass(frozen=True)
class DailyResult:
    report: dict[str, Any]
    json_path: Path
    html_path: Path


def _report_day(request: DailyRequest, pg_format: str | None) -> tuple[str, str]:
    """The day reported and where it came from."""
    if request.date:
        return request.date, "--date"
    for path in request.pg_logs:
        for _n, line in LineReader(path):
            found = ISO_DAY.search(line)
            if found:
                return found.group(1).decode(), f"entri pertama log PostgreSQL ({pg_format})"
            if line.strip():
                break
    for path in request.apache_logs:
        for _n, line in LineReader(path):
            found = re.search(rb"\[(\d\d)/(\w{3})/(\d{4}):", line)
            if found:
                day, month, year = (g.decode() for g in found.groups())
                return f"{year}-{apache.MONTHS.get(month, '00')}-{day}", "entri pertama log Apache"
            if line.strip():
                break
    return datetime.now().date().isoformat(), "hari ini (log tidak bertanggal)"


def _pg_format(paths: tuple[Path, ...]) -> str | None:
    formats = {pglog.detect_format(p): p for p in paths}
    if len(formats) > 1:
        names = ", ".join(f"{p} is {f}" for f, p in formats.items())
        raise SpseChangeError(f"PostgreSQL logs of different formats in one report ({names})")
    return next(iter(formats), None)


def _check_inputs(request: DailyRequest, pg_format: str | None) -> None:
    """Refuse any file of the wrong kind before the long work starts."""
    for path in request.pg_logs:
        pglog.check_first_lines(path, pg_format or "stderr", request.pg_prefix)
    for path in request.app_logs:
        applog.check_file(path)
    access = apache.AccessLog(request.apache_format)
    for path in request.apache_logs:
        access.check_file(path)


def build_section(request: DailyRequest, day: str, pg_format: str | None) -> dict[str, Any]:
    """One host's part of the report: database, application, web, failures, error types."""
    section: dict[str, Any] = {"host": request.host, "database": None, "application": None, "web": None}
    notes: list[str] = []
    if request.pg_logs:
        fmt = pg_format or "stderr"
        run = pglog.PgBadgerRun(tuple(request.pg_logs), fmt, request.pg_prefix, day, request.jobs)
        data, checks = pglog.analyse(run)
        section["database"] = pglog.summarise(data)
        excluded = fmt != "stderr" or "%a" in request.pg_prefix
        section["database"].update({
            "format": fmt, "prefix": request.pg_prefix if fmt == "stderr" else None,
            "toolkit_excluded": excluded, "threshold_ms": request.pg_min_duration_ms,
            "files": [c.to_json() for c in checks],
            "unreadable": sum(c.unreadable for c in checks)})
        if not excluded:
            notes.append("log_line_prefix tidak memuat %a: kueri spse-change sendiri tidak dapat "
                         "dikecualikan dari statistik basis data.")
    if request.app_logs:
        section["application"] = applog.read_app_logs(list(request.app_logs))
        section["application"]["day_source"] = ("baris log aplikasi hanya memuat jam; harinya adalah hari "
                                                "berkas yang diberikan (rotasi log)")
    if request.apache_logs:
        section["web"] = apache.read_access_logs(list(request.apache_logs), request.apache_format, day,
                                                 request.slow_ms)
    section["error_types"] = _error_types(section)
    section["failed"] = _failed(section)
    section["hourly"] = _hourly(section, day)
    section["unreadable"] = sum((section[k] or {}).get("unreadable", 0)
                                for k in ("database", "application", "web"))
    section["notes"] = notes
    return section


def _error_types(section: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    db, app, web = section["database"], section["application"], section["web"]
    if db:
        rows += [{"source": "PostgreSQL", "type": level, "count": n}
                 for level, n in db["levels"].items() if level in ("WARNING", "ERROR", "FATAL", "PANIC")]
    if app:
        rows += [{"source": "Aplikasi SPSE", "type": level, "count": n}
                 for level, n in app["levels"].items() if level in applog.PROBLEM_LEVELS]
        rows += [{"source": "Aplikasi SPSE", "type": name, "count": n}
                 for name, n in app["exceptions"].items()]
    if web:
        rows += [{"source": "Apache", "type": f"HTTP {cls}", "count": n}
                 for cls, n in web["statuses"].items() if cls in ("4xx", "5xx")]
    return rows


def _failed(section: dict[str, Any]) -> dict[str, Any]:
    db, app, web = section["database"] or {}, section["application"] or {}, section["web"] or {}
    failed = dict(db.get("failed") or {})
    failed["http_5xx"] = web.get("errors_5xx") if web else None
    failed["app_http_500"] = app.get("http_500") if app else None
    return failed


def _hourly(section: dict[str, Any], day: str) -> dict[str, dict[str, int]]:
    """Counts by hour "HH" of the report's day, per series."""
    db, app, web = section["database"], section["application"], section["web"]
    series: dict[str, dict[str, int]] = {}
    if db:
        for name, label in (("queries", "kueri PostgreSQL"), ("errors", "error PostgreSQL")):
            series[label] = {slot[-2:]: n for slot, n in db["hourly"][name].items() if slot.startswith(day)}
    if app:
        series["error aplikasi"] = dict(app["hourly_errors"])
    if web:
        series["permintaan HTTP"] = dict(web["hourly_requests"])
        series["HTTP 5xx"] = dict(web["hourly_5xx"])
    return series


def build_host(request: DailyRequest) -> tuple[dict[str, Any], str, str]:
    """One host's section from its files, with the day reported and where that day came from."""
    pglog_format = _pg_format(request.pg_logs)
    _check_inputs(request, pglog_format)
    day, day_source = _report_day(request, pglog_format)
    return build_section(request, day, pglog_format), day, day_source


def unread_section(host: str, not_read: list[dict[str, str]]) -> dict[str, Any]:
    """A host none of whose logs could be read: said so, never an empty clean section."""
    return {"host": host, "database": None, "application": None, "web": None, "error_types": [],
            "failed": {}, "hourly": {}, "unreadable": 0, "notes": [], "not_read": not_read}


def assemble(project: Project, sections: list[dict[str, Any]], day: str, day_source: str) -> dict[str, Any]:
    """The report of one day: each host's section with its analisa, and the summary."""
    rules = analysis.load_rules(project.root)
    for section in sections:
        section.setdefault("not_read", [])
        section.setdefault("logs", [])
        section["analysis"] = [f.to_json() for f in analysis.analyse(section, rules, day,
                                                                       section.get("inventory_host"))]
    return {
        "schema": SCHEMA,
        "title": TITLE,
        "date": day,
        "date_source": day_source,
        "generated": datetime.now().astimezone().isoformat(timespec="seconds"),
        "hosts": sections,
        "summary": _summary(sections),
    }


def build_daily(request: DailyRequest) -> dict[str, Any]:
    section, day, day_source = build_host(request)
    return assemble(request.project, [section], day, day_source)


SUMMARY_KEYS = ("rollbacks", "deadlocks", "lock_timeouts", "statement_timeouts", "http_5xx", "app_http_500",
                "unreadable_lines", "findings", "not_read", "cut")


def _summary(sections: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the hosts; every key present, also when no host had that log."""
    total: Counter[str] = Counter(dict.fromkeys(SUMMARY_KEYS, 0))
    for s in sections:
        for key, value in s["failed"].items():
            total[key] += value or 0
        total["unreadable_lines"] += s["unreadable"]
        total["findings"] += len(s["analysis"]) if "analysis" in s else 0
        total["not_read"] += len(s.get("not_read") or [])
        total["cut"] += sum(1 for log in s.get("logs") or [] if log.get("cut"))
    return dict(total)


def report_dir(project: Project, day: str) -> Path:
    return project.records_dir / "reports" / "daily" / day


def daily_report(request: DailyRequest) -> DailyResult:
    """Build and render the report completely, then write its JSON and HTML, each atomically."""
    return write_report(request.project, build_daily(request), request.out_dir)


def write_report(project: Project, report: dict[str, Any], out_dir: Path | None = None) -> DailyResult:
    out = out_dir or report_dir(project, report["date"])
    json_path, html_path = out / f"{BASENAME}.json", out / f"{BASENAME}.html"
    html = render_daily(report)
    with writing(out), locked(project.records_dir / "reports"):
        write_atomic(json_path, dump_json(report))
        write_atomic(html_path, html)
    return DailyResult(report, json_path, html_path)
