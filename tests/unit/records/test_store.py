"""The record's life through RecordStore: who may take each step, from which state, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spse_change.diff import diff_baselines, load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import NewRecord, RecordStore, items_of, read_new_record
from spse_change.store.baselines import BaselineStore, new_baseline
from tests.unit.diff.conftest import edited, load_baseline

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 21:00 WIB
WINDOW = "2026-12-01T22:00:00+07:00/2026-12-01T23:00:00+07:00"


def work_mem_change(project: Project) -> tuple[str, str, NewRecord]:
    """db1's approved baseline, an after-baseline with work_mem raised, and the record planning it."""
    baselines = BaselineStore(project.records_dir)
    db1 = load_baseline("db1")
    before = new_baseline("db1", db1, now=T0 - timedelta(days=1))
    after = new_baseline("db1", edited(db1, {("database", "settings", "work_mem", "setting"): "65536"}),
                         now=T0 + timedelta(hours=1, minutes=10))
    baselines.save(before)
    baselines.save(after)
    baselines.approve(before["id"], by="sari", reason="initial")
    report = diff_baselines(before, after, load_policy(None))
    new = NewRecord(title="Naikkan work_mem", hosts=("db1",), items=items_of("db1", report),
                    baselines={"db1": before["id"]},
                    evaluation={"urgency": "Mendesak", "impact": "Sedang", "window": WINDOW},
                    attachments={"plan.yml": b"title: Naikkan work_mem\n"})
    return before["id"], after["id"], new


def test_minor_loop_submitted_to_closed(store: RecordStore, project: Project) -> None:
    before, after, new = work_mem_change(project)
    record = store.create(new, "budi", now=T0)
    assert (record.state, record.cls, record.priority) == ("submitted", "minor", "Tinggi")
    assert record.items[0]["path"] == "database.settings.work_mem.setting"
    assert record.baselines == {"db1": {"planned": before}}
    assert record.defaulted == ("evaluation.type", "evaluation.category", "evaluation.resources",
                                "evaluation.test_plan", "evaluation.rollback_plan", "evaluation.risk",
                                "evaluation.schedule", "evaluation.estimated_cost")
    assert record.request["requester"] == "Budi Santoso"
    assert [a["name"] for a in record.attachments] == ["plan.yml"]
    record = store.approve(record.id, "sari", "sesuai Laporan Kinerja", now=T0 + timedelta(minutes=30))
    assert record.approval["approver"] == "sari"  # type: ignore[index]
    assert record.in_window(T0 + timedelta(hours=1)) is True
    with pytest.raises(SpseChangeError, match=r"outside its maintenance window 2026-12-01T22:00:00\+07:00/"):
        store.start_applying(record.id, "ani", now=T0)
    record = store.start_applying(record.id, "ani", now=T0 + timedelta(hours=1))
    record = store.mark_verified(record.id, "ani", after={"db1": after}, before={"db1": before},
                                 now=T0 + timedelta(hours=1, minutes=15))
    assert record.state == "verified"
    assert record.baselines["db1"] == {"planned": before, "before": before, "after": after}
    approval = BaselineStore(project.records_dir).approved_id("db1")
    assert approval == after
    record = store.close(record.id, "sari", "selesai", now=T0 + timedelta(days=1))
    assert record.state == "closed"
    assert record.next_steps() == []
    assert [e["step"] for e in record.events] == ["create", "attach", "approve", "apply", "verify", "close"]
    assert record.deviations() == []
    assert store.audit()[0].problems == ()


def test_verified_baseline_approval_names_the_record(store: RecordStore, project: Project) -> None:
    _before, after, new = work_mem_change(project)
    record = store.create(new, "budi", now=T0)
    store.approve(record.id, "sari", "ok", now=T0)
    store.start_applying(record.id, "budi", outside_window="test", now=T0)
    store.mark_verified(record.id, "budi", after={"db1": after}, now=T0)
    approved = BaselineStore(project.records_dir)
    path = approved.root / "db1" / "approved.json"
    assert f'"record": "{record.id}"' in path.read_text()
    assert f"{record.id} verified: Naikkan work_mem" in path.read_text()


