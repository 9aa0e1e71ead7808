"""The monthly *Rekap Penanganan Permasalahan* (SOP activities 3 and 4), from the helpdesk's tickets.

Tickets come as CSV or XLSX (columns: docs/report-monthly.md). Each ticket
gets one of the SOP's three categories (keyword rules, or its own
`kategori`), a priority from the urgency x impact table, and, once resolved,
its resolution time against the priority's target. Rules are data
(`monthly_rules.yml`, or the project's `recap_rules.yml`). A ticket file that
does not parse stops the recap with one line naming file and line, and
nothing is written.
"""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

import yaml

from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.reports.render import render
from spse_change.store.files import dump_json, locked, not_a_file, write_atomic, writing

SCHEMA = "spse-change/report-monthly/1"
TITLE = "Rekap Penanganan Permasalahan"
BASENAME = "rekap-penanganan-permasalahan"
RULES_FILE = Path(__file__).with_name("monthly_rules.yml")
PROJECT_RULES = "recap_rules.yml"
EXAMPLE = Path(__file__).with_name("examples") / "tiket-2026-10.csv"
REQUIRED = ("id", "tanggal_lapor", "judul", "urgensi", "dampak")
OPTIONAL = ("uraian", "tanggal_selesai", "status", "pelapor", "kanal", "jenis", "kategori", "penanganan",
            "eskalasi_lkpp")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
                "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
WORDS = re.compile(r"[^\w]+")
DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Ticket:
    line: int
    id: str
    reported: datetime
    resolved: datetime | None
    title: str
    text: str
    urgency: str
    impact: str
    fields: dict[str, str]


def load_rules(project_root: Path | None = None) -> dict[str, Any]:
    path = RULES_FILE
    if project_root and (project_root / PROJECT_RULES).is_file():
        path = project_root / PROJECT_RULES
    try:
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))
        categories = rules["categories"]
        ids = [c["id"] for c in categories]
        for c in categories:
            c["label"], c["keywords"] = str(c["label"]), [str(k).lower() for k in c["keywords"] or []]
        table = {u: dict(row) for u, row in rules["priority"].items()}
        targets = {str(k): float(v) for k, v in rules["targets_hours"].items()}
        int(rules["recurring_min"])
        list(rules["candidates"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SpseChangeError(f"{path}: not a recap rules file ({type(exc).__name__}: {exc})") from None
    if not categories or len(set(ids)) != len(ids):
        raise SpseChangeError(f"{path}: categories must be a non-empty list with distinct ids")
    unknown = {p for row in table.values() for p in row.values()} - set(targets)
    if unknown:
        raise SpseChangeError(f"{path}: priority {sorted(unknown)[0]!r} has no target in targets_hours")
    return {**rules, "priority": table, "targets_hours": targets}


def _when(value: Any, path: Path, line: int, column: str, required: bool) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value or "").strip()
    if not text:
        if required:
            raise SpseChangeError(f"{path}:{line}: {column} is empty")
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise SpseChangeError(f"{path}:{line}: {column} {text!r} is no date (expected YYYY-MM-DD HH:MM)")


def _pick(value: str, allowed: list[str], path: Path, line: int, column: str) -> str:
    for name in allowed:
        if name.lower() == value.strip().lower():
            return name
    raise SpseChangeError(f"{path}:{line}: {column} {value!r} is not one of {', '.join(allowed)}")


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header and numbered rows of a CSV (`,` or `;`) or XLSX file (first sheet)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK\x03\x04"):
        return _xlsx_rows(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SpseChangeError(f"{path}:{line}: not UTF-8 text (save the CSV as UTF-8)") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[Any]]] = []
    try:
        header = next(reader, [])
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise SpseChangeError(f"{path}:{reader.line_num}: not CSV ({exc})") from None
    return header, rows


