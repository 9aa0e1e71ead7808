"""Change-record writes and audit: how a record's history scales, and writers at once.

Run: .venv/bin/python benches/records.py   (a few seconds)

Every write re-reads and verifies the whole chain and renders record.yml, so
one append costs O(events); a record holds tens of events in practice.
Prints: create, the 200th append, audit of 200 events, and 4 processes x 25
appends to one record (all must land).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spse_change.project import Project
from spse_change.records import NewRecord, RecordStore

ROOT = Path(__file__).resolve().parent.parent
OPERATORS = "operators:\n  budi: {name: Budi, roles: [pemohon, pengelola]}\n"
WRITER = ("import sys; from pathlib import Path; from spse_change.project import Project; "
          "from spse_change.records import RecordStore; s = RecordStore(Project(Path(sys.argv[1])))\n"
          "for n in range(25): s.attach_bytes(sys.argv[2], 'budi', {f'{sys.argv[3]}-{n}.txt': b'x'})")


def ms(start: float) -> str:
    return f"{(time.perf_counter() - start) * 1000:.1f} ms"


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    (folder / "operators.yml").write_text(OPERATORS)
    store = RecordStore(Project(folder))
    start = time.perf_counter()
    record = store.create(NewRecord(title="bench"), "budi")
    print(f"create: {ms(start)}")
    for n in range(199):
        store.attach_bytes(record.id, "budi", {f"a{n}.txt": b"x"})
    start = time.perf_counter()
    store.attach_bytes(record.id, "budi", {"last.txt": b"x"})
    print(f"append as event 201: {ms(start)}")
    start = time.perf_counter()
    assert store.audit(record.id)[0].problems == ()
    print(f"audit of 201 events: {ms(start)}")
    other = store.create(NewRecord(title="writers"), "budi")
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), other.id, f"w{i}"], cwd=ROOT)
             for i in range(4)]
    assert all(p.wait() == 0 for p in procs)
    landed = len(store.get(other.id).events) - 1
    print(f"4 processes x 25 appends to one record: {landed} of 100 landed in {ms(start)}")


if __name__ == "__main__":
    main()
