"""The PostgreSQL part of the daily report: pgBadger analyses, we only check and count lines.

pgBadger (`pgbadger`, a Debian package) is the DBA's standard reader of
PostgreSQL logs; its JSON output (`-x json`) is the source of every number
about queries and errors in the report. What we do ourselves is only what
pgBadger does not tell:

- refuse a file that is no PostgreSQL log of the format it seems to be
  (first non-blank line), as one line naming file and line, before pgBadger
  runs, since pgBadger silently skips what it cannot read;
- count the lines inside a real log that are no entry, no continuation of
  one, nor a readable row (torn writes, binary garbage, a copy cut short),
  so the report can show them. This pass runs while pgBadger runs.

The toolkit's own sessions (`application_name=spse-change`) are left out by
pgBadger (`--exclude-appname`); with a stderr log that works only when
`log_line_prefix` carries `%a`, which the report says.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.errors import SpseChangeError
from spse_change.reports.sources import EXTENSION, LineReader, compression, first_entry, open_log

TOOLKIT_APP = "spse-change"
DEFAULT_PREFIX = "%m [%p] "  # PostgreSQL's own default since 10
MAX_EXAMPLES = 5
SEVERITY = (rb"(?:LOG|ERROR|WARNING|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION|NOTICE|INFO"
            rb"|DEBUG\d?):  ")
TIMESTAMP = rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
ZONE = rb"(?: [A-Za-z][A-Za-z0-9+\-:/_]*| [+\-]\d\d(?::?\d\d)?)?"
# log_line_prefix escapes (PostgreSQL docs, "log_line_prefix") and what each can print
ESCAPES: dict[str, bytes] = {
    "t": TIMESTAMP + ZONE,
    "m": TIMESTAMP + rb"\.\d+" + ZONE,
    "n": rb"\d+\.\d+",
    "s": TIMESTAMP + ZONE,
    "p": rb"\d+",
    "P": rb"\d*",
    "l": rb"\d+",
    "c": rb"[0-9a-f]+\.[0-9a-f]+",
    "e": rb"[0-9A-Z]{5}",
    "v": rb"[0-9/]*",
    "x": rb"\d*",
    "Q": rb"-?\d*",
}
ANY = rb".*?"  # %a %u %d %r %h %b %i: free text, possibly empty
CSV_FIELDS = range(22, 27)  # csvlog columns: 22 (PG 9.x) … 26 (PG 14+)
CSV_START = re.compile(rb"^" + TIMESTAMP + rb"\.\d+" + ZONE + rb",")
JSON_START = b'{"timestamp":'
EXPECTED = {
    "stderr": "lines starting with log_line_prefix {prefix!r} then a severity such as 'LOG:  '",
    "csv": "csvlog rows starting with a timestamp",
    "jsonlog": "jsonlog lines starting with '{{\"timestamp\":'",
}


def prefix_pattern(prefix: str) -> re.Pattern[bytes]:
    """The start of an entry line for this `log_line_prefix` (bytes, anchored).

    Everything after `%q` prints only for session processes, so it is
    optional; escapes we do not know match any text.
    """
    out: list[bytes] = []
    optional_from: int | None = None
    i = 0
    while i < len(prefix):
        ch = prefix[i]
        if ch == "%" and i + 1 < len(prefix):
            i += 1
            while i < len(prefix) - 1 and (prefix[i].isdigit() or prefix[i] == "-"):  # padding, %-10u
                i += 1
            esc = prefix[i]
            if esc == "%":
                out.append(re.escape(b"%"))
            elif esc == "q":
                optional_from = len(out)
            else:
                out.append(ESCAPES.get(esc, ANY))
        else:
            out.append(re.escape(ch.encode()))
        i += 1
    if optional_from is not None:
        out[optional_from:] = [b"(?:" + b"".join(out[optional_from:]) + b")?"]
    return re.compile(b"^" + b"".join(out) + rb"\s*" + SEVERITY)


@dataclass
class LineCheck:
    """What one log held, line by line, beside pgBadger's reading of it."""

    file: str
    lines: int = 0
    unreadable: int = 0
    examples: list[int] = field(default_factory=list)  # line numbers of the first unreadable lines
    truncated: str = ""

    def bad(self, number: int) -> None:
        self.unreadable += 1
        if number and len(self.examples) < MAX_EXAMPLES:
            self.examples.append(number)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "lines": self.lines, "unreadable": self.unreadable,
                "unreadable_lines": self.examples, "truncated": self.truncated}


def detect_format(path: Path) -> str:
    """stderr, csv or jsonlog, from the first non-blank line."""
    for _number, line in LineReader(path):
        if not line.strip():
            continue
        if line.startswith(JSON_START):
            return "jsonlog"
        if CSV_START.match(line):
            return "csv"
        return "stderr"
    return "stderr"