def _xlsx_rows(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    import openpyxl  # only XLSX needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SpseChangeError(f"{path}:1: not an XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        numbered = [(n, list(row)) for n, row in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        book.close()
    if not numbered:
        return [], []
    return [str(c or "") for c in numbered[0][1]], numbered[1:]


def read_tickets(path: Path, rules: dict[str, Any]) -> list[Ticket]:
    not_a_file(path)
    if not path.is_file():
        raise SpseChangeError(f"{path}: no such ticket file")
    header, rows = _rows(path)
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise SpseChangeError(f"{path}:1: missing column(s) {', '.join(missing)} "
                              f"(columns: docs/report-monthly.md)")
    urgencies = list(rules["priority"])
    impacts = sorted({i for row in rules["priority"].values() for i in row})
    tickets = []
    for line, row in rows:
        if not any(str(c or "").strip() for c in row):
            continue
        if len(row) > len(names):
            raise SpseChangeError(f"{path}:{line}: {len(row)} fields, the header has {len(names)}")
        values = dict(zip(names, [*row, *[""] * (len(names) - len(row))], strict=True))
        text = {k: str(v if v is not None else "").strip() for k, v in values.items()}
        if not text["id"]:
            raise SpseChangeError(f"{path}:{line}: id is empty")
        reported = cast(datetime, _when(values["tanggal_lapor"], path, line, "tanggal_lapor", True))
        resolved = _when(values.get("tanggal_selesai"), path, line, "tanggal_selesai", False)
        if resolved and resolved < reported:
            raise SpseChangeError(f"{path}:{line}: tanggal_selesai is before tanggal_lapor")
        tickets.append(Ticket(line, text["id"], reported, resolved, text["judul"],
                              f"{text['judul']} {text.get('uraian', '')}".lower(),
                              _pick(text["urgensi"], urgencies, path, line, "urgensi"),
                              _pick(text["dampak"], impacts, path, line, "dampak"),
                              {k: text.get(k, "") for k in OPTIONAL}))
    return tickets


def categorise(ticket: Ticket, categories: list[dict[str, Any]]) -> str:
    own = ticket.fields.get("kategori", "").lower()
    for c in categories:
        if own and own in (c["id"].lower(), c["label"].lower()):
            return c["id"]
    for c in categories:
        if any(re.search(r"\b" + re.escape(k), ticket.text) for k in c["keywords"]):
            return c["id"]
    return categories[-1]["id"]


def problem_key(title: str) -> str:
    """A ticket's title with case, punctuation and numbers set aside, to see recurrences."""
    return " ".join(WORDS.sub(" ", DIGITS.sub("N", title.lower())).split())


@dataclass(frozen=True)
class MonthlyRequest:
    project: Project
    month: str  # YYYY-MM
    tickets: Path
    out_dir: Path | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.month):
            raise SpseChangeError(f"--month {self.month!r}: expected YYYY-MM")
        if self.month > date.today().isoformat()[:7]:  # a typo's empty recap would look like a quiet month
            raise SpseChangeError(f"--month {self.month}: that month has not come yet")


