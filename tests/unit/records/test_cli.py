"""`spse-change record …` end to end in a project folder: one line per refusal, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spse_change.cli.main import main
from spse_change.project import Project

DOCS = Path(__file__).parents[3] / "docs" / "records.md"


def run(project: Project, *argv: str) -> int:
    return main(["--project", str(project.root), "record", *argv])


def test_new_approve_show_close(project: Project, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert run(project, "new", "--title", "Ganti sertifikat", "--host", "app1", "--as", "budi", "--json") == 0
    made = json.loads(capsys.readouterr().out)
    assert (made["state"], made["class"]) == ("submitted", "none")
    record_id = made["id"]
    assert run(project, "approve", record_id, "--as", "budi", "--reason", "ok") == 2
    assert capsys.readouterr().err == "spse-change: budi may not approve: only kepala may (rule approve: " \
        "approve a record (record approve); never the record's requester); budi is pemohon, pengelola\n"
    monkeypatch.setenv("SPSE_CHANGE_USER", "sari")
    assert run(project, "approve", record_id, "--reason", "ok", "--window",
               "2026-12-01T22:00/2026-12-01T23:00") == 0
    assert capsys.readouterr().out == f"{record_id} approved by sari\n"
    assert run(project, "close", record_id) == 2
    assert f"{record_id} is approved: cannot close (allowed next: apply)" in capsys.readouterr().err
    letter = tmp_path / "nota-dinas.pdf"
    letter.write_bytes(b"%PDF")
    assert run(project, "attach", record_id, str(letter), "--as", "budi", "--note", "nota dinas") == 0
    assert capsys.readouterr().out == f"{record_id}: attached nota-dinas.pdf\n"
    assert run(project, "show", record_id) == 0
    out = capsys.readouterr().out
    assert "  category        Normal  (default)\n" in out
    assert "approval  approved by sari" in out
    assert run(project, "show", record_id, "--json") == 0
    assert json.loads(capsys.readouterr().out)["approval"]["window"] == "2026-12-01T22:00/2026-12-01T23:00"
    assert run(project, "list", "--json") == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["records"]] == [record_id]
    assert run(project, "list", "--overdue") == 0
    assert capsys.readouterr().out == "no records past their SOP time\n"


@pytest.mark.parametrize("argv", [
    ["show", "../x"], ["approve", "../x", "--reason", "r", "--as", "sari"],
    ["new", "--title", "x", "--as", "nobody"], ["new", "--title", "x"],
    ["new", "--from", "missing.yml", "--as", "budi"],
])
def test_refusals_are_one_line_exit_2(project: Project, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.delenv("SPSE_CHANGE_USER", raising=False)
    assert run(project, *argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("spse-change: ")


def test_roles_table_is_listed(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "roles", "--json") == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert steps["approve"]["roles"] == ["kepala"]
    assert run(project, "roles") == 0
    assert "approve           kepala" in capsys.readouterr().out


def test_baseline_approve_needs_a_kepala_once_operators_exist(project: Project,
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from spse_change.store.baselines import BaselineStore, new_baseline
    from tests.unit.diff.conftest import load_baseline
    monkeypatch.delenv("SPSE_CHANGE_USER", raising=False)
    store = BaselineStore(project.records_dir)
    store.save(new_baseline("db1", load_baseline("db1")))
    base = ["--project", str(project.root), "baseline", "approve", "db1@latest", "--reason", "awal"]
    assert main([*base, "--by", "sari"]) == 2
    assert capsys.readouterr().err.endswith("--by is replaced by --as once "
                                            f"{project.root}/operators.yml exists\n")
    assert main([*base, "--as", "budi"]) == 2
    assert "budi may not baseline-approve: only kepala may" in capsys.readouterr().err
    assert main(base) == 2
    assert "baseline-approve: say who acts with --as NAME" in capsys.readouterr().err
    assert main([*base, "--as", "sari", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["by"] == "sari"
    (project.root / "operators.yml").unlink()
    assert main([*base, "--by", "admin"]) == 0
    assert capsys.readouterr().out.startswith("approved db1-")


def test_overdue_lists_ongoing_breaches_and_kept_deviations(project: Project,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime, timedelta

    from spse_change.records import NewRecord, RecordStore
    store = RecordStore(project)
    long_ago = datetime.now(UTC) - timedelta(hours=30)
    late = store.create(NewRecord(title="lama", evaluation={"category": "Emergency"}), "budi", now=long_ago)
    store.start_applying(late.id, "ani", now=long_ago + timedelta(hours=1))
    store.mark_verified(late.id, "ani", after={}, now=long_ago + timedelta(hours=2))
    store.approve(late.id, "sari", "darurat", now=long_ago + timedelta(hours=26))
    store.create(NewRecord(title="baru"), "budi")
    assert run(project, "list", "--overdue") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{late.id}  {'verified':<20} none  Rendah   -            lama")
    assert out[1] == "    approval: 2.0 h past its 24 h standard (deviation)"
    assert len(out) == 2  # closing (28 h of 72) is in time; the fresh record too
    assert run(project, "list", "--overdue", "--json") == 0
    overdue = json.loads(capsys.readouterr().out)["records"][0]["overdue"]
    assert [(o["activity"], o["ongoing"], o["over_hours"]) for o in overdue] == [("approval", False, 2.0)]
