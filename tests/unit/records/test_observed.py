"""`record new --diff OLD NEW`: a record of a change already made, from two stored baselines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from spse_change.cli.main import main
from spse_change.diff import diff_baselines, load_policy
from spse_change.drift.check import subtract_recorded
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import RecordStore
from spse_change.records.observed import ObservedChange, observed_record
from spse_change.store.baselines import BaselineStore, new_baseline
from tests.unit.diff.conftest import edited, load_baseline

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
WORK_MEM = ("database", "settings", "work_mem", "setting")
RAM = ("hardware", "memory", "total_mb")


def two_baselines(project: Project, edits: dict[tuple[str, ...], Any],
                  incomplete: dict[str, str] | None = None) -> tuple[str, str]:
    """db1 approved, then db1 again with `edits`: the two ids."""
    store = BaselineStore(project.records_dir)
    db1 = load_baseline("db1")
    before = new_baseline("db1", db1, now=T0 - timedelta(days=1))
    changed = edited(db1, edits)
    if incomplete:
        changed["incomplete"] = incomplete
    after = new_baseline("db1", changed, now=T0)
    for baseline in (before, after):
        store.save(baseline)
    store.approve(before["id"], by="sari", reason="initial")
    return before["id"], after["id"]


def drift_items(project: Project, store: RecordStore) -> tuple[list[str], list[str]]:
    """(unrecorded paths, recorded paths) of db1 as `drift` sees them."""
    baselines = BaselineStore(project.records_dir)
    approved = baselines.approved_id("db1")
    full = diff_baselines(baselines.load("db1@approved"), baselines.load("db1@latest"), load_policy(None))
    report, recorded = subtract_recorded(full, store.covering("db1", approved))
    return [i.change.path for i in report.items], [i["path"] for _, i in recorded]


def test_major_goes_to_consultation_with_its_evidence(project: Project, store: RecordStore) -> None:
    before, after = two_baselines(project, {RAM: 65536, WORK_MEM: "65536"})
    new = observed_record(project, ObservedChange("db1@-1", "db1@latest", "RAM 64 GB", "beban lelang"))
    record = store.create(new, "budi", now=T0)
    assert (record.state, record.cls, record.origin, record.hosts) == (
        "consultation", "major", "observed", ("db1",))
    assert {i["path"]: (i["class"], i["alasan"]) for i in record.items} == {
        "hardware.memory.total_mb": ("major", "RAM ditambah atau dikurangi"),
        "database.settings.work_mem.setting": ("minor", "pengaturan basis data")}
    assert record.baselines == {"db1": {"before": before, "after": after}}
    assert record.request["purpose"] == "beban lelang"
    diff = json.loads(store.read_attachment(record.id, "diff.json"))
    assert (diff["old"]["id"], diff["new"]["id"], diff["verdict"]) == (before, after, "major")
    assert drift_items(project, store) == (["database.settings.work_mem.setting"],
                                           ["hardware.memory.total_mb"])
    assert record.next_steps() == ["consult"]


def test_minor_is_closed_by_its_approval(project: Project, store: RecordStore) -> None:
    before, after = two_baselines(project, {WORK_MEM: "65536"})
    new = observed_record(project, ObservedChange(before, after, "work_mem", "temp file banyak"))
    record = store.create(new, "budi", now=T0)
    assert (record.state, record.cls, record.observed_change) == ("submitted", "minor", True)
    assert record.next_steps() == ["approve", "reject"]
    with pytest.raises(SpseChangeError,
                       match=r"is submitted: cannot apply \(allowed next: approve, reject\)"):
        store.start_applying(record.id, "ani")
    record = store.approve(record.id, "sari", "sesuai Laporan Kinerja", now=T0 + timedelta(hours=2))
    assert (record.state, record.next_steps()) == ("closed", [])
    assert record.baselines["db1"] == {"before": before, "after": after, "closed": after}
    assert [(a.activity, a.end is not None) for a in record.activities] == [("approval", True)]
    assert BaselineStore(project.records_dir).approved_id("db1") == after
    assert drift_items(project, store) == ([], [])


def test_an_older_baseline_never_undoes_a_later_approval(project: Project, store: RecordStore) -> None:
    before, after = two_baselines(project, {WORK_MEM: "65536"})
    record = store.create(observed_record(project, ObservedChange(before, after, "x", "y")), "budi")
    later = new_baseline("db1", edited(load_baseline("db1"), {WORK_MEM: "1"}), now=T0 + timedelta(hours=1))
    baselines = BaselineStore(project.records_dir)
    baselines.save(later)
    baselines.approve(later["id"], by="sari", reason="change CR-x verified")
    with pytest.raises(SpseChangeError,
                       match=rf"^{record.id}: db1's approved baseline {later['id']} is newer "
                             rf"than {after}; approving it would undo that approval"):
        store.approve(record.id, "sari", "ok")
    assert store.get(record.id).state == "submitted"


def test_a_rejected_minor_approves_nothing(project: Project, store: RecordStore) -> None:
    before, after = two_baselines(project, {WORK_MEM: "65536"})
    record = store.create(observed_record(project, ObservedChange(before, after, "x", "y")), "budi")
    assert store.reject(record.id, "sari", "kembalikan").state == "rejected"
    assert BaselineStore(project.records_dir).approved_id("db1") == before


@pytest.mark.parametrize(("old", "new", "message"), [
    ("db1@-1", "app1@latest", r"^record new --diff: db1@-1 is of host db1 and app1@latest of app1: "
                              r"a record's diff is of one host$"),
    ("db1@-1", "db1@-1", r"^record new --diff: no changes from db1-.* to db1-.*: nothing to record$"),
    ("db1@-1", "outside.json", r"^record new --diff: outside.json is not a stored baseline"),
])
def test_refusals(project: Project, old: str, new: str, message: str,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    two_baselines(project, {WORK_MEM: "65536"})
    BaselineStore(project.records_dir).save(new_baseline("app1", load_baseline("app1"), now=T0))
    outside = new_baseline("db1", edited(load_baseline("db1"), {WORK_MEM: "1"}), now=T0)
    (project.root / "outside.json").write_text(json.dumps(outside))
    monkeypatch.chdir(project.root)
    with pytest.raises(SpseChangeError, match=message):
        observed_record(project, ObservedChange(old, new, "t", "r"))


def test_evidence_that_could_not_be_read_is_refused(project: Project) -> None:
    two_baselines(project, {RAM: 65536}, incomplete={"database": "psql: connection refused"})
    with pytest.raises(SpseChangeError, match=r"^record new --diff: not compared: database; evidence that "
                                              r"could not be read is no change record \(capture again\)$"):
        observed_record(project, ObservedChange("db1@-1", "db1@latest", "t", "r"))


def run(project: Project, *argv: str) -> int:
    return main(["--project", str(project.root), "record", *argv])


def test_cli_new_from_diff_with_evaluation_and_close(project: Project, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _before, after = two_baselines(project, {RAM: 65536})
    details = tmp_path / "evaluasi.yml"
    details.write_text("evaluation:\n  impact: Besar\n  urgency: Mendesak\n  rollback_plan: cabut RAM\n"
                       "  schedule: Januari 2027\n  estimated_cost: Rp 12.000.000\n"
                       "  risk: server mati 1 jam\n"
                       "request:\n  unit: LPSE Kota Contoh\n")
    assert run(project, "new", "--diff", "db1@-1", "db1@latest", "--title", "RAM 64 GB", "--reason",
               "beban lelang", "--from", str(details), "--as", "budi") == 0
    line = capsys.readouterr().out
    assert line.endswith(" consultation (major, 1 item)\n")
    record_id = line.split()[0]
    record = RecordStore(project).get(record_id)
    assert (record.priority, record.evaluation["estimated_cost"], record.request["unit"]) == (
        "Tinggi", "Rp 12.000.000", "LPSE Kota Contoh")
    assert "evaluation.schedule" not in record.defaulted
    RecordStore(project).consult_outcome(record_id, "ani", "internal", "ditangani sendiri")
    assert run(project, "close", record_id, "--as", "sari") == 2
    assert capsys.readouterr().err.endswith("give --baseline db1@latest\n")
    assert run(project, "close", record_id, "--baseline", "db1@latest", "--as", "sari") == 0
    assert capsys.readouterr().out == f"{record_id} closed by sari\n"
    assert BaselineStore(project.records_dir).approved_id("db1") == after
    assert run(project, "show", record_id) == 0
    shown = capsys.readouterr().out
    assert "consultation  internal by ani at " in shown and "(observed: already made)" in shown


@pytest.mark.parametrize(("argv", "message"), [
    (["--diff", "db1@-1", "db1@latest", "--title", "t"],
     "record new --diff OLD NEW needs --title and --reason (the host comes from the diff, not --host)"),
    (["--title", "t", "--reason", "r"], "record new: --reason goes with --diff"),
    (["--host", "db1"], "record new: give --from FILE or --title TEXT"),
    (["--diff", "db1@-1", "db1@latest", "--title", "t", "--reason", "r", "--from", "missing.yml"],
     "missing.yml: cannot read (No such file or directory)"),
    (["--diff", "db1@-1", "db1@latest", "--title", "t", "--reason", "r", "--from", "bad.yml"],
     "bad.yml: evaluation.impact: "),
    (["--diff", "db1@-1", "db1@latest", "--title", "t", "--reason", "r", "--from", "title.yml"],
     "title.yml: top level.title: unknown field (known: evaluation, request)"),
])
def test_cli_refusals_are_one_line(project: Project, argv: list[str], message: str,
                                   capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    two_baselines(project, {RAM: 65536})
    monkeypatch.chdir(project.root)
    (project.root / "bad.yml").write_text("evaluation: {impact: Raksasa}\n")
    (project.root / "title.yml").write_text("title: x\n")
    assert run(project, "new", *argv, "--as", "budi") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