def build_monthly(request: MonthlyRequest) -> dict[str, Any]:
    rules = load_rules(request.project.root)
    every = read_tickets(request.tickets, rules)
    tickets = [t for t in every if f"{t.reported:%Y-%m}" == request.month]
    categories = rules["categories"]
    targets = rules["targets_hours"]
    year, month = map(int, request.month.split("-"))
    month_end = datetime(year + month // 12, month % 12 + 1, 1)

    rows = []
    for t in tickets:
        priority = rules["priority"][t.urgency][t.impact]
        hours = round((t.resolved - t.reported).total_seconds() / 3600, 2) if t.resolved else None
        age = hours if hours is not None else round((month_end - t.reported).total_seconds() / 3600, 2)
        rows.append({"id": t.id, "line": t.line, "reported": t.reported.isoformat(sep=" "),
                     "resolved": t.resolved.isoformat(sep=" ") if t.resolved else None,
                     "title": t.title, "category": categorise(t, categories), "priority": priority,
                     "urgency": t.urgency, "impact": t.impact, "hours": hours,
                     "target_hours": targets[priority], "breached": age > targets[priority],
                     **{k: v for k, v in t.fields.items() if k in ("status", "pelapor", "jenis", "kanal")}})

    by_priority = []
    for priority, target in targets.items():
        mine = [r for r in rows if r["priority"] == priority]
        done = [r["hours"] for r in mine if r["hours"] is not None]
        by_priority.append({
            "priority": priority, "target_hours": target, "tickets": len(mine), "resolved": len(done),
            "open": len(mine) - len(done),
            "within_target": sum(1 for h in done if h <= target),
            "breached": sum(1 for r in mine if r["breached"]),
            "median_hours": round(statistics.median(done), 2) if done else None,
            "mean_hours": round(statistics.fmean(done), 2) if done else None,
            "max_hours": max(done) if done else None})

    problems: Counter[str] = Counter(problem_key(r["title"]) for r in rows)
    sample = {problem_key(r["title"]): r["title"] for r in reversed(rows)}
    recurring = [{"problem": sample[k], "key": k, "count": n} for k, n in
                 sorted(problems.items(), key=lambda kv: (-kv[1], kv[0])) if n >= int(rules["recurring_min"])]
    by_category = [{"id": c["id"], "label": c["label"],
                    "tickets": sum(1 for r in rows if r["category"] == c["id"])} for c in categories]
    report = {
        "schema": SCHEMA, "title": TITLE, "month": request.month,
        "generated": datetime.now().astimezone().isoformat(timespec="seconds"),
        "source": {"file": str(request.tickets), "tickets": len(every),
                   "outside_month": len(every) - len(tickets)},
        "tickets": len(rows),
        "by_category": by_category,
        "by_priority": by_priority,
        "by_status": dict(Counter(r.get("status") or "-" for r in rows).most_common()),
        "by_reporter": dict(Counter(r.get("pelapor") or "-" for r in rows).most_common()),
        "escalated_lkpp": sum(1 for t in tickets if t.fields["eskalasi_lkpp"].lower() in ("ya", "yes", "1")),
        "recurring": recurring[:10],
        "breaches": [r for r in rows if r["breached"]],
        "priority_table": rules["priority"],
        "rows": rows,
    }
    report["candidates"] = candidates(report, rules)
    return report


def candidates(report: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    """SOP activity 4: the recap's candidate changes, from the rules' `candidates`."""
    out = []
    for rule in rules["candidates"]:
        when = rule.get("when") or {}
        if "category" in when:
            count = next((c["tickets"] for c in report["by_category"] if c["id"] == when["category"]), 0)
            if count >= int(when.get("min_tickets", 1)):
                out.append(f"[{count} tiket] " + rule["change"])
        elif "recurring" in when:
            out += [rule["change"].format(problem=p["problem"], count=p["count"])
                    for p in report["recurring"] if p["count"] >= int(when["recurring"])]
        elif "breached_share" in when:
            out += [rule["change"].format(breached=p["breached"], tickets=p["tickets"],
                                          priority=p["priority"], target=f"{p['target_hours']:g}")
                    for p in report["by_priority"]
                    if p["tickets"] and p["breached"] / p["tickets"] >= float(when["breached_share"])]
    return out


@dataclass(frozen=True)
class MonthlyResult:
    report: dict[str, Any]
    json_path: Path
    html_path: Path


def monthly_report(request: MonthlyRequest) -> MonthlyResult:
    report = build_monthly(request)
    out = request.out_dir or request.project.records_dir / "reports" / "monthly" / request.month
    json_path, html_path = out / f"{BASENAME}.json", out / f"{BASENAME}.html"
    html = render("monthly.html.j2", report=report)
    with writing(out), locked(request.project.records_dir / "reports"):
        write_atomic(json_path, dump_json(report))
        write_atomic(html_path, html)
    return MonthlyResult(report, json_path, html_path)
