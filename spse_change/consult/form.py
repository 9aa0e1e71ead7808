"""What the Formulir Konsultasi says about a record: plain data for the template.

Everything comes from the record (sealed events), its baselines and the
project's lpse.yml, operators.yml and sop.yml; nothing from the clock, so a
rebuild says the same. Rule reasons are shown in Indonesian when the
policy gives one (`alasan`), else as the policy wrote them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from spse_change.consult.lpse import Lpse
from spse_change.consult.render import tanggal
from spse_change.errors import SpseChangeError
from spse_change.records import Operator, Operators, Record, parse_window
from spse_change.records.record import moment
from spse_change.reports.daily import BASENAME as DAILY_BASENAME
from spse_change.reports.monthly import BASENAME as MONTHLY_BASENAME

ROLE_NAMES = {"spse_app": "Server Aplikasi SPSE", "spse_db": "Server Basis Data SPSE"}
OPERATOR_ROLES = {"pemohon": "Pemohon", "pengelola": "Pengelola", "kepala": "Kepala LPSE"}
# The attachments that go to ITO LKPP: spse-change's own reports (scrubbed when made), by their
# file names; a word in a note must not ship an arbitrary file to an outside party.
PERFORMANCE_REPORT, RECAP = DAILY_BASENAME, MONTHLY_BASENAME
REASON_FIELDS = ("alasan", "reason")  # the Indonesian reason first (docs/diff-json.md)
VALUE_CHARS = 100
KINDS = {"added": "ditambahkan", "removed": "dihapus", "changed": "diubah"}


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    nip: str
    roles: str  # "Pemohon, Pengelola"
    contact: str

    @classmethod
    def of(cls, operator: Operator) -> Person:
        return cls(operator.name, operator.nip,
                   ", ".join(OPERATOR_ROLES[r] for r in operator.roles), operator.contact)


def entered_consultation(record: Record) -> datetime:
    """When the record entered `consultation` (its creation, for a record born major)."""
    for count in range(1, len(record.events) + 1):
        if Record.from_events(record.events[:count]).state == "consultation":
            return moment(record.events[count - 1]["at"])
    raise SpseChangeError(f"{record.id} never entered consultation")


def head_of_lpse(operators: Operators) -> Operator:
    heads = sorted((o for o in operators.by_id.values() if "kepala" in o.roles), key=lambda o: o.id)
    if not heads:
        raise SpseChangeError(f"{operators.source}: no operator has the kepala role (the Kepala LPSE "
                              "signs the consultation documents)")
    return heads[0]


def requester(record: Record, operators: Operators) -> Operator:
    found = operators.by_id.get(record.requester)
    if found is None:
        raise SpseChangeError(f"{operators.source}: {record.requester}, who requested {record.id}, "
                              "is no longer an operator")
    return found


def reason(item: Mapping[str, Any]) -> str:
    return next((item[f] for f in REASON_FIELDS if item.get(f)), "")


def shown(value: Any) -> str:
    """One cell of the before/after table: a subtree as `key: value` pairs, long values cut."""
    if value is None:
        return "\u2013"
    if isinstance(value, Mapping):
        text = "; ".join(f"{k}: {shown(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = ", ".join(shown(v) for v in value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "ya" if value else "tidak"  # the form is Indonesian
    else:
        text = json.dumps(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "\u2026"


def change_text(item: Mapping[str, Any]) -> str:
    """What changed, in Indonesian: `ditambahkan: device: /dev/vdb1; …`, `diubah: 4096 → 16384`."""
    kind = item.get("kind")
    if item.get("secret"):
        return f"{KINDS.get(kind, kind)}: nilai rahasia (tidak dicatat)"
    if kind == "added":
        return f"{KINDS[kind]}: {shown(item.get('new'))}"
    if kind == "removed":
        return f"{KINDS[kind]}: {shown(item.get('old'))}"
    return f"{KINDS.get(kind, kind)}: {shown(item.get('old'))} \u2192 {shown(item.get('new'))}"


def schedule(evaluation: Mapping[str, Any], zone: tzinfo) -> str:
    """The proposed schedule: the evaluation's own words, else its maintenance window, readable. A
    window without offset is in the LPSE's zone, whichever machine builds the document."""
    if evaluation.get("schedule"):
        return str(evaluation["schedule"])
    if not evaluation.get("window"):
        return ""
    start, end = parse_window(evaluation["window"], zone=zone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{tanggal(end)} {end:%H:%M}"
    return f"{tanggal(start)} pukul {start:%H:%M} s.d. {until} {zone_name(start)}"


_ZONES = {7 * 3600: "WIB", 8 * 3600: "WITA", 9 * 3600: "WIT"}


def zone_name(moment: datetime) -> str:
    """Indonesia's own name of the moment's offset (WIB, WITA, WIT), else `UTC+05:30` as ISO writes it."""
    offset = moment.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if seconds in _ZONES:
        return _ZONES[seconds]
    sign, seconds = ("+" if seconds >= 0 else "-"), abs(seconds)
    return f"UTC{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def host_facts(host: str, baseline: Mapping[str, Any] | None) -> dict[str, str]:
    """Role, OS and the versions ITO asks about, from the host's newest baseline of the record."""
    if baseline is None:
        return {"name": host, "role": "\u2013", "os": "\u2013", "postgresql": "\u2013", "java": "\u2013",
                "spse": "\u2013"}
    data = baseline.get("data", {})
    os_ = data.get("os", {})
    instances = data.get("spse", {}).get("instances", {})
    javas = sorted({i.get("java_version") for i in instances.values() if i.get("java_version")}
                   or {j.get("version") for j in data.get("spse", {}).get("jdks", {}).values()
                       if j.get("version")})
    roles = [ROLE_NAMES.get(g, g) for g in baseline.get("groups", [])]
    return {
        "name": host,
        "role": ", ".join(roles) or "\u2013",
        "os": " ".join(str(os_[k]) for k in ("distribution", "version") if os_.get(k)) or "\u2013",
        "postgresql": str(data.get("database", {}).get("server_version") or "\u2013"),
        "java": ", ".join(javas) or "\u2013",
        "spse": ", ".join(f"{name} {i.get('version') or '?'}" for name, i in sorted(instances.items()))
                or "\u2013",
    }


def reports(record: Record) -> list[Mapping[str, Any]]:
    """The record's attachments that are spse-change reports, in the order attached."""
    return [a for a in record.attachments if a["name"].startswith((PERFORMANCE_REPORT, RECAP))]


def performance_report(attached: Sequence[Mapping[str, Any]]) -> str | None:
    return next((a["name"] for a in attached if a["name"].startswith(PERFORMANCE_REPORT)), None)


def check_nomor(nomor: str | None) -> None:
    """`--nomor`, when given, is a number: a blank one printed an empty 'Nomor' on the document."""
    if nomor is not None and not nomor.strip():
        raise SpseChangeError("--nomor must not be empty (leave it out for lpse.yml's letter_number)")


DEFAULT_MARK = " (nilai bawaan, belum dinilai)"


def marked_defaults(record: Record) -> dict[str, Any]:
    """The evaluation as the documents show it: a value nobody gave (the record's `defaulted`, e.g.
    urgency `Tidak Mendesak`) says it is a default, so ITO never reads it as the LPSE's judgement."""
    defaulted = {name.removeprefix("evaluation.") for name in record.defaulted}
    return {name: f"{value}{DEFAULT_MARK}" if name in defaulted and isinstance(value, str) and value
            else value for name, value in record.evaluation.items()}


def form_context(record: Record, lpse: Lpse, operators: Operators, legal_basis: Sequence[str],
                 baselines: Mapping[str, Mapping[str, Any] | None], nomor: str | None,
                 local_entered: datetime, report_folder: str) -> dict[str, Any]:
    attached = reports(record)
    evaluation = record.evaluation
    return {
        "lpse": lpse,
        "record": record,
        "nomor": nomor or lpse.number(record.id, local_entered.date(), "formulir-konsultasi"),
        "entered": local_entered,
        "moment": local_entered,  # the documents' own date (PDF metadata, signature line)
        "requester": Person.of(requester(record, operators)),
        "request": record.request,
        "kepala": Person.of(head_of_lpse(operators)),
        "evaluation": marked_defaults(record),
        "major": [{**i, "alasan": reason(i), "perubahan": change_text(i)}
                  for i in record.items if i.get("class") == "major"],
        "changes": [{**i, "before": shown(i.get("old")), "after": shown(i.get("new")), "alasan": reason(i)}
                    for i in record.items],
        "hosts": [host_facts(h, baselines.get(h)) for h in record.hosts],
        "performance_report": performance_report(attached),
        "reports": [a["name"] for a in attached],
        "report_folder": report_folder,
        "legal_basis": list(legal_basis),
        "risk": evaluation.get("risk") or "",
        "schedule": schedule(evaluation, ZoneInfo(lpse.timezone)),
        "estimated_cost": evaluation.get("estimated_cost") or "",
    }