def check_first_lines(path: Path, fmt: str, prefix: str) -> None:
    pattern = prefix_pattern(prefix)
    is_entry = {"stderr": pattern.match, "csv": CSV_START.match,
                "jsonlog": lambda line: line.startswith(JSON_START)}[fmt]
    first_entry(path, is_entry, f"a PostgreSQL {fmt} log", EXPECTED[fmt].format(prefix=prefix))


def bad_line_pattern(fmt: str, prefix: str) -> re.Pattern[bytes]:
    """A line that is no entry and no continuation (a tab starts one), for whole blocks at once."""
    if fmt == "jsonlog":
        good = re.escape(JSON_START) + rb".*\}\r?$"
    else:
        good = rb"\t|" + prefix_pattern(prefix).pattern[1:]  # drop the ^: it is given below
    return re.compile(rb"^(?!" + good + rb").*$", re.M)


def count_lines(path: Path, fmt: str, prefix: str, block: int = 8 << 20) -> LineCheck:
    """Count lines that are neither an entry nor part of one.

    Whole blocks of lines go through one regex search (this pass runs beside
    pgBadger and must cost little next to it).
    """
    check = LineCheck(str(path))
    if fmt == "csv":
        return _count_csv(path, check)
    bad = bad_line_pattern(fmt, prefix)
    lines, rest = 0, b""
    with open_log(path) as stream:
        while True:
            try:
                data = stream.read(block)
            except (EOFError, OSError, ValueError) as exc:  # torn gzip/bzip2 stream
                check.truncated = f"unreadable after line {lines} ({exc})"
                data = b""
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            whole, rest = data[:cut], data[cut:]
            lines = _bad_lines(bad, whole, lines, check)
    if rest:
        lines = _bad_lines(bad, rest + b"\n", lines, check)
    check.lines = lines
    return check


def _bad_lines(bad: re.Pattern[bytes], whole: bytes, lines: int, check: LineCheck) -> int:
    """Note the bad lines of a block of whole lines; return the line count after it."""
    for match in bad.finditer(whole):
        if match.start() == len(whole):  # the empty "line" after the last newline
            break
        check.bad(lines + whole.count(b"\n", 0, match.start()) + 1 if len(check.examples) < MAX_EXAMPLES
                  else 0)
    return lines + whole.count(b"\n")


