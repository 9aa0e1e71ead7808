"""Planned PostgreSQL values checked against the live server's `pg_settings` rows, before
anything is applied; PostgreSQL's own `ALTER SYSTEM` check stays the final word at apply time.

A row is what `roles/spse_apply/files/pg_settings.sql` returns per setting: `setting`, `unit`,
`vartype`, `min_val`, `max_val`, `enumvals`, `context`, `source`, `sourcefile`, and
`later_file` (a configuration file read after postgresql.auto.conf that sets the name).

    problems = check_value("work_mem", "16MB", row)   # [] when PostgreSQL would take it
    to_setting("16MB", row)                           # "16384" (work_mem's unit is kB)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Units PostgreSQL accepts in a value, in its base units (bytes; milliseconds).
MEMORY_UNITS = {"B": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
BOOLEANS = {"on": "on", "off": "off", "true": "on", "false": "off", "yes": "on", "no": "off",
            "1": "on", "0": "off"}
NUMBER = re.compile(r"\s*(?P<number>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*(?P<unit>[A-Za-z]*)\s*\Z")
# Where a live value comes from that ALTER SYSTEM (postgresql.auto.conf) cannot override.
WINNING_SOURCES = ("command line", "override", "interactive", "session", "client")


def check_value(name: str, value: str, row: Mapping[str, Any] | None) -> str | None:
    """Why PostgreSQL would refuse `value` for `name` (or ignore it), else None."""
    if row is None:
        return f"{name} is not a setting of this server"
    if row["context"] == "internal":
        return f"{name} is fixed when PostgreSQL is built or initialised; it cannot be set"
    if row.get("later_file"):
        return (f"{name} is also set in {row['later_file']}, read after postgresql.auto.conf: "
                f"change it there")
    if row["source"] in WINNING_SOURCES:
        return f"{name} comes from the server's {row['source']}, which wins over ALTER SYSTEM"
    try:
        to_setting(value, row)
    except ValueError as exc:
        return f"{name} = {value!r}: {exc}"
    return None


def to_setting(value: str, row: Mapping[str, Any]) -> str:
    """The value as `pg_settings.setting` would show it (base unit), or ValueError saying why not."""
    kind = row["vartype"]
    if kind == "bool":
        if value.strip().lower() not in BOOLEANS:
            raise ValueError("not a boolean (on/off)")
        return BOOLEANS[value.strip().lower()]
    if kind == "enum":
        allowed = row.get("enumvals") or []
        if value.strip().lower() not in [v.lower() for v in allowed]:
            raise ValueError(f"not one of {', '.join(allowed)}")
        return value.strip().lower()
    if kind == "string":
        return value
    number = _in_base_unit(value, row.get("unit") or "", integer=kind == "integer")
    low, high = float(row["min_val"]), float(row["max_val"])
    if not low <= number <= high:
        raise ValueError(f"out of range ({_shown(row['min_val'], row)} .. {_shown(row['max_val'], row)})")
    return str(int(number)) if kind == "integer" else f"{number:g}"


def _in_base_unit(value: str, unit: str, integer: bool) -> float:
    match = NUMBER.match(value)
    if not match:
        raise ValueError("not a number" + (f" (with a unit like {_unit_hint(unit)})" if unit else ""))
    number, given = float(match["number"]), match["unit"]
    if given:
        base, scale = _unit_scale(unit)
        table = MEMORY_UNITS if base == "memory" else TIME_UNITS if base == "time" else {}
        if given not in table:
            raise ValueError(f"unit {given!r} does not fit this setting (unit {unit or 'none'})")
        number = number * table[given] / scale
    if integer:
        if not given and number != int(number):
            raise ValueError("not a whole number")
        number = float(round(number))
    return number


def _unit_scale(unit: str) -> tuple[str, float]:
    """(kind, size of one base unit): kB -> memory 1024; 8kB -> memory 8192; ms -> time 1."""
    match = re.fullmatch(r"(\d*)(B|kB|MB|GB|TB|us|ms|s|min|h|d)", unit)
    if not match:
        return "", 1.0
    count = int(match[1] or 1)
    if match[2] in MEMORY_UNITS:
        return "memory", count * MEMORY_UNITS[match[2]]
    return "time", count * TIME_UNITS[match[2]]


def _unit_hint(unit: str) -> str:
    return "16MB" if _unit_scale(unit)[0] == "memory" else "30s"


def _shown(limit: str, row: Mapping[str, Any]) -> str:
    unit = row.get("unit") or ""
    return f"{limit} {unit}".strip() if unit else limit