def test_approver_is_never_the_requester(store: RecordStore, project: Project) -> None:
    (project.root / "operators.yml").write_text(
        "operators:\n  sari: {name: Sari, roles: [pemohon, kepala]}\n  ani: {name: Ani, roles: [kepala]}\n")
    record = store.create(NewRecord(title="x"), "sari")
    with pytest.raises(SpseChangeError,
                       match=r"^sari may not decide CR-.*: the approver is never the requester$"):
        store.approve(record.id, "sari", "ok")
    with pytest.raises(SpseChangeError, match=r"the approver is never the requester"):
        store.reject(record.id, "sari", "no")
    assert store.reject(record.id, "ani", "no").state == "rejected"


def test_illegal_step_names_the_allowed_ones(store: RecordStore) -> None:
    record = store.create(NewRecord(title="x"), "budi")
    with pytest.raises(SpseChangeError,
                       match=r"is submitted: cannot apply \(allowed next: approve, reject\)$"):
        store.start_applying(record.id, "ani")
    with pytest.raises(SpseChangeError, match=r"^ani may not approve: only kepala may"):
        store.approve(record.id, "ani", "ok")
    store.reject(record.id, "sari", "bukan sekarang")
    with pytest.raises(SpseChangeError, match=r"is rejected: cannot approve \(allowed next: none\)$"):
        store.approve(record.id, "sari", "ok")
    other = store.create(NewRecord(title="y"), "budi")
    with pytest.raises(SpseChangeError, match=r"^--reason must say why$"):
        store.approve(other.id, "sari", "  ")


def test_major_record_goes_to_consultation(store: RecordStore) -> None:
    db1 = load_baseline("db1")
    bigger = edited(db1, {("hardware", "memory", "total_mb"): 65536})
    report = diff_baselines(db1, bigger, load_policy(None))
    record = store.create(NewRecord(title="RAM", items=items_of("db1", report),
                                    baselines={"db1": db1["id"]}), "budi")
    assert (record.state, record.cls, record.hosts) == ("consultation", "major", ("db1",))
    with pytest.raises(SpseChangeError, match=r"is consultation: cannot apply \(allowed next: consult\)"):
        store.start_applying(record.id, "ani")
    assert [i["path"] for _, i in store.covering("db1", db1["id"])] == ["hardware.memory.total_mb"]
    assert store.covering("db1", "db1-20261128T000000.000000Z-000000") == []


def test_emergency_applies_before_approval_and_is_overdue_until_approved(store: RecordStore) -> None:
    new = NewRecord(title="Disk penuh", evaluation={"category": "Emergency"})
    record = store.create(new, "budi", now=T0)
    record = store.start_applying(record.id, "ani", reason="disk 100%", now=T0 + timedelta(minutes=5))
    assert record.state == "applying"
    assert record.overdue(T0 + timedelta(hours=1)) == []
    late = record.overdue(T0 + timedelta(hours=25))
    assert [(a.activity, a.end) for a, _ in late] == [("approval", None), ("implementation", None)]
    with pytest.raises(SpseChangeError, match=r"is applying: cannot close \(allowed next: approve, verify"):
        store.close(record.id, "sari")
    record = store.approve(record.id, "sari", "darurat, disetujui", now=T0 + timedelta(hours=26))
    assert record.state == "applying"
    assert record.approved
    assert [(d.activity, d.hours) for d in record.deviations()] == [("approval", 24)]
    with pytest.raises(SpseChangeError, match=r"cannot approve \(allowed next: verify, roll-back, fail\)"):
        store.approve(record.id, "sari", "again")


def test_rollback_and_retry(store: RecordStore) -> None:
    record = store.create(NewRecord(title="x"), "budi")
    store.approve(record.id, "sari", "ok")
    store.start_applying(record.id, "ani")
    record = store.mark_rolled_back(record.id, "ani", "PostgreSQL did not start: restored")
    assert (record.state, record.implementation["result"]) == ("rolled-back", "rolled-back")
    record = store.start_applying(record.id, "ani")
    assert record.implementation["attempts"] == 2
    record = store.mark_failed(record.id, "ani", "backup missing: a human must look")
    assert record.state == "failed"
    assert record.implementation["notes"] == "backup missing: a human must look"


@pytest.mark.parametrize("bad", ["../x", "CR-2026-0001", "CR-2026-0001-zzzz/..", "/etc/passwd"])
def test_ids_are_checked_before_they_become_paths(store: RecordStore, bad: str) -> None:
    with pytest.raises(SpseChangeError, match=r"^bad record id .*: ids read CR-YYYY-NNNN-xxxx"):
        store.get(bad)


