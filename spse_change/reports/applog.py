"""The SPSE (Play 1.x / log4j) application log: `HH:mm:ss,SSS LEVEL ~ message`.

An entry is its first line and every following line that starts no entry
(a stack trace after an ERROR belongs to it). An error is counted by its
exception class (the first `a.b.CName: …` line of its trace, else none) and
its message with the varying parts (numbers, quoted text, request ids)
normalised, so the same failure on different rows counts once; its `Caused
by` chain is kept, the last one being the root cause.

Lines carry only a time: the day is the file's (its rotation), which the
report states.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.reports.sources import LineReader, first_entry

ENTRY = re.compile(rb"^(\d\d):(\d\d):(\d\d),(\d{3}) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) *~ ?(.*)$")
TORN = re.compile(rb"^\d\d:\d\d")  # looks like the start of an entry, but is not a whole one
EXCEPTION = re.compile(r"^((?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*)(?::\s*(.*))?$")
CAUSED_BY = re.compile(r"^Caused by: ((?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*)(?::\s*(.*))?$")
PROBLEM_LEVELS = ("ERROR", "FATAL", "WARN")
MAX_EXAMPLES = 5
NORMALISE = (
    (re.compile(r"@[0-9a-z]{6,}\b"), "@…"),  # Play request ids
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'…'"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-f]{8}-[0-9a-f-]{27}\b"), "…"),
    (re.compile(r"\b\d+\b"), "N"),
)


def normalise(message: str) -> str:
    for pattern, repl in NORMALISE:
        message = pattern.sub(repl, message)
    return " ".join(message.split())[:300]


@dataclass
class AppError:
    level: str
    message: str  # normalised
    exception: str
    causes: list[str]
    count: int = 0
    first_time: str = ""
    sample: str = ""  # the first occurrence as written (first lines only)

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "message": self.message, "exception": self.exception,
                "causes": self.causes, "root_cause": self.causes[-1] if self.causes else self.exception,
                "count": self.count, "first_time": self.first_time, "sample": self.sample}


@dataclass
class AppLog:
    files: list[dict[str, Any]] = field(default_factory=list)
    levels: Counter[str] = field(default_factory=Counter)
    errors: dict[tuple[str, str, str], AppError] = field(default_factory=dict)
    exceptions: Counter[str] = field(default_factory=Counter)
    root_causes: Counter[str] = field(default_factory=Counter)
    hourly_errors: Counter[str] = field(default_factory=Counter)
    http_500: int = 0

    def add(self, time: str, level: str, lines: list[str]) -> None:
        self.levels[level] += 1
        if level not in PROBLEM_LEVELS:
            return
        exception, causes = "", []
        for line in lines[1:]:
            caused = CAUSED_BY.match(line.strip())
            if caused:
                causes.append(caused.group(1))
            elif not exception:
                thrown = EXCEPTION.match(line.strip())
                if thrown:
                    exception = thrown.group(1)
        message = normalise(lines[0])
        key = (level, message, exception)
        err = self.errors.get(key)
        if err is None:
            err = self.errors[key] = AppError(level, message, exception, causes, first_time=time,
                                              sample="\n".join(lines[:12]))
        err.count += 1
        if level != "WARN":
            self.hourly_errors[time[:2]] += 1
            if exception:
                self.exceptions[exception] += 1
            if causes or exception:
                self.root_causes[causes[-1] if causes else exception] += 1
            if "(500)" in "\n".join(lines[:3]):
                self.http_500 += 1

    def read(self, path: Path) -> None:
        check_file(path)
        info: dict[str, Any] = {"file": str(path), "lines": 0, "entries": 0, "unreadable": 0,
                                "unreadable_lines": [], "truncated": ""}
        current: tuple[str, str, list[str]] | None = None
        reader = LineReader(path)
        for number, raw in reader:
            info["lines"] = number
            match = ENTRY.match(raw)
            if match:
                if current:
                    self.add(*current)
                info["entries"] += 1
                hh, mm, ss, _ms, level, message = match.groups()
                current = (f"{hh.decode()}:{mm.decode()}:{ss.decode()}", level.decode(),
                           [message.decode("utf-8", "replace")])
                continue
            try:
                text = raw.decode("utf-8")
                torn = b"\0" in raw or bool(TORN.match(raw))
            except UnicodeDecodeError:
                text, torn = raw.decode("utf-8", "replace"), True
            if current is None and not torn and not text.strip():
                continue  # blank lines before the first entry
            if torn or current is None:
                info["unreadable"] += 1
                if len(info["unreadable_lines"]) < MAX_EXAMPLES:
                    info["unreadable_lines"].append(number)
                continue
            current[2].append(text)
        if current:
            self.add(*current)
        info["truncated"] = reader.truncated
        self.files.append(info)

    def summary(self, top: int = 20) -> dict[str, Any]:
        errors = sorted(self.errors.values(), key=lambda e: (-e.count, e.level, e.message))
        return {
            "files": self.files,
            "levels": dict(sorted(self.levels.items())),
            "top_errors": [e.to_json() for e in errors if e.level != "WARN"][:top],
            "top_warnings": [e.to_json() for e in errors if e.level == "WARN"][:top],
            "distinct_errors": sum(1 for e in errors if e.level != "WARN"),
            "exceptions": dict(self.exceptions.most_common()),
            "root_causes": dict(self.root_causes.most_common()),
            "http_500": self.http_500,
            "hourly_errors": dict(sorted(self.hourly_errors.items())),
            "unreadable": sum(f["unreadable"] for f in self.files),
        }


def check_file(path: Path) -> None:
    """Refuse a file that is no SPSE application log (one line naming file:line)."""
    first_entry(path, ENTRY.match, "an SPSE application log", "lines like 'HH:mm:ss,SSS LEVEL ~ message'")


def read_app_logs(paths: list[Path]) -> dict[str, Any]:
    log = AppLog()
    for path in paths:
        log.read(path)
    return log.summary()
