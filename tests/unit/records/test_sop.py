"""sop.yml: the SOP's time standards and priority table, shipped and overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.records.sop import load_sop

# The consultation (SOP activity 5) and each outcome's follow-up (activity 6, or internal).
FOLLOW_UP = {"consultation": 120, "assistance": 168, "proposal": 168, "internal": 72}


def test_defaults_come_from_the_sop() -> None:
    sop = load_sop(None)
    assert sop.activities["1b"].output == "Laporan Monitoring Kinerja"
    assert sop.activities["1a"].hours == 3
    assert sop.activities["6"].hours is None
    assert len(sop.legal_basis) == 7
    assert sop.legal_basis[0].startswith("UU No. 11 Tahun 2008")
    assert sop.priority("Mendesak", "Besar") == "Tinggi"
    assert sop.priority("Tidak Mendesak", "Kecil") == "Rendah"
    assert sop.record_hours == {"approval": 24, "implementation": 2, "closing": 72, **FOLLOW_UP}


def test_project_sop_overrides_entries(tmp_path: Path) -> None:
    (tmp_path / "sop.yml").write_text(
        "record_activities:\n  approval: {hours: 4, sop_activity: '5'}\n"
        "priority:\n  Mendesak: {Kecil: Tinggi, Sedang: Tinggi, Besar: Tinggi}\n")
    sop = load_sop(tmp_path)
    assert sop.record_hours == {"approval": 4, "implementation": 2, "closing": 72, **FOLLOW_UP}
    assert sop.priority("Mendesak", "Kecil") == "Tinggi"
    assert sop.priority("Tidak Mendesak", "Kecil") == "Rendah"


@pytest.mark.parametrize(("text", "message"), [
    ("deadline: 3\n", r"sop.yml: top level.deadline: unknown field"),
    ("record_activities:\n  approval: {hours: 4, minutes: 3}\n",
     r"sop.yml: record_activities.approval.minutes: unknown field"),
    ("record_activities:\n  approval: {hours: -1}\n",
     r"sop.yml: record_activities.approval.hours: must be a positive number"),
    ("priority:\n  Mendesak: {Kecil: Sangat Tinggi, Sedang: Tinggi, Besar: Tinggi}\n",
     r"sop.yml: priority.Mendesak.Kecil: must be one of Rendah, Menengah, Tinggi"),
    ("priority: [\n", r"sop.yml: not valid YAML"),
])
def test_bad_sop_is_one_line_naming_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "sop.yml").write_text(text)
    with pytest.raises(SpseChangeError, match=message):
        load_sop(tmp_path)
