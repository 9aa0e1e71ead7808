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
    with pytest.raises(SpseChangeError, match="matches no host"):
        check_drift(DriftRequest(project, limit="app*", capture=False))


def test_cli_exit_codes_and_json(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--project", str(project.root)]
    assert main([*base, "drift", "--no-capture", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "spse-change/drift/1"
    assert doc["hosts"]["db1"]["diff"]["items"][0]["path"] == "database.settings.work_mem.setting"
    store = BaselineStore(project.records_dir)
    store.approve("db1@latest", by="admin", reason="work_mem raised after review")
    assert main([*base, "drift", "--no-capture", "-l", "db1"]) == 0
    assert "matches its approved baseline" in capsys.readouterr().out
    assert main([*base, "diff", "db1@-1", "db1@latest"]) == 1
    assert main([*base, "diff", "db1@latest", "db1@latest"]) == 0
    assert main([*base, "diff", "db1@latest", "nope@latest"]) == 2
