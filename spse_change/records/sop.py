"""The SOP's quality standards as data: activity times, the priority table, the legal basis.

Shipped defaults (`default_sop.yml`, from the SOP's activity table) with the
project's optional `sop.yml` over them: each top-level entry the project
gives replaces the default's entry of the same name.

    sop = load_sop(project.root)
    sop.priority("Mendesak", "Sedang")        # "Tinggi"
    sop.record_hours["approval"]              # 24.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from spse_change.errors import SpseChangeError
from spse_change.yamlfile import Reader, load_yaml, parse_yaml

SOP_FILE = "sop.yml"
DEFAULT_SOP = "default_sop.yml"
URGENCIES = ("Mendesak", "Tidak Mendesak")
IMPACTS = ("Kecil", "Sedang", "Besar")
PRIORITIES = ("Rendah", "Menengah", "Tinggi")
RECORD_ACTIVITIES = ("approval", "implementation", "closing", "consultation", "assistance", "proposal",
                     "internal")

_TOP = frozenset({"legal_basis", "activities", "record_activities", "priority"})
_ACTIVITY = frozenset({"name", "equipment", "hours", "output"})
_RECORD_ACTIVITY = frozenset({"hours", "sop_activity", "description"})


@dataclass(frozen=True, slots=True)
class Activity:
    """One row of the SOP's activity table (mutu baku: equipment, time, output)."""

    number: str
    name: str
    equipment: str
    hours: float | None
    output: str


@dataclass(frozen=True, slots=True)
class RecordActivity:
    """A change record's own activity and its time standard."""

    name: str
    hours: float
    sop_activity: str
    description: str


@dataclass(frozen=True, slots=True)
class Sop:
    legal_basis: tuple[str, ...]
    activities: Mapping[str, Activity]
    record_activities: Mapping[str, RecordActivity]
    table: Mapping[str, Mapping[str, str]]  # urgency -> impact -> priority

    @property
    def record_hours(self) -> dict[str, float]:
        return {name: act.hours for name, act in self.record_activities.items()}

    def priority(self, urgency: str, impact: str) -> str:
        return self.table[urgency][impact]


def load_sop(project_root: Path | None) -> Sop:
    """The shipped standards with the project's `sop.yml` (if any) over them."""
    text = resources.files(__package__).joinpath(DEFAULT_SOP).read_text(encoding="utf-8")
    document = dict(_top(parse_yaml(text, DEFAULT_SOP), DEFAULT_SOP))
    path = project_root / SOP_FILE if project_root is not None else None
    source = DEFAULT_SOP
    if path is not None and path.is_file():
        source = str(path)
        own = _top(load_yaml(path), source)
        for key, value in own.items():
            if isinstance(value, Mapping) and isinstance(document.get(key), Mapping):
                document[key] = {**document[key], **value}
            else:
                document[key] = value
    return _parse(document, source)


def _top(document: Any, source: str) -> Mapping[str, Any]:
    if document is None:
        return {}
    return Reader(source).mapping(document, "top level", _TOP)


def _parse(doc: Mapping[str, Any], source: str) -> Sop:
    r = Reader(source)
    legal = r.texts(doc.get("legal_basis"), "legal_basis")
    activities = {}
    for number, raw in r.mapping(doc.get("activities"), "activities").items():
        where = f"activities.{number}"
        raw = r.mapping(raw, where, _ACTIVITY)
        hours = raw.get("hours")
        activities[str(number)] = Activity(
            str(number), r.text(raw.get("name"), f"{where}.name"),
            r.text(raw.get("equipment", ""), f"{where}.equipment", empty=True),
            None if hours is None else r.number(hours, f"{where}.hours"),
            r.text(raw.get("output", ""), f"{where}.output", empty=True))
    record_activities = {}
    raw_records = r.mapping(doc.get("record_activities"), "record_activities",
                            frozenset(RECORD_ACTIVITIES))
    for name in RECORD_ACTIVITIES:
        where = f"record_activities.{name}"
        if name not in raw_records:
            r.fail(where, "missing")
        raw = r.mapping(raw_records[name], where, _RECORD_ACTIVITY)
        number = str(raw.get("sop_activity", "5"))
        if number not in activities:
            r.fail(f"{where}.sop_activity", f"no such SOP activity (known: {', '.join(activities)})")
        record_activities[name] = RecordActivity(
            name, r.number(raw.get("hours"), f"{where}.hours"), number,
            r.text(raw.get("description", ""), f"{where}.description", empty=True))
    table = {}
    raw_table = r.mapping(doc.get("priority"), "priority", frozenset(URGENCIES))
    for urgency in URGENCIES:
        row = r.mapping(raw_table.get(urgency), f"priority.{urgency}", frozenset(IMPACTS))
        table[urgency] = {impact: r.text(row.get(impact), f"priority.{urgency}.{impact}", PRIORITIES)
                          for impact in IMPACTS}
    if not legal:
        raise SpseChangeError(f"{source}: legal_basis: must list at least one regulation")
    return Sop(legal, activities, record_activities, table)
