"""Apache access logs: 5xx answers and, when the format logs a response time, slow requests.

The line format is Apache's own `LogFormat` string (or a nickname such as
`combined`), turned into a pattern; a format without `%D` or `%T` has no
response time, and the report says that "slow requests" cannot be told.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.errors import SpseChangeError
from spse_change.reports.sources import LineReader, first_entry

NICKNAMES = {
    "common": '%h %l %u %t "%r" %>s %b',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
    "combinedio": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %I %O',
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
}
DIRECTIVE = re.compile(r"%(?:[<>]|!?\d{3}(?:,\d{3})*)?(?:\{([^}]*)\})?([a-zA-Z%])")
QUOTED = r'(?:[^"\\]|\\.)*'
NUMBER = r"-?\d+"
# what each directive can print, and the name of the value we read from it
FIELDS: dict[str, tuple[str, str | None]] = {
    "t": (r"\[[^\]]+\]", "time"),
    "r": (r".*?", "request"),
    "s": (r"\d{3}", "status"),
    "D": (r"\d+", "us"),
    "T": (r"\d+", "s"),
    "b": (r"-|\d+", None), "B": (r"\d+", None), "I": (r"\d+", None), "O": (r"\d+", None),
    "p": (r"\d+", None), "P": (r"\d+", None), "k": (r"\d+", None),
}
TIME_UNITS = {"us": "us", "ms": "ms", "s": "s"}  # %{UNIT}T
MONTHS = {m: f"{i:02d}" for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
MAX_EXAMPLES = 5
DIGITS = re.compile(r"\b\d+\b")
SLOW_MS = 3000


def format_pattern(log_format: str) -> tuple[re.Pattern[str], str | None]:
    """The line pattern of a LogFormat, and the unit of its response time (None: it has none)."""
    fmt = NICKNAMES.get(log_format, log_format)
    out, pos, in_quotes, named, unit = [], 0, False, set(), None
    for match in DIRECTIVE.finditer(fmt):
        literal = fmt[pos:match.start()]
        in_quotes ^= literal.count('"') % 2 == 1
        out.append(re.escape(literal))
        arg, letter = match.groups()
        pos = match.end()
        if letter == "%":
            out.append("%")
            continue
        regex, name = FIELDS.get(letter, (r"\S*", None))
        if letter == "T" and arg in TIME_UNITS:
            name = TIME_UNITS[arg]
        if in_quotes and letter not in ("s", "D", "T", "t"):
            regex = QUOTED
        if name and name not in named and not (name in TIME_UNITS and unit):
            named.add(name)
            if name in TIME_UNITS:
                unit = name
                name = "duration"
            out.append(f"(?P<{name}>{regex})")
        else:
            out.append(f"(?:{regex})")
    out.append(re.escape(fmt[pos:]))
    try:
        return re.compile("^" + "".join(out) + r"\s*$"), unit
    except re.error as exc:
        raise SpseChangeError(f"Apache log format {log_format!r} is not usable ({exc})") from None


def request_path(request: str) -> str:
    """`GET /eproc4/lelang/123?x=1 HTTP/1.1` → `GET /eproc4/lelang/N`."""
    parts = request.split(" ")
    method, target = (parts[0], parts[1]) if len(parts) >= 2 else ("", request)
    return f"{method} {DIGITS.sub('N', target.split('?', 1)[0])}".strip()


@dataclass
class AccessLog:
    log_format: str
    date: str | None = None  # YYYY-MM-DD: count only that day
    slow_ms: int = SLOW_MS
    files: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors_5xx: Counter[str] = field(default_factory=Counter)
    hourly_requests: Counter[str] = field(default_factory=Counter)
    hourly_5xx: Counter[str] = field(default_factory=Counter)
    slow: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    days: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.pattern, self.unit = format_pattern(self.log_format)

    def check_file(self, path: Path) -> None:
        """Refuse a file that is no access log of this format (one line naming file:line)."""
        first_entry(path, lambda raw: self.pattern.match(raw.decode("utf-8", "replace")),
                    "an Apache access log", f"LogFormat {NICKNAMES.get(self.log_format, self.log_format)!r}")

    def read(self, path: Path) -> None:
        self.check_file(path)
        info: dict[str, Any] = {"file": str(path), "lines": 0, "unreadable": 0,
                                "unreadable_lines": [], "truncated": ""}
        reader = LineReader(path)
        for number, raw in reader:
            info["lines"] = number
            match = self.pattern.match(raw.decode("utf-8", "replace"))
            if not match:
                info["unreadable"] += 1
                if len(info["unreadable_lines"]) < MAX_EXAMPLES:
                    info["unreadable_lines"].append(number)
                continue
            self.count(match)
        info["truncated"] = reader.truncated
        self.files.append(info)

    def count(self, match: re.Match[str]) -> None:
        stamp = match.group("time")  # [27/Nov/2026:08:00:01 +0700]
        day = f"{stamp[8:12]}-{MONTHS.get(stamp[4:7], '00')}-{stamp[1:3]}"
        self.days[day] += 1
        if self.date and day != self.date:
            return
        hour = stamp[13:15]
        status = match.group("status")
        self.requests += 1
        self.statuses[status[0] + "xx"] += 1
        self.hourly_requests[hour] += 1
        path = request_path(match.group("request"))
        if status.startswith("5"):
            self.errors_5xx[f"{status} {path}"] += 1
            self.hourly_5xx[hour] += 1
        if self.unit:
            ms = int(match.group("duration")) * {"us": 0.001, "ms": 1, "s": 1000}[self.unit]
            if ms >= self.slow_ms:
                self.slow[path].append(ms)

    def summary(self, top: int = 20) -> dict[str, Any]:
        slow = sorted(({"request": p, "count": len(v), "avg_ms": round(sum(v) / len(v), 1),
                        "max_ms": round(max(v), 1)} for p, v in self.slow.items()),
                      key=lambda s: (-s["count"], s["request"]))
        return {
            "files": self.files,
            "format": NICKNAMES.get(self.log_format, self.log_format),
            "response_time": self.unit is not None,
            "slow_threshold_ms": self.slow_ms,
            "requests": self.requests,
            "statuses": dict(sorted(self.statuses.items())),
            "errors_5xx": sum(self.errors_5xx.values()),
            "top_5xx": [{"request": k, "count": v} for k, v in
                        sorted(self.errors_5xx.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
            "slow_requests": sum(s["count"] for s in slow) if self.unit else None,
            "top_slow": slow[:top],
            "hourly_requests": dict(sorted(self.hourly_requests.items())),
            "hourly_5xx": dict(sorted(self.hourly_5xx.items())),
            "unreadable": sum(f["unreadable"] for f in self.files),
            "days": dict(sorted(self.days.items())),
        }


def read_access_logs(paths: list[Path], log_format: str, date: str | None,
                     slow_ms: int = SLOW_MS) -> dict[str, Any]:
    log = AccessLog(log_format, date, slow_ms)
    for path in paths:
        log.read(path)
    return log.summary()
