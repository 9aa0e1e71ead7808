"""`consult outcome`: record ITO LKPP's answer and write the follow-up the SOP asks for (activity 6).

    result = record_outcome(OutcomeRequest(project, "CR-2026-0001-3f9f", "vendor", note="…", actor="ani"))
    result.record.state         # proposal-submitted
    result.attachments          # ("usulan-kegiatan.html", "usulan-kegiatan.pdf")

The letter is rendered before the outcome is recorded (a template error
leaves the record as it was), then attached to the record (HTML and PDF,
Bahasa Indonesia, each sealed in the record's history). `rejected` ends
the record and writes no letter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from spse_change.consult.form import Person, check_nomor, entered_consultation, form_context
from spse_change.consult.lpse import load_lpse
from spse_change.consult.package import REPORTS, host_baselines, newest
from spse_change.consult.render import Documents
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import Record, RecordStore
from spse_change.records.operators import require_operators

# outcome -> the follow-up letter's template (without .html.j2); None: no letter
LETTERS: Mapping[str, str | None] = {
    "lkpp": "surat-permohonan-bantuan-teknis",  # to LKPP: technical assistance
    "vendor": "usulan-kegiatan",  # to the head of the LPSE: an activity with a vendor
    "internal": "catatan-penanganan-internal",  # the LPSE makes the change itself
    "rejected": None,
}


@dataclass(frozen=True, slots=True)
class OutcomeRequest:
    project: Project
    record_id: str
    outcome: str  # lkpp | vendor | internal | rejected
    note: str  # what ITO LKPP answered
    actor: str | None
    nomor: str | None = None  # the letter's number; else lpse.yml's pattern, else none
    now: datetime | None = None

    def __post_init__(self) -> None:
        check_nomor(self.nomor)


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    record: Record
    attachments: tuple[str, ...]  # the letter's files among the record's attachments


def record_outcome(request: OutcomeRequest) -> OutcomeResult:
    if request.outcome not in LETTERS:
        raise SpseChangeError(f"unknown consultation outcome {request.outcome!r} "
                              f"(known: {', '.join(LETTERS)})")
    store = RecordStore(request.project)
    now = request.now or datetime.now(UTC)
    template = LETTERS[request.outcome]
    letter = _letter(store, request, template, now) if template else {}
    record = store.consult_outcome(request.record_id, request.actor, request.outcome, request.note, now=now)
    if letter:
        record = store.attach_bytes(record.id, request.actor, letter,
                                    note=f"consult outcome {request.outcome}: {template}", now=now)
    names = tuple(a["name"] for a in record.attachments[len(record.attachments) - len(letter):]) \
        if letter else ()
    return OutcomeResult(record, names)


def _letter(store: RecordStore, request: OutcomeRequest, template: str, now: datetime) -> dict[str, bytes]:
    """The letter's HTML and PDF, for a record still in consultation."""
    record = store.get(request.record_id)
    if record.state != "consultation":
        raise SpseChangeError(f"{record.id} is {record.state}: only a record in consultation gets an "
                              f"outcome (allowed next: {', '.join(record.next_steps()) or 'none'})")
    operators = require_operators(store.operators, request.project.root, "consult")
    actor = operators.check(request.actor, "consult")
    lpse = load_lpse(request.project.root)
    zone = ZoneInfo(lpse.timezone)
    decided = now.astimezone(zone)
    context = form_context(record, lpse, operators, store.sop.legal_basis,
                           newest(host_baselines(request.project, record)), request.nomor,
                           entered_consultation(record).astimezone(zone), REPORTS)
    context.update(moment=decided, note=request.note.strip(), actor=Person.of(actor),
                   nomor=request.nomor or lpse.number(record.id, decided.date(), template))
    docs = Documents(request.project.root)
    html = docs.html(f"{template}.html.j2", **context)
    return {f"{template}.html": html.encode(), f"{template}.pdf": docs.pdf(html)}
