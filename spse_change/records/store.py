"""Change records on disk: `change_records/records/<ID>/`.

    events.jsonl    the append-only history, one sealed event a line: the source of truth
    record.yml      rendered from the events after every write (readable; never trusted)
    attachments/    evidence: the plan, baselines, diffs, letters (each one's sha256 in its event)

Ids read `CR-2026-0007-3f9a`: the year, this store's next number, and four
random hex digits, so two control machines sharing records through git
never make the same id even when they pick the same number.

Every write holds the record's lock, re-reads and verifies the whole chain,
appends one event by rewriting `events.jsonl` atomically (a killed command
leaves the old history or the new one, never half a line), then renders
`record.yml`. An id from the command line is checked before it becomes a path.

    store = RecordStore(project)
    record = store.create(NewRecord(title="Naikkan work_mem", hosts=("db1",)), actor="budi")
    store.approve(record.id, "sari", reason="sesuai Laporan Kinerja")
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import chain
from spse_change.records.fields import (
    NewRecord,
    check_item,
    evaluation_with_defaults,
    hosts_of,
    parse_window,
    plain,
)
from spse_change.records.operators import Operator, Operators, require_operators
from spse_change.records.record import Record, stamp
from spse_change.records.sop import Sop, load_sop
from spse_change.records.states import CLOSE_WITH_BASELINE, CONSULT_OUTCOMES, OBSERVED, allowed
from spse_change.store.baselines import BaselineStore, id_order
from spse_change.store.files import locked, not_a_file, private_dir, write_atomic, writing
from spse_change.yamlfile import Reader

ID_RE = re.compile(r"CR-(?P<year>\d{4})-(?P<number>\d{4,})-(?P<tag>[0-9a-f]{4})")
_ATTACHMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}")
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: a long history renders 10x faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
EVENTS = "events.jsonl"
RENDERED = "record.yml"
ATTACHMENTS = "attachments"


def checked_id(record_id: str) -> str:
    """A record id from outside (command line, file) before it becomes a path."""
    if not isinstance(record_id, str) or not ID_RE.fullmatch(record_id):
        raise SpseChangeError(f"bad record id {record_id!r}: ids read CR-YYYY-NNNN-xxxx "
                              "(see 'spse-change record list')")
    return record_id


def render(record: Record) -> str:
    return ("# Rendered from events.jsonl by spse-change: edits here are caught by "
            "'spse-change record audit'.\n"
            + yaml.dump(record.to_json(), Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100))


@dataclass(frozen=True, slots=True)
class AuditResult:
    """`problems` break trust (exit 1); `notes` are what a stopped command can leave, said but harmless."""

    record: str
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"record": self.record, "ok": not self.problems, "problems": list(self.problems),
                "notes": list(self.notes)}


class RecordStore:
    """The records folder of one project. Writes need operators.yml (who acts); reads do not."""

    def __init__(self, project: Project, operators: Operators | None = None, sop: Sop | None = None) -> None:
        self.project = project
        self.root = project.records_dir / "records"
        self._operators = operators
        self._sop = sop

    # ---- reading -------------------------------------------------------------------------

    @property
    def operators(self) -> Operators | None:
        if self._operators is None:
            self._operators = Operators.load(self.project.root)
        return self._operators

    @property
    def sop(self) -> Sop:
        if self._sop is None:
            self._sop = load_sop(self.project.root)
        return self._sop

    def _key(self) -> bytes:
        return self.project.hmac_key_file().read_bytes().strip()

    def ids(self) -> list[str]:
        """Every record id, in order of year, number and tag (from folder names alone)."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and ID_RE.fullmatch(p.name)]
        return sorted(found, key=_id_order)

    def get(self, record_id: str) -> Record:
        """The record, its chain verified; a damaged one is one line pointing at `record audit`."""
        record_id = checked_id(record_id)
        folder = self.root / record_id
        if not (folder / EVENTS).is_file():
            raise SpseChangeError(f"no record {record_id} in {self.root}")
        events, problems = self._events(folder, record_id)
        if problems:
            raise SpseChangeError(f"record {record_id} is damaged ({problems[0]}): "
                                  f"see 'spse-change record audit {record_id}'")
        return Record.from_events(events)

    def list(self) -> tuple[list[Record], dict[str, str]]:
        """Every sound record, and each damaged one's id with its first problem."""
        records, damaged = [], {}
        for record_id in self.ids():
            try:
                records.append(self.get(record_id))
            except SpseChangeError as exc:
                damaged[record_id] = exc.message
        return records, damaged

    def _events(self, folder: Path, record_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        try:
            text = (folder / EVENTS).read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], [f"{EVENTS} is missing"]
        except (OSError, UnicodeDecodeError) as exc:
            return [], [f"{EVENTS}: cannot read ({exc})"]
        events, problems = chain.parse(text)
        problems += chain.verify(events, self._key(), record_id)
        if not events and not problems:
            problems.append(f"{EVENTS} holds no event")
        elif events and events[0].get("step") != "create" and not problems:
            problems.append("the first event is not the record's creation")
        return events, problems

    def audit(self, record_id: str | None = None) -> list[AuditResult]:
        """Each record's problems: an edited, removed or reordered event, a record.yml that
        disagrees with its events, an attachment edited, missing or not in the history."""
        ids = [checked_id(record_id)] if record_id else self.ids()
        if record_id and not (self.root / record_id).is_dir():
            raise SpseChangeError(f"no record {record_id} in {self.root}")
        return [self._audit_one(i) for i in ids]

    def _audit_one(self, record_id: str) -> AuditResult:
        folder = self.root / record_id
        events, problems = self._events(folder, record_id)
        if problems or not events:
            return AuditResult(record_id, tuple(problems))
        notes = []
        record = Record.from_events(events)
        try:
            rendered = yaml.load((folder / RENDERED).read_text(encoding="utf-8"), Loader=_LOADER)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            rendered = exc
        if len(events) > 1 and rendered == Record.from_events(events[:-1]).to_json():
            notes.append(f"{RENDERED} is one event behind (a command stopped between its two "
                         "writes); the next write renders it again")
        elif rendered != record.to_json():
            problems.append(f"{RENDERED} disagrees with its events{_first_difference(rendered, record)}")
        kept = {a["name"]: a["sha256"] for a in record.attachments}
        shelf = folder / ATTACHMENTS
        present = {p.name for p in shelf.iterdir()} if shelf.is_dir() else set()
        for name, digest in kept.items():
            if name not in present:
                problems.append(f"{ATTACHMENTS}/{name}: missing")
            elif _sha256((folder / ATTACHMENTS / name).read_bytes()) != digest:
                problems.append(f"{ATTACHMENTS}/{name}: edited (its sha256 differs from its event's)")
        notes += [f"{ATTACHMENTS}/{name}: not in the history (left by a stopped attach?)"
                  for name in sorted(present - set(kept)) if not name.startswith(".")]
        return AuditResult(record_id, tuple(problems), tuple(notes))

    def covering(self, host: str, approved: str | None) -> list[tuple[str, Mapping[str, Any]]]:
        """(record id, item) for each change of `host` a record explains against its approved baseline.

        Only a record that started from that baseline (its planned or before
        baseline of the host) explains anything: once a verified change made
        its after-baseline the approved one, an old record no longer hides a
        later return to its values. A damaged record explains nothing.
        """
        records, _damaged = self.list()
        return [(r.id, item) for r in records
                if approved is not None
                and approved in {r.baselines.get(host, {}).get(k) for k in ("planned", "before")}
                for item in r.coverage() if item.get("host") == host]

    # ---- writing -------------------------------------------------------------------------

    def _actor(self, name: str | None, step: str) -> Operator:
        return require_operators(self.operators, self.project.root, step).check(name, step)

    def create(self, new: NewRecord, actor: str | None, now: datetime | None = None) -> Record:
        """A new record (state `submitted`, or `consultation` when any item is major)."""
        who = self._actor(actor, "create")
        now = now or datetime.now(UTC)
        sop = self.sop
        evaluation, defaulted = evaluation_with_defaults(new.evaluation)
        request = {"date": f"{now.astimezone():%Y-%m-%d}", "requester": who.name, "contact": who.contact,
                   "unit": "", "description": new.title, "purpose": "", "effective_date": None,
                   **new.request}
        classes = {item["class"] for item in new.items}
        data = {
            "title": new.title, "hosts": hosts_of(new), "request": request, "evaluation": evaluation,
            "defaulted": defaulted, "items": [dict(i) for i in new.items],
            "class": "major" if "major" in classes else "minor" if classes else "none",
            "priority": sop.priority(evaluation["urgency"], evaluation["impact"]),
            "baselines": dict(new.baselines), "standards": sop.record_hours,
            "plan": plain(new.plan),
        }
        if new.observed_baselines:
            data.update(origin=OBSERVED,
                        observed_baselines={h: dict(b) for h, b in new.observed_baselines.items()})
        with writing(self.root), locked(self.root):
            record_id = self._new_id(now)
            building = self.root / f".new-{record_id}"  # renamed into place whole: never half a record
            shutil.rmtree(building, ignore_errors=True)
            private_dir(building)
            events = [self._event(record_id, [], "create", who, data, now)]
            for name, content in new.attachments.items():
                events.append(self._event(record_id, events, "attach", who,
                                          self._store_attachment(building, name, content), now))
            record = self._write(building, events)
            os.rename(building, self.root / record_id)
            return record

    def _new_id(self, now: datetime) -> str:
        year = now.astimezone().year
        numbers = [int(m["number"]) for i in self.ids() if (m := ID_RE.fullmatch(i))
                   and int(m["year"]) == year]
        return f"CR-{year}-{max(numbers, default=0) + 1:04d}-{secrets.token_hex(2)}"

    def _event(self, record_id: str, before: Sequence[Mapping[str, Any]], step: str, who: Operator,
               data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        event = {"record": record_id, "seq": len(before) + 1, "at": stamp(now), "step": step,
                 "actor": who.id, "actor_name": who.name, "data": dict(data),
                 "prev": before[-1]["mac"] if before else ""}
        return chain.seal(event, self._key())

    def _write(self, folder: Path, events: Sequence[Mapping[str, Any]]) -> Record:
        record = Record.from_events(events)
        write_atomic(folder / EVENTS, "".join(chain.line(e) for e in events))
        write_atomic(folder / RENDERED, render(record))
        return record

    def _step(self, record_id: str, step: str, actor: str | None, data: Mapping[str, Any],
              now: datetime | None = None,
              check: Callable[[Record, Operator], None] | None = None,
              effect: Callable[[Record, Operator], None] | None = None) -> Record:
        """Take one step on a record under its lock: actor, state and the step's own check first.
        `effect` (approving baselines) runs under the lock before the event is written: a command
        killed in between leaves the step undone and free to be taken again, never a step taken
        whose effect is missing."""
        who = self._actor(actor, step)
        record_id = checked_id(record_id)
        folder = self.root / record_id
        with writing(folder), locked(folder):
            record = self.get(record_id)
            if not allowed(step, record.state, record.emergency, record.approved, record.observed_change):
                steps = ", ".join(record.next_steps()) or "none"
                raise SpseChangeError(f"{record_id} is {record.state}: cannot {step} "
                                      f"(allowed next: {steps})")
            if check is not None:
                check(record, who)
            if effect is not None:
                effect(record, who)
            events = list(record.events)
            events.append(self._event(record_id, events, step, who, data, now or datetime.now(UTC)))
            return self._write(folder, events)

    @staticmethod
    def _not_requester(record: Record, who: Operator) -> None:
        if who.id == record.requester:
            raise SpseChangeError(f"{who.id} may not decide {record.id}: the approver is never "
                                  "the requester")

    def approve(self, record_id: str, actor: str | None, reason: str, window: str | None = None,
                now: datetime | None = None) -> Record:
        """The head of the LPSE approves (never the requester); `window` START/END sets the
        maintenance window (else the evaluation's stands).

        A record of a change already made (`record new --diff`) is closed by its approval, and
        each host's observed after-baseline becomes its approved baseline.
        """
        if window:
            parse_window(window, Reader("--window"), "window")
        data: dict[str, Any] = {"reason": _reason(reason), "window": window}
        record = self.get(record_id)  # its origin never changes: safe to read before the lock
        if record.observed_change and record.state == "submitted":
            data["baselines"] = {h: b["after"] for h, b in record.baselines.items() if "after" in b}
        return self._step(record_id, "approve", actor, data, now, self._not_requester,
                          self._approving(data.get("baselines", {}), "approved"))

    def _not_behind(self, record: Record, chosen: Mapping[str, str]) -> None:
        """Never approve a baseline older than the host's approved one: that would undo a later
        approval (another change approved since this record's evidence was captured)."""
        baselines = BaselineStore(self.project.records_dir)
        for host, baseline_id in chosen.items():
            approved = baselines.approved_id(host)
            if approved is not None and id_order(approved) > id_order(baseline_id):
                raise SpseChangeError(f"{record.id}: {host}'s approved baseline {approved} is newer than "
                                      f"{baseline_id}; approving it would undo that approval "
                                      f"(record the change again from {host}@approved)")

    def _approving(self, chosen: Mapping[str, str], what: str) -> Callable[[Record, Operator], None]:
        """A step's effect: each baseline becomes its host's approved one, naming the record (never
        one older than the approved one, checked under the record's lock)."""
        def approve(record: Record, who: Operator) -> None:
            self._not_behind(record, chosen)
            baselines = BaselineStore(self.project.records_dir)
            for baseline_id in chosen.values():
                baselines.approve(baseline_id, by=who.id, reason=f"{record.id} {what}: {record.title}",
                                  record=record.id)
        return approve

    def consult_outcome(self, record_id: str, actor: str | None, outcome: str, note: str,
                        now: datetime | None = None) -> Record:
        """ITO LKPP's answer to a record in `consultation` (SOP activities 5 and 6).

        `lkpp` → `assistance-requested`, `vendor` → `proposal-submitted`,
        `internal` → `internal`, `rejected` → `rejected`; the note says why.
        The consultation activity ends and the outcome's follow-up activity
        starts under its SOP time standard (`states.CONSULT_OUTCOMES`).
        """
        if outcome not in CONSULT_OUTCOMES:
            raise SpseChangeError(f"unknown consultation outcome {outcome!r} "
                                  f"(known: {', '.join(CONSULT_OUTCOMES)})")
        if not note or not note.strip():
            raise SpseChangeError("--note must say what ITO LKPP answered")
        return self._step(record_id, "consult", actor, {"outcome": outcome, "note": note.strip()}, now)

    def reject(self, record_id: str, actor: str | None, reason: str, now: datetime | None = None) -> Record:
        return self._step(record_id, "reject", actor, {"reason": _reason(reason)}, now, self._not_requester)

    def start_applying(self, record_id: str, actor: str | None, reason: str = "",
                       outside_window: str | None = None, now: datetime | None = None) -> Record:
        """`approved` (or an Emergency `submitted`, or `rolled-back` for another try) → `applying`.

        Refused for a major record, and outside the maintenance window unless
        `outside_window` gives the reason (kept in the record).
        """
        at = now or datetime.now(UTC)

        def check(record: Record, _who: Operator) -> None:
            if record.cls == "major":
                raise SpseChangeError(f"{record.id} is major: it is consulted with ITO LKPP, never "
                                      "applied through this path")
            if record.in_window(at) is False and not (outside_window or "").strip():
                start, end = record.window()  # type: ignore[misc]
                raise SpseChangeError(f"{record.id}: now is outside its maintenance window "
                                      f"{start.isoformat()}/{end.isoformat()} (give a reason to override)")

        data = {"reason": reason, "outside_window": (outside_window or "").strip() or None}
        return self._step(record_id, "apply", actor, data, at, check)

    def mark_verified(self, record_id: str, actor: str | None, after: Mapping[str, str],
                      before: Mapping[str, str] | None = None,
                      observed: Sequence[Mapping[str, Any]] = (), note: str = "",
                      now: datetime | None = None) -> Record:
        """`applying` → `verified`, then each host's after-baseline becomes its approved baseline
        (reason: the record id). `observed` are the before → after diff items (each with `host`)."""
        reader = Reader("verified")
        for index, item in enumerate(observed):
            check_item(item, reader, f"observed[{index}]")
        baselines = BaselineStore(self.project.records_dir)
        for host, baseline_id in after.items():
            if baselines.load(baseline_id)["host"] != host:
                raise SpseChangeError(f"baseline {baseline_id} is not of host {host}")
        data = {"after": dict(after), "before": dict(before or {}),
                "observed": [dict(i) for i in observed], "note": note}
        return self._step(record_id, "verify", actor, data, now, effect=self._approving(after, "verified"))

    def mark_rolled_back(self, record_id: str, actor: str | None, reason: str,
                         restored: Mapping[str, str] | None = None, now: datetime | None = None) -> Record:
        """`applying` or `verified` → `rolled-back`. `restored`: per host, the baseline captured after
        the rollback (proved equal to the before-baseline). A verified record had made its
        after-baselines the approved ones: the restored ones (else the before ones) are approved again."""
        data = {"reason": _reason(reason), "restored": dict(restored or {})}
        record = self._step(record_id, "roll-back", actor, data, now)
        if Record.from_events(record.events[:-1]).state == "verified":
            baselines = BaselineStore(self.project.records_dir)
            back = {h: b["before"] for h, b in record.baselines.items() if "before" in b}
            for baseline_id in {**back, **(restored or {})}.values():
                baselines.approve(baseline_id, by=record.events[-1]["actor"],
                                  reason=f"{record.id} rolled back: {record.events[-1]['data']['reason']}",
                                  record=record.id)
        return record

    def mark_failed(self, record_id: str, actor: str | None, reason: str,
                    now: datetime | None = None) -> Record:
        return self._step(record_id, "fail", actor, {"reason": _reason(reason)}, now)

    def close(self, record_id: str, actor: str | None, reason: str = "",
              baselines: Sequence[str] = (), now: datetime | None = None) -> Record:
        """Close a record. One in a consultation outcome (`assistance-requested`,
        `proposal-submitted`, `internal`) closes once its work is done, with `baselines`
        (references as `diff` takes them, e.g. `app1@latest`), one per host of the record:
        each becomes its host's approved baseline."""
        chosen = self._closing_baselines(self.get(record_id), baselines)
        data: dict[str, Any] = {"reason": reason, **({"baselines": chosen} if chosen else {})}
        return self._step(record_id, "close", actor, data, now, effect=self._approving(chosen, "closed"))

    def _closing_baselines(self, record: Record, refs: Sequence[str]) -> dict[str, str]:
        """host -> baseline id for `close --baseline`; required exactly where a consultation led."""
        if record.state not in CLOSE_WITH_BASELINE:
            if refs:
                raise SpseChangeError(f"{record.id} is {record.state}: --baseline is for a record "
                                      f"closed after its consultation ({', '.join(CLOSE_WITH_BASELINE)})")
            return {}
        store = BaselineStore(self.project.records_dir)
        chosen: dict[str, str] = {}
        for ref in refs:
            baseline = store.load_stored(ref, "record close --baseline")
            host = baseline["host"]
            if host not in record.hosts:
                raise SpseChangeError(f"--baseline {ref}: host {host} is not in {record.id} "
                                      f"(hosts: {', '.join(record.hosts)})")
            if host in chosen:
                raise SpseChangeError(f"--baseline {ref}: host {host} is given twice")
            chosen[host] = baseline["id"]
        missing = [h for h in record.hosts if h not in chosen]
        if missing:
            raise SpseChangeError(f"{record.id} is {record.state}: closing it approves each host's "
                                  f"baseline after the work; give --baseline "
                                  f"{' --baseline '.join(f'{h}@latest' for h in missing)}")
        return chosen

    def attach(self, record_id: str, actor: str | None, files: Sequence[Path], note: str = "",
               now: datetime | None = None) -> Record:
        """Copy each file into the record's attachments, one `attach` event each."""
        contents = {}
        for path in files:
            not_a_file(path)
            try:
                contents[path.name] = path.read_bytes()
            except OSError as exc:
                raise SpseChangeError(f"{path}: cannot read ({exc.strerror or exc})") from None
        return self.attach_bytes(record_id, actor, contents, note, now)

    def attach_bytes(self, record_id: str, actor: str | None, contents: Mapping[str, bytes],
                     note: str = "", now: datetime | None = None) -> Record:
        """Store named contents (a plan, a diff, a report) as attachments, one event each."""
        who = self._actor(actor, "attach")
        record_id = checked_id(record_id)
        folder = self.root / record_id
        with writing(folder), locked(folder):
            events = list(self.get(record_id).events)
            for name, content in contents.items():
                data = {**self._store_attachment(folder, name, content), "note": note}
                events.append(self._event(record_id, events, "attach", who, data,
                                          now or datetime.now(UTC)))
            return self._write(folder, events)

    def read_attachment(self, record_id: str, name: str) -> bytes:
        """An attachment's bytes, checked against the sha256 its event sealed."""
        record = self.get(record_id)
        kept = next((a for a in record.attachments if a["name"] == name), None)
        if kept is None:
            raise SpseChangeError(f"{record_id} has no attachment {name!r}")
        content = (self.root / record_id / ATTACHMENTS / name).read_bytes()
        if _sha256(content) != kept["sha256"]:
            raise SpseChangeError(f"{record_id}: attachments/{name} was edited "
                                  f"(see 'spse-change record audit {record_id}')")
        return content

    @staticmethod
    def _store_attachment(folder: Path, name: str, content: bytes) -> dict[str, Any]:
        """Write one attachment under a free name (`x.txt`, `x-2.txt`, …); returns its event data."""
        if not _ATTACHMENT.fullmatch(name) or name in (".", ".."):
            raise SpseChangeError(f"bad attachment name {name!r} (letters, digits, '._@+-')")
        target = folder / ATTACHMENTS / name
        stem, suffix = Path(name).stem, Path(name).suffix
        number = 1
        while target.exists():
            number += 1
            target = folder / ATTACHMENTS / f"{stem}-{number}{suffix}"
        private_dir(target.parent)
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o600)
        os.replace(tmp, target)
        return {"name": target.name, "sha256": _sha256(content), "size": len(content), "note": ""}


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise SpseChangeError("--reason must say why")
    return reason.strip()


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _id_order(record_id: str) -> tuple[int, int, str]:
    match = ID_RE.fullmatch(record_id)
    assert match is not None
    return int(match["year"]), int(match["number"]), match["tag"]


def _first_difference(rendered: Any, record: Record) -> str:
    if isinstance(rendered, Exception):
        return f" (cannot read it: {rendered})"
    if not isinstance(rendered, dict):
        return ""
    expected = record.to_json()
    fields = [k for k in expected if rendered.get(k) != expected[k]]
    fields += [k for k in rendered if k not in expected]
    return f" (field {fields[0]})" if fields else ""