def _count_csv(path: Path, check: LineCheck) -> LineCheck:
    with open_log(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        rows = csv.reader(text)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error:
                check.bad(rows.line_num)
                continue
            except (EOFError, OSError) as exc:
                check.truncated = f"unreadable after line {rows.line_num} ({exc})"
                break
            if len(row) not in CSV_FIELDS or not CSV_START.match(row[0].encode() + b","):
                check.bad(rows.line_num)
        check.lines = rows.line_num
    return check


@dataclass(frozen=True)
class PgBadgerRun:
    files: tuple[Path, ...]
    fmt: str
    prefix: str
    date: str | None = None  # YYYY-MM-DD: only that day's entries
    jobs: int = 1

    def argv(self, links: Sequence[Path], out: Path) -> list[str]:
        """pgBadger's argument list (never a shell line)."""
        # its pid file goes beside the output: pgBadger refuses to start (exit 3) while another
        # run's pid file, or a killed run's stale one, sits in the shared default /tmp
        argv = ["pgbadger", "--quiet", "--format", self.fmt, "--exclude-appname", TOOLKIT_APP,
                "--extension", "json", "--outfile", str(out), "--pid-dir", str(out.parent)]
        if self.fmt == "stderr":
            argv += ["--prefix", self.prefix]
        if self.date:
            argv += ["--begin", f"{self.date} 00:00:00", "--end", f"{self.date} 23:59:59"]
        if self.jobs > 1 and self.fmt != "csv":  # pgBadger parses csvlog with one job only
            argv += ["--jobs", str(self.jobs)]
        return argv + [str(p) for p in links]


def pgbadger_available() -> str:
    exe = shutil.which("pgbadger")
    if not exe:
        raise SpseChangeError("pgbadger not found: install the Debian package pgbadger (sh scripts/install)")
    return exe


def analyse(run: PgBadgerRun) -> tuple[dict[str, Any], list[LineCheck]]:
    """pgBadger's JSON for the files, and our line counts of them (taken while it runs)."""
    pgbadger_available()
    for path in run.files:
        check_first_lines(path, run.fmt, run.prefix)
    with tempfile.TemporaryDirectory(prefix="spse-pgbadger-") as tmp:
        # pgBadger picks its decompressor by the name's suffix: give each file the right one
        links = []
        for n, path in enumerate(run.files):
            link = Path(tmp) / f"{n:03d}{EXTENSION[compression(path)]}"
            link.symlink_to(path.resolve())
            links.append(link)
        out = Path(tmp) / "pgbadger.json"
        err = Path(tmp) / "pgbadger.err"
        with open(err, "wb") as err_fh:
            proc = subprocess.Popen(run.argv(links, out), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err_fh)
            try:
                checks = [count_lines(path, run.fmt, run.prefix) for path in run.files]
            finally:
                code = proc.wait()
        if code != 0 or not out.exists():
            reason = err.read_text(errors="replace").strip().splitlines()
            raise SpseChangeError(f"pgbadger failed (exit {code}): {reason[-1] if reason else 'no message'}")
        try:
            data = json.loads(out.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError as exc:
            raise SpseChangeError(f"pgbadger wrote no readable JSON ({exc})") from None
    return data, checks


def default_jobs() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _merged(section: Any) -> dict[str, Any]:
    """pgBadger keys most sections by report database (`postgres` unless exploded): merge them."""
    if not isinstance(section, dict):
        return {}
    merged: dict[str, Any] = {}
    for value in section.values():
        if isinstance(value, dict):
            merged.update(value)
    return merged


def _ms(value: Any) -> float:
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return 0.0


def summarise(data: dict[str, Any], top: int = 20) -> dict[str, Any]:
    """The report's database section, every number taken from pgBadger's JSON as it is."""
    queries = []
    for text, info in _merged(data.get("normalyzed_info")).items():
        count = int(info.get("count") or 0)
        if count <= 0:  # seen only beside a temp file or a lock wait, never timed
            continue
        total = _ms(info.get("duration"))
        queries.append({"query": text, "count": count, "total_ms": total,
                        "avg_ms": round(total / count, 3), "min_ms": _ms(info.get("min")),
                        "max_ms": _ms(info.get("max"))})
    queries.sort(key=lambda q: (-q["count"], q["query"]))

    errors = []
    for key, info in _merged(data.get("error_info")).items():
        level, _, message = key.partition(":  ")
        samples = info.get("error") or [""]
        sample_level, sep, _ = (samples[0] or "").partition(":  ")
        if sep:  # pgBadger files some LOG events ("database system was shut down") under ERROR
            level = sample_level
        statements = [s for s in info.get("statement") or [] if s]
        errors.append({"level": level if message else "", "message": message or key,
                       "count": int(info.get("count") or 0), "sample": samples[0] or "",
                       "statement": statements[0] if statements else "",
                       "sqlstate": next((s for s in info.get("sqlstate") or [] if s), "")})
    errors.sort(key=lambda e: (-e["count"], e["message"]))

    hourly_queries: Counter[str] = Counter()
    hourly_errors: Counter[str] = Counter()
    for days in (data.get("per_minute_info") or {}).values():
        for day, hours in days.items():
            for hour, minutes in hours.items():
                slot = f"{day[:4]}-{day[4:6]}-{day[6:]} {hour}"
                for minute in minutes.values():
                    hourly_queries[slot] += int((minute.get("query") or {}).get("count") or 0)
                    levels = minute.get("log_level") or {}
                    hourly_errors[slot] += sum(int(levels.get(lv) or 0) for lv in ("ERROR", "FATAL", "PANIC"))

    stat = _merged({k: v for k, v in (data.get("overall_stat") or {}).items() if k not in ("nlines", "peak")})
    temp = _merged(data.get("tempfile_info"))
    checkpoint = data.get("checkpoint_info") or {}
    overall_checkpoint = data.get("overall_checkpoint") or {}

    def errors_matching(*words: str) -> int:
        return sum(e["count"] for e in errors if any(w in e["message"] for w in words))

    return {
        "first_entry": stat.get("first_log_ts"),
        "last_entry": stat.get("last_log_ts"),
        "queries": int(stat.get("queries_number") or 0),
        "queries_duration_ms": _ms((stat.get("queries_duration") or {}).get("execute")),
        "errors": int(stat.get("errors_number") or 0),
        "levels": dict(sorted(_merged(data.get("logs_type")).items())),
        "top_queries": queries[:top],
        "distinct_queries": len(queries),
        "top_errors": errors[:top],
        "distinct_errors": len(errors),
        "failed": {
            "rollbacks": sum(q["count"] for q in queries if q["query"].lstrip().startswith("rollback")),
            "deadlocks": errors_matching("deadlock detected"),
            "lock_timeouts": errors_matching("lock timeout"),
            "statement_timeouts": errors_matching("statement timeout"),
        },
        "temp_files": {"count": int(temp.get("count") or 0), "bytes": int(temp.get("size") or 0),
                       "max_bytes": int(temp.get("maxsize") or 0)},
        "checkpoints": {"warnings": int(overall_checkpoint.get("checkpoint_warning") or 0),
                        "by_wal": int((checkpoint.get("starting") or {}).get("wal") or 0),
                        "by_time": int((checkpoint.get("starting") or {}).get("time") or 0),
                        "distance_kb": int(checkpoint.get("distance") or 0)},
        "hourly": {"queries": dict(sorted(hourly_queries.items())),
                   "errors": dict(sorted(hourly_errors.items()))},
    }
