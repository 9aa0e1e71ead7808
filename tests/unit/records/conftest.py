"""A project with operators: budi asks (and operates), sari is the head of the LPSE, ani operates."""

from __future__ import annotations

from pathlib import Path

import pytest

from spse_change.project import Project
from spse_change.records import RecordStore

OPERATORS = """\
operators:
  budi: {name: Budi Santoso, nip: "198001012005011001", contact: budi@contoh.go.id,
         roles: [pemohon, pengelola]}
  sari: {name: Sari Dewi, nip: "197505052000032002", roles: [kepala]}
  ani: {name: Ani Lestari, roles: [pengelola]}
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "operators.yml").write_text(OPERATORS)
    return Project(tmp_path)


@pytest.fixture
def store(project: Project) -> RecordStore:
    return RecordStore(project)
