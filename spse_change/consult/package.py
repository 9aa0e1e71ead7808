"""`consult build`: the consultation package a major record sends to ITO LKPP.

    result = build_package(BuildRequest(project, "CR-2026-0001-3f9f", actor="budi", nomor=None))
    result.path      # change_records/records/CR-2026-0001-3f9f/CR-2026-0001-3f9f-konsultasi-v1.zip

Built from an allow-list, never from a folder listing: the form (HTML and
PDF), `diff.json`, each host's before and after baselines (secret-free by
the baseline contract), the record's attached reports (read back through
the store, so checked against their sealed sha256), and `SHA256SUMS` over
every other file. Nothing else of the project, and nothing of its private
`.spse-change/` folder, can reach the zip.

Deterministic: entries sorted, each stamped with the moment the record
entered consultation (in the LPSE's time zone), the PDF's dates pinned to
it. Two builds differ only in their number. Each build is recorded in the
record's sealed history by attaching its `SHA256SUMS` (note: the zip's
name and sha256), not the zip itself: the history then proves which
package ITO received without holding every build twice.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from spse_change.consult.form import entered_consultation, form_context, reports
from spse_change.consult.lpse import Lpse, load_lpse
from spse_change.consult.render import Documents
from spse_change.diff import diff_baselines, load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import Operators, Record, RecordStore
from spse_change.records.operators import require_operators
from spse_change.store.baselines import BaselineStore
from spse_change.store.files import dump_json, locked, write_atomic, writing

FORM = "formulir-konsultasi"
SUMS = "SHA256SUMS"
REPORTS = "lampiran"  # the attached reports' folder inside the package
_BUILT = re.compile(r"konsultasi-v(?P<n>\d+)-SHA256SUMS\.txt")


@dataclass(frozen=True, slots=True)
class BuildRequest:
    project: Project
    record_id: str
    actor: str | None
    nomor: str | None = None  # the letter number; else lpse.yml's pattern, else none


@dataclass(frozen=True, slots=True)
class BuildResult:
    path: Path
    version: int
    files: tuple[str, ...]  # inside the package folder, sorted
    sha256: str  # of the zip


def build_package(request: BuildRequest) -> BuildResult:
    store = RecordStore(request.project)
    record = store.get(request.record_id)
    if record.state != "consultation":
        raise SpseChangeError(f"{record.id} is {record.state}: only a record in consultation gets a "
                              "consultation package")
    operators = require_operators(store.operators, request.project.root, "attach")
    operators.check(request.actor, "attach")
    lpse = load_lpse(request.project.root)
    entered = entered_consultation(record).astimezone(ZoneInfo(lpse.timezone))
    files = contents(store, record, operators, lpse, request.nomor, entered)
    folder = store.root / record.id
    with writing(folder), locked(folder / ".konsultasi"):
        version = 1 + max((int(m["n"]) for a in store.get(record.id).attachments
                           if (m := _BUILT.fullmatch(a["name"]))), default=0)
        name = f"{record.id}-konsultasi-v{version}.zip"
        data = pack(files, f"{record.id}-konsultasi", entered)
        write_atomic(folder / name, data)
        digest = hashlib.sha256(data).hexdigest()
        store.attach_bytes(record.id, request.actor, {f"konsultasi-v{version}-SHA256SUMS.txt": files[SUMS]},
                           note=f"consult build v{version}: {name} sha256 {digest}")
    return BuildResult(folder / name, version, tuple(sorted(files)), digest)


def contents(store: RecordStore, record: Record, operators: Operators, lpse: Lpse, nomor: str | None,
             entered: datetime) -> dict[str, bytes]:
    """Every file of the package by its name inside it, SHA256SUMS last over all the others."""
    project = store.project
    files: dict[str, bytes] = {}
    pairs = host_baselines(project, record)
    for host, sides in pairs.items():
        for side, baseline in sides.items():
            files[f"baseline-{side}-{host}.json"] = dump_json(baseline).encode()
    policy = load_policy(project.root)
    files["diff.json"] = dump_json({
        "record": record.id,
        "items": [dict(i) for i in record.items],
        "diffs": [diff_baselines(p["before"], p["after"], policy).to_json()
                  for _host, p in sorted(pairs.items()) if len(p) == 2],
    }).encode()
    for attachment in reports(record):
        files[f"{REPORTS}/{attachment['name']}"] = store.read_attachment(record.id, attachment["name"])
    context = form_context(record, lpse, operators, store.sop.legal_basis, newest(pairs), nomor, entered,
                           REPORTS)
    docs = Documents(project.root)
    html = docs.html(f"{FORM}.html.j2", **context)
    files[f"{FORM}.html"] = html.encode()
    files[f"{FORM}.pdf"] = docs.pdf(html)
    files[SUMS] = "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files)).encode()
    return files


def host_baselines(project: Project, record: Record) -> dict[str, dict[str, dict[str, Any]]]:
    """Each host's `before` (else the one it was planned against) and `after` baseline the record names."""
    store = BaselineStore(project.records_dir)
    pairs: dict[str, dict[str, dict[str, Any]]] = {}
    for host in record.hosts:
        ids = record.baselines.get(host, {})
        for side, keys in (("before", ("before", "planned")), ("after", ("after",))):
            baseline_id = next((ids[k] for k in keys if ids.get(k)), None)
            if baseline_id:
                pairs.setdefault(host, {})[side] = store.load(baseline_id)
    return pairs


def newest(pairs: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Mapping[str, Any] | None]:
    """The host facts the documents show come from its after-baseline, else its before one."""
    return {h: p.get("after") or p.get("before") for h, p in pairs.items()}


def pack(files: Mapping[str, bytes], folder: str, stamp: datetime) -> bytes:
    """The zip: one folder, entries sorted, every timestamp `stamp`, plain 0644 files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()
