"""A project with operators, lpse.yml and a major record in consultation: a disk added to db1."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spse_change.project import Project
from spse_change.records import Record, RecordStore
from spse_change.records.observed import ObservedChange, observed_record
from spse_change.store.baselines import BaselineStore, new_baseline

FIXTURES = Path(__file__).resolve().parents[1] / "diff" / "fixtures"
OPERATORS = """\
operators:
  budi: {name: Budi Santoso, nip: "198001012005011001", contact: budi@contoh.go.id,
         roles: [pemohon, pengelola]}
  sari: {name: Sari Dewi, nip: "197505052000032002", roles: [kepala]}
  ani: {name: Ani Lestari, roles: [pengelola]}
"""
LPSE = """\
lpse:
  name: LPSE Kota Contoh
  unit: Pemerintah Kota Contoh
  address: Jl. Merdeka No. 1, Kota Contoh 12345
  contact: "(021) 555-0100, lpse@contoh.go.id"
  city: Kota Contoh
  letter_number: "027/{record}/LPSE/{month}/{year}"
"""
CREATED = datetime(2026, 11, 28, 20, 30, tzinfo=UTC)  # 29 November in WIB
DISK = "/srv/data1"
SECRET_MARKER = "secret:hmac-sha256:" + "ab" * 16


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "operators.yml").write_text(OPERATORS)
    (tmp_path / "lpse.yml").write_text(LPSE)
    return Project(tmp_path)


@pytest.fixture
def store(project: Project) -> RecordStore:
    return RecordStore(project)


def baselines(project: Project) -> tuple[dict, dict]:
    """db1 before and after a disk was added, stored; the before one holds a secret's marker."""
    data = json.loads((FIXTURES / "db1.json").read_text())["data"]
    data["config"]["/etc/postgresql/15/main/postgresql.conf"]["parsed"]["primary_conninfo"] = (
        f"host=db0 password={SECRET_MARKER}")
    before = new_baseline("db1", {"data": data, "groups": ["spse_db"]}, now=CREATED)
    added = copy.deepcopy(data)
    added["hardware"]["mounts"][DISK] = {"device": "/dev/vdb1", "fstype": "ext4",
                                         "size_bytes": 17179869184, "options": "rw,relatime"}
    after = new_baseline("db1", {"data": added, "groups": ["spse_db"]}, now=CREATED)
    store = BaselineStore(project.records_dir)
    store.save(before)
    store.save(after)
    return before, after


DETAILS = """\
request:
  description: Disk 16 GB untuk arsip dokumen lelang
evaluation:
  impact: Sedang
  urgency: Mendesak
  risk: layanan basis data berhenti sejenak saat mount
  estimated_cost: Rp 4.500.000 (disk dan jasa pemasangan)
  rollback_plan: lepas disk, kembalikan mount
  window: 2026-12-05T22:00+07:00/2026-12-05T23:00+07:00
"""


@pytest.fixture
def record(project: Project, store: RecordStore) -> Record:
    """`record new --diff` of db1's disk, with a performance report attached."""
    before, after = baselines(project)
    (project.root / "perubahan.yml").write_text(DETAILS)
    new = observed_record(project, ObservedChange(before["id"], after["id"], "Tambah disk data db1",
                                                  "ruang disk hampir habis", project.root / "perubahan.yml"))
    created = store.create(new, actor="budi", now=CREATED)
    assert created.state == "consultation", created.state
    report = {"laporan-monitoring-kinerja.html": b"<html><p>disk 91%</p></html>"}
    store.attach_bytes(created.id, "budi", report, note="Laporan Monitoring Kinerja 2026-11-27",
                       now=CREATED)
    return store.get(created.id)
