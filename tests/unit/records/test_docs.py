"""docs/records.md: its examples load, and its role table is the rule in the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from spse_change.project import Project
from spse_change.records import STEP_ROLES, NewRecord, Operators, RecordStore, read_new_record
from spse_change.records.fields import read_record_details
from spse_change.records.sop import load_sop

DOC = (Path(__file__).parents[3] / "docs" / "records.md").read_text(encoding="utf-8")


def example(name: str) -> str:
    """The ```yaml block whose first line is `# <name>`."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
    found = [b for b in blocks if b.startswith(f"# {name}\n")]
    assert len(found) == 1, name
    return found[0]


def test_operators_example_loads(tmp_path: Path) -> None:
    (tmp_path / "operators.yml").write_text(example("operators.yml"))
    operators = Operators.load(tmp_path)
    assert operators is not None and sorted(operators.by_id) == ["ani", "budi", "sari"]


def test_sop_example_loads(tmp_path: Path) -> None:
    (tmp_path / "sop.yml").write_text(example("sop.yml"))
    sop = load_sop(tmp_path)
    assert sop.record_hours == {"approval": 8, "implementation": 1, "closing": 72, "consultation": 120,
                                "assistance": 168, "proposal": 168, "internal": 72}
    assert sop.priority("Tidak Mendesak", "Sedang") == "Rendah"


def test_new_record_example_loads_and_records(tmp_path: Path) -> None:
    (tmp_path / "perubahan.yml").write_text(example("perubahan.yml"))
    (tmp_path / "operators.yml").write_text(example("operators.yml"))
    new = read_new_record(tmp_path / "perubahan.yml")
    record = RecordStore(Project(tmp_path)).create(new, "budi")
    assert (record.priority, record.defaulted, record.hosts) == ("Tinggi", (), ("app1",))
    assert record.window() is not None


def test_record_details_example_loads(tmp_path: Path) -> None:
    (tmp_path / "evaluasi.yml").write_text(example("evaluasi.yml"))
    request, evaluation = read_record_details(tmp_path / "evaluasi.yml")
    assert request == {"unit": "LPSE Kota Contoh"}
    assert evaluation["estimated_cost"] == "Rp 12.000.000"


def test_record_yml_example_has_the_fields_of_a_record(tmp_path: Path) -> None:
    (tmp_path / "operators.yml").write_text(example("operators.yml"))
    made = RecordStore(Project(tmp_path)).create(NewRecord(title="x"), "budi").to_json()
    shown = yaml.safe_load(example("record.yml"))
    assert list(shown) == list(made)
    assert set(shown["approval"]) == {"decision", "reason", "approver", "approver_name", "at", "window"}


def test_role_table_is_the_rule() -> None:
    role = "(?:pemohon|pengelola|kepala)"
    rows = re.findall(rf"^\| `([a-z-]+)` \| ({role}(?:, {role})*) \| ", DOC, re.M)
    assert {step: tuple(roles.split(", ")) for step, roles in rows} == dict(STEP_ROLES)
