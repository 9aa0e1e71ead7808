"""The history is the truth: audit names what was edited, removed or reordered; writers lose nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import NewRecord, RecordStore
from spse_change.records.record import Record


@pytest.fixture
def record(store: RecordStore) -> Record:
    record = store.create(NewRecord(title="Naikkan work_mem", hosts=("db1",),
                                    attachments={"plan.yml": b"title: x\n"}), "budi")
    store.approve(record.id, "sari", "ok")
    return store.start_applying(record.id, "ani")


def events_file(store: RecordStore, record: Record) -> Path:
    return store.root / record.id / "events.jsonl"


def rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(change(lines)))


def problems(store: RecordStore, record: Record) -> list[str]:
    return list(store.audit(record.id)[0].problems)


def test_clean_record_audits_clean(store: RecordStore, record: Record) -> None:
    result = store.audit()
    assert [(r.record, r.problems, r.notes) for r in result] == [(record.id, (), ())]


def test_edited_event_is_named(store: RecordStore, record: Record) -> None:
    def edit(lines: list[str]) -> list[str]:
        event = json.loads(lines[2])
        event["data"]["reason"] = "disetujui (diubah)"
        return [*lines[:2], json.dumps(event) + "\n", *lines[3:]]
    rewrite(events_file(store, record), edit)
    assert problems(store, record) == ["event 3 (approve): edited (its MAC does not match its content)"]
    with pytest.raises(SpseChangeError, match=rf"^record {record.id} is damaged \(event 3 \(approve\): "
                                              rf"edited .*see 'spse-change record audit {record.id}'$"):
        store.mark_verified(record.id, "ani", after={})


def test_recomputing_without_the_key_does_not_help(store: RecordStore, record: Record,
                                                   project: Project) -> None:
    """Someone who rehashes an edited event with another key is still caught."""
    other = RecordStore(Project(project.root / "elsewhere"), store.operators)
    (project.root / "elsewhere").mkdir()
    fake = other.create(NewRecord(title="Naikkan work_mem"), "budi")
    forged = (other.root / fake.id / "events.jsonl").read_text().replace(fake.id, record.id)
    rewrite(events_file(store, record), lambda lines: [forged, *lines[1:]])
    assert problems(store, record)[0] == "event 1 (create): edited (its MAC does not match its content)"


def test_removed_and_reordered_events_are_named(store: RecordStore, record: Record) -> None:
    path = events_file(store, record)
    original = path.read_text()
    rewrite(path, lambda lines: [lines[0], *lines[2:]])
    assert problems(store, record) == [
        "event 3 (approve) at position 2: events removed before it",
        "event 4 (apply) at position 3: events removed before it"]
    path.write_text(original)
    rewrite(path, lambda lines: [lines[0], lines[2], lines[1], lines[3]])
    assert problems(store, record)[:2] == [
        "event 3 (approve) at position 2: events removed before it",
        "event 2 (attach) at position 3: events reordered"]


def test_edited_record_yml_and_attachment_are_named(store: RecordStore, record: Record) -> None:
    rendered = store.root / record.id / "record.yml"
    rendered.write_text(rendered.read_text().replace("state: applying", "state: verified"))
    (store.root / record.id / "attachments" / "plan.yml").write_text("title: y\n")
    assert problems(store, record) == [
        "record.yml disagrees with its events (field state)",
        "attachments/plan.yml: edited (its sha256 differs from its event's)"]


def test_truncated_history_disagrees_with_record_yml(store: RecordStore, record: Record) -> None:
    rewrite(events_file(store, record), lambda lines: lines[:-1])
    assert problems(store, record) == ["record.yml disagrees with its events (field state)"]


def test_audit_cli_exit_codes(store: RecordStore, record: Record, project: Project,
                              capsys: pytest.CaptureFixture[str]) -> None:
    from spse_change.cli.main import main
    base = ["--project", str(project.root), "record", "audit"]
    assert main(base) == 0
    assert capsys.readouterr().out == f"{record.id}: ok\n"
    rewrite(events_file(store, record), lambda lines: lines[:-1])
    assert main([*base, record.id]) == 1
    assert capsys.readouterr().out == f"{record.id}: record.yml disagrees with its events (field state)\n"
    assert main([*base, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["ok"] is False
    assert main([*base, "../x"]) == 2


WRITER = """
import sys
from pathlib import Path
from spse_change.project import Project
from spse_change.records import RecordStore
store = RecordStore(Project(Path(sys.argv[1])))
for n in range(int(sys.argv[4])):
    store.attach_bytes(sys.argv[2], "budi", {f"{sys.argv[3]}-{n}.txt": b"x" * 1000})
"""


def writer(project: Project, record: Record, name: str, count: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(project.root), record.id, name, str(count)],
                            cwd=Path(__file__).parents[3])


def test_concurrent_writers_lose_nothing(store: RecordStore, record: Record, project: Project) -> None:
    procs = [writer(project, record, f"w{i}", 15) for i in range(4)]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    final = store.get(record.id)
    names = {a["name"] for a in final.attachments}
    assert names >= {f"w{i}-{n}.txt" for i in range(4) for n in range(15)}
    assert len(final.events) == 4 + 60
    assert store.audit(record.id)[0].problems == ()


def test_killed_writer_leaves_the_store_valid(store: RecordStore, record: Record, project: Project) -> None:
    path = events_file(store, record)
    for round_ in range(5):
        proc = writer(project, record, f"k{round_}", 10_000)
        size = path.stat().st_size
        deadline = time.monotonic() + 30
        while path.stat().st_size == size and time.monotonic() < deadline:  # writing has begun
            time.sleep(0.01)
        time.sleep(0.05 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        result = store.audit(record.id)[0]
        assert result.problems == ()
        assert store.get(record.id).state == "applying"
        assert all("not in the history" in n or "one event behind" in n for n in result.notes)
    assert len(store.get(record.id).events) > 5


CREATOR = """
import sys
from pathlib import Path
from spse_change.project import Project
from spse_change.records import NewRecord, RecordStore
store = RecordStore(Project(Path(sys.argv[1])))
for n in range(5):
    store.create(NewRecord(title=f"{sys.argv[2]}-{n}"), "budi")
"""


def test_concurrent_creates_get_distinct_numbers(store: RecordStore, project: Project) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", CREATOR, str(project.root), f"p{i}"],
                              cwd=Path(__file__).parents[3]) for i in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    ids = store.ids()
    assert [int(i.split("-")[2]) for i in ids] == list(range(1, 16))
    assert all(r.problems == () for r in store.audit())
