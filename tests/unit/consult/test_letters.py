"""consult outcome: ITO LKPP's answer recorded, and the follow-up letter attached (or none)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spse_change.cli.main import main
from spse_change.consult.letters import OutcomeRequest, record_outcome
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import Record, RecordStore

DECIDED = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def outcome(project: Project, record: Record, name: str, actor: str = "ani"):  # type: ignore[no-untyped-def]
    return record_outcome(OutcomeRequest(project, record.id, name, note=f"ITO: {name}", actor=actor,
                                         now=DECIDED))


def text_of(pdf: Path) -> str:
    return " ".join(subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())


@pytest.mark.parametrize(("name", "state", "letter", "says"), [
    ("lkpp", "assistance-requested", "surat-permohonan-bantuan-teknis",
     ["Permohonan Bantuan Teknis", "Lembaga Kebijakan Pengadaan", "tata letak penyimpanan berubah"]),
    ("vendor", "proposal-submitted", "usulan-kegiatan",
     ["Usulan Kegiatan", "Ruang lingkup", "Justifikasi", "Perkiraan biaya", "Rp 4.500.000",
      "Kepala LPSE Kota Contoh"]),
    ("internal", "internal", "catatan-penanganan-internal",
     ["Penanganan Perubahan secara Internal", "ditangani sendiri oleh LPSE Kota Contoh"]),
])
def test_each_outcome_writes_its_letter(project: Project, record: Record, store: RecordStore, name: str,
                                        state: str, letter: str, says: list[str]) -> None:
    result = outcome(project, record, name)
    assert result.record.state == state
    assert result.attachments == (f"{letter}.html", f"{letter}.pdf")
    folder = store.root / record.id / "attachments"
    text = text_of(folder / f"{letter}.pdf")
    for expected in [*says, record.id, f"ITO: {name}", "2 Desember 2026", "Ani Lestari", "Sari Dewi",
                     f"027/{record.id}/LPSE/XII/2026"]:
        assert expected in text, expected
    history = [e["step"] for e in store.get(record.id).events]
    assert history[-3:] == ["consult", "attach", "attach"]
    assert store.audit(record.id)[0].problems == ()


def test_rejected_ends_the_record_without_a_letter(project: Project, record: Record) -> None:
    result = outcome(project, record, "rejected")
    assert (result.record.state, result.attachments) == ("rejected", ())
    assert result.record.next_steps() == []


def test_refused_before_anything_is_written(project: Project, record: Record, store: RecordStore) -> None:
    with pytest.raises(SpseChangeError, match="sari may not consult"):
        outcome(project, record, "lkpp", actor="sari")
    outcome(project, record, "internal")
    events = len(store.get(record.id).events)
    with pytest.raises(SpseChangeError, match=f"{record.id} is internal: only a record in consultation"):
        outcome(project, record, "lkpp")
    assert len(store.get(record.id).events) == events


def test_cli_prints_the_letters(project: Project, record: Record, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(project.root), "consult", "outcome", record.id, "--outcome", "vendor",
                 "--note", "perlu vendor storage", "--as", "ani", "--nomor", "005/LPSE/2026"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and out[0] == f"{record.id} proposal-submitted by ani"
    assert [Path(line).name for line in out[1:]] == ["usulan-kegiatan.html", "usulan-kegiatan.pdf"]
    assert "005/LPSE/2026" in Path(out[1]).read_text()
