"""Drift from stored baselines (--no-capture): what the approved state says against the latest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spse_change.cli.main import main
from spse_change.drift.check import DriftRequest, check_drift
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.store.baselines import BaselineStore, new_baseline
from tests.unit.diff.conftest import edited, load_baseline

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    store = BaselineStore(tmp_path / "change_records")
    db1 = load_baseline("db1")
    first = new_baseline("db1", db1, now=T0)
    store.save(first)
    store.approve(first["id"], by="admin", reason="initial")
    later = edited(db1, {("database", "settings", "work_mem", "setting"): "65536"})
    store.save(new_baseline("db1", later, now=T0 + timedelta(hours=1)))
    store.save(new_baseline("db2", db1, now=T0))
    return Project(tmp_path)


def test_changes_since_approval_are_unrecorded_drift(project: Project) -> None:
    result = check_drift(DriftRequest(project, capture=False))
    assert result.hosts["db1"].status == "drift"
    assert result.hosts["db1"].unrecorded == 1
    assert result.hosts["db2"].status == "no-approved"
    assert "baseline approve db2@latest" in result.hosts["db2"].reason
    assert result.attention


def test_limit_without_inventory_matches_stored_hosts(project: Project) -> None:
    assert list(check_drift(DriftRequest(project, limit="db1", capture=False)).hosts) == ["db1"]
    with pytest.raises(SpseChangeError, match="nothing to check: limit 'app\\*' matches no host"):
        check_drift(DriftRequest(project, limit="app*", capture=False))


def test_nothing_to_check_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(tmp_path), "drift", "--no-capture"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"spse-change: nothing to check: no stored baselines in "
                                f"{tmp_path}/change_records/baselines (run 'spse-change baseline "
                                "capture' first)"]


def test_a_category_not_compared_is_never_clean(project: Project,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    store = BaselineStore(project.records_dir)
    store.approve("db1@latest", by="admin", reason="work_mem raised after review")
    approved = store.load("db1@latest")
    no_db = {"data": {k: v for k, v in approved["data"].items() if k != "database"},
             "incomplete": {"database": "psql: connection refused"}}
    store.save(new_baseline("db1", no_db, now=T0 + timedelta(hours=2)))
    result = check_drift(DriftRequest(project, limit="db1", capture=False))
    assert result.hosts["db1"].status == "incomplete"
    assert result.hosts["db1"].not_compared == {"database": "new baseline: psql: connection refused"}
    assert main(["--project", str(project.root), "drift", "--no-capture", "-l", "db1"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("== db1: INCOMPLETE, not compared: database\n")
    assert main(["--project", str(project.root), "drift", "--no-capture", "-l", "db1", "--json"]) == 1
    host = json.loads(capsys.readouterr().out)["hosts"]["db1"]
    assert (host["status"], host["reason"], host["not_compared"]) == (
        "incomplete", "not compared: database", {"database": "new baseline: psql: connection refused"})


def test_cli_exit_codes_and_json(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--project", str(project.root)]
    assert main([*base, "drift", "--no-capture", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "spse-change/drift/3"
    assert doc["hosts"]["db1"]["diff"]["items"][0]["path"] == "database.settings.work_mem.setting"
    store = BaselineStore(project.records_dir)
    store.approve("db1@latest", by="admin", reason="work_mem raised after review")
    assert main([*base, "drift", "--no-capture", "-l", "db1"]) == 0
    assert "matches its approved baseline" in capsys.readouterr().out
    assert main([*base, "diff", "db1@-1", "db1@latest"]) == 1
    assert main([*base, "diff", "db1@latest", "db1@latest"]) == 0
    assert main([*base, "diff", "db1@latest", "nope@latest"]) == 2


OPERATORS = ("operators:\n  budi: {name: Budi, roles: [pemohon, pengelola]}\n"
             "  sari: {name: Sari, roles: [kepala]}\n")


def test_a_record_in_applying_covers_its_changes(project: Project,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """db1's work_mem change is planned by a record: recorded while it applies, drift again if rolled back
    and the value stays; a different value than planned is unrecorded."""
    from spse_change.diff import diff_baselines, load_policy
    from spse_change.records import NewRecord, RecordStore, items_of
    (project.root / "operators.yml").write_text(OPERATORS)
    baselines = BaselineStore(project.records_dir)
    approved = baselines.approved_id("db1")
    report = diff_baselines(baselines.load("db1@approved"), baselines.load("db1@latest"), load_policy(None))
    records = RecordStore(project)
    record = records.create(NewRecord(title="work_mem", items=items_of("db1", report),
                                      baselines={"db1": approved}), "budi")
    assert check_drift(DriftRequest(project, limit="db1", capture=False)).hosts["db1"].status == "drift"
    records.approve(record.id, "sari", "ok")
    records.start_applying(record.id, "budi")
    host = check_drift(DriftRequest(project, limit="db1", capture=False)).hosts["db1"]
    assert (host.status, host.unrecorded) == ("recorded", 0)
    assert [(rid, item["path"]) for rid, item in host.recorded] == [
        (record.id, "database.settings.work_mem.setting")]
    assert main(["--project", str(project.root), "drift", "--no-capture", "-l", "db1"]) == 0
    assert capsys.readouterr().out == (
        "== db1: every change since the approved baseline is recorded\n"
        f"   recorded  database.settings.work_mem.setting changed: 16384 → 65536   ({record.id})\n")
    assert main(["--project", str(project.root), "drift", "--no-capture", "-l", "db1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["hosts"]["db1"]
    assert (doc["status"], doc["unrecorded"], doc["recorded"][0]["record"]) == ("recorded", 0, record.id)
    other = edited(load_baseline("db1"), {("database", "settings", "work_mem", "setting"): "131072"})
    baselines.save(new_baseline("db1", other, now=T0 + timedelta(hours=3)))
    host = check_drift(DriftRequest(project, limit="db1", capture=False)).hosts["db1"]
    assert (host.status, host.unrecorded, host.recorded) == ("drift", 1, ())
    records.mark_rolled_back(record.id, "budi", "restored")
    baselines.save(new_baseline("db1", edited(load_baseline("db1"), {
        ("database", "settings", "work_mem", "setting"): "65536"}), now=T0 + timedelta(hours=4)))
    assert check_drift(DriftRequest(project, limit="db1", capture=False)).hosts["db1"].status == "drift"


def test_after_a_verified_change_drift_is_clean(project: Project) -> None:
    """mark_verified makes the after-baseline the approved one, the record id in the reason."""
    from spse_change.diff import diff_baselines, load_policy
    from spse_change.records import NewRecord, RecordStore, items_of
    (project.root / "operators.yml").write_text(OPERATORS)
    baselines = BaselineStore(project.records_dir)
    before, after = baselines.approved_id("db1"), baselines.list("db1")[-1].id
    report = diff_baselines(baselines.load(before), baselines.load(after), load_policy(None))
    records = RecordStore(project)
    record = records.create(NewRecord(title="work_mem", items=items_of("db1", report),
                                      baselines={"db1": before}), "budi")
    records.approve(record.id, "sari", "ok")
    records.start_applying(record.id, "budi")
    records.mark_verified(record.id, "budi", after={"db1": after}, before={"db1": before},
                          observed=items_of("db1", report))
    host = check_drift(DriftRequest(project, limit="db1", capture=False)).hosts["db1"]
    assert (host.status, host.recorded) == ("clean", ())
    assert baselines.approved_id("db1") == after