def test_ids_count_per_year_with_a_random_tag(store: RecordStore) -> None:
    first = store.create(NewRecord(title="a"), "budi", now=T0)
    second = store.create(NewRecord(title="b"), "budi", now=T0)
    assert first.id.startswith("CR-2026-0001-") and second.id.startswith("CR-2026-0002-")
    assert store.ids() == [first.id, second.id]


def test_writes_need_operators(tmp_path: Path) -> None:
    with pytest.raises(SpseChangeError, match=r"operators\.yml not found"):
        RecordStore(Project(tmp_path)).create(NewRecord(title="x"), "budi")


def test_record_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "perubahan.yml"
    path.write_text("title: Ganti sertifikat TLS\nhosts: [app1]\n"
                    "request: {unit: LPSE Kota, effective_date: 2026-12-05, purpose: sertifikat habis}\n"
                    "evaluation: {type: Layanan, resources: [Software, SDM], rollback_plan: pasang lagi}\n")
    new = read_new_record(path)
    assert new.request["effective_date"] == "2026-12-05"
    assert new.evaluation["resources"] == ["Software", "SDM"]
    path.write_text("title: x\nevaluation: {colour: red}\n")
    with pytest.raises(SpseChangeError, match=r"perubahan.yml: evaluation.colour: unknown field"):
        read_new_record(path)
    path.write_text("title: x\nevaluation: {impact: Huge}\n")
    with pytest.raises(SpseChangeError, match=r"perubahan.yml: evaluation.impact: must be one of Kecil"):
        read_new_record(path)
    path.write_text("title: x\nevaluation: {window: tomorrow}\n")
    with pytest.raises(SpseChangeError,
                       match=r"perubahan.yml: evaluation.window: 'tomorrow' is not START/END"):
        read_new_record(path)
    path.write_text("title: x\nhosts: [../etc]\n")
    with pytest.raises(SpseChangeError, match=r"perubahan.yml: hosts: bad host name"):
        read_new_record(path)


def test_attach_copies_files_into_the_history(store: RecordStore, tmp_path: Path) -> None:
    record = store.create(NewRecord(title="x"), "budi")
    letter = tmp_path / "surat.pdf"
    letter.write_bytes(b"%PDF-1.4 surat")
    store.attach(record.id, "sari", [letter], note="surat persetujuan")
    record = store.attach(record.id, "budi", [letter])
    assert [a["name"] for a in record.attachments] == ["surat.pdf", "surat-2.pdf"]
    assert record.attachments[0]["note"] == "surat persetujuan"
    folder = store.root / record.id / "attachments"
    assert (folder / "surat-2.pdf").read_bytes() == b"%PDF-1.4 surat"
    with pytest.raises(SpseChangeError, match=r"bad attachment name '\.\./x'"):
        store.attach_bytes(record.id, "budi", {"../x": b""})


def test_rolling_back_a_verified_record_approves_the_restored_state(store: RecordStore,
                                                                     project: Project) -> None:
    before, after, new = work_mem_change(project)
    plan = {"title": "Naikkan work_mem", "hosts": "db1", "settings": {"postgresql": {"work_mem": "64MB"}}}
    record = store.create(NewRecord(title=new.title, items=new.items, baselines=new.baselines, plan=plan,
                                    attachments={"check-db1.txt": b"work_mem: 4MB -> 64MB\n"}), "budi")
    assert store.get(record.id).plan == plan
    store.approve(record.id, "sari", "ok")
    store.start_applying(record.id, "ani")
    store.mark_verified(record.id, "ani", after={"db1": after}, before={"db1": before})
    baselines = BaselineStore(project.records_dir)
    assert baselines.approved_id("db1") == after
    record = store.mark_rolled_back(record.id, "ani", "aplikasi lambat", restored={"db1": before})
    assert record.baselines["db1"]["restored"] == before
    assert baselines.approved_id("db1") == before
    approval = (baselines.root / "db1" / "approved.json").read_text()
    assert f"{record.id} rolled back: aplikasi lambat" in approval
    assert store.read_attachment(record.id, "check-db1.txt") == b"work_mem: 4MB -> 64MB\n"
    (store.root / record.id / "attachments" / "check-db1.txt").write_bytes(b"forged")
    with pytest.raises(SpseChangeError, match=r"attachments/check-db1.txt was edited"):
        store.read_attachment(record.id, "check-db1.txt")
    with pytest.raises(SpseChangeError, match=r"plan: must be JSON data"):
        NewRecord(title="x", plan={"when": object()})
