"""The LPSE's identity for its letters: `lpse.yml` in the project folder.

    lpse = load_lpse(project.root)
    lpse.name, lpse.unit, lpse.address, lpse.contact
    lpse.number("CR-2026-0001-3f9f", date(2026, 11, 28), "formulir-konsultasi")  # None without a pattern

A missing file or field is one line naming the file and the field (exit 2):
every document to LKPP carries the LPSE's identity, so none is guessed.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spse_change.errors import SpseChangeError
from spse_change.store.files import not_a_file
from spse_change.yamlfile import Reader, load_yaml

LPSE_FILE = "lpse.yml"
REQUIRED = ("name", "unit", "address", "contact")
# placeholders a letter-number pattern may use (the record's own facts: a rebuild gives the same number)
PLACEHOLDERS = ("record", "year", "month", "doc")
# {doc}: which document, so the form and its follow-up letter never share one number
DOC_CODES = {
    "formulir-konsultasi": "KONS",
    "surat-permohonan-bantuan-teknis": "BANTEK",
    "usulan-kegiatan": "USKEG",
    "catatan-penanganan-internal": "INT",
}
DEFAULT_TIMEZONE = "Asia/Jakarta"  # WIB; an LPSE in WITA or WIT sets its own
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass(frozen=True, slots=True)
class Lpse:
    name: str  # "LPSE Kota Contoh"
    unit: str  # the agency it belongs to: "Pemerintah Kota Contoh"
    address: str
    contact: str  # telephone, e-mail
    letter_number: str = ""  # pattern, e.g. "027/{doc}/{record}/LPSE/{month}/{year}"; "" for none
    city: str = ""  # where letters are signed ("Contoh, 28 November 2026"); "" leaves it out
    timezone: str = DEFAULT_TIMEZONE  # the dates on its documents (records keep UTC)

    def number(self, record_id: str, on: date, document: str) -> str | None:
        """The pattern filled in for one document of a record (month in Roman numerals, as
        Indonesian letters write it)."""
        if not self.letter_number:
            return None
        return self.letter_number.format(record=record_id, year=on.year, month=_ROMAN[on.month - 1],
                                         doc=DOC_CODES[document])


def load_lpse(project_root: Path) -> Lpse:
    path = project_root / LPSE_FILE
    not_a_file(path)
    if not path.is_file():
        raise SpseChangeError(f"{path}: not found; the consultation documents carry the LPSE's "
                              f"identity ({', '.join(REQUIRED)}; format: docs/consult.md)")
    return parse_lpse(load_yaml(path), str(path))


def parse_lpse(document: object, source: str) -> Lpse:
    reader = Reader(source)
    top = reader.mapping(document, "top level", frozenset({"lpse"}))
    raw = reader.mapping(top.get("lpse"), "lpse", frozenset({*REQUIRED, "letter_number", "city",
                                                                    "timezone"}))
    fields = {name: reader.text(raw.get(name), f"lpse.{name}") for name in REQUIRED}
    pattern = reader.text(raw.get("letter_number", ""), "lpse.letter_number", empty=True)
    _check_pattern(pattern, reader)
    timezone = reader.text(raw.get("timezone", DEFAULT_TIMEZONE), "lpse.timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.fail("lpse.timezone", f"unknown time zone {timezone!r} (e.g. Asia/Jakarta, Asia/Makassar, "
                    "Asia/Jayapura)")
    return Lpse(**fields, letter_number=pattern, timezone=timezone,
                city=reader.text(raw.get("city", ""), "lpse.city", empty=True))


def _check_pattern(pattern: str, reader: Reader) -> None:
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    try:
        fields = [(name, (f"!{conv}" if conv else "") + (f":{spec}" if spec else ""))
                  for _text, name, spec, conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        reader.fail("lpse.letter_number", f"not a pattern ({exc}); write {{{{ and }}}} for braces")
    for name, extra in fields:
        if name not in PLACEHOLDERS:
            reader.fail("lpse.letter_number", f"unknown placeholder {{{name}}} (known: {known})")
        if extra:  # {year:>10} named {year} as unknown while listing it as known
            reader.fail("lpse.letter_number", f"{{{name}{extra}}}: write {{{name}}} alone (no '!' or ':')")
