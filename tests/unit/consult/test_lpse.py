"""lpse.yml: the LPSE's identity on every consultation document; a gap is one line naming it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from spse_change.consult.lpse import load_lpse
from spse_change.errors import SpseChangeError
from tests.unit.consult.conftest import LPSE


def test_loads_identity_and_fills_the_letter_number(tmp_path: Path) -> None:
    (tmp_path / "lpse.yml").write_text(LPSE)
    lpse = load_lpse(tmp_path)
    assert (lpse.name, lpse.city, lpse.timezone) == ("LPSE Kota Contoh", "Kota Contoh", "Asia/Jakarta")
    assert lpse.number("CR-2026-0001-3f9f", date(2026, 11, 29), "formulir-konsultasi") == \
        "027/CR-2026-0001-3f9f/LPSE/XI/2026"


def test_each_document_gets_its_own_number_with_doc(tmp_path: Path) -> None:
    """The form and its follow-up letter are two letters: one number would be filed twice."""
    (tmp_path / "lpse.yml").write_text(LPSE.replace("027/{record}", "027/{doc}/{record}"))
    lpse = load_lpse(tmp_path)
    numbers = {doc: lpse.number("CR-2026-0001-3f9f", date(2026, 11, 29), doc)
               for doc in ("formulir-konsultasi", "surat-permohonan-bantuan-teknis", "usulan-kegiatan",
                           "catatan-penanganan-internal")}
    assert numbers["usulan-kegiatan"] == "027/USKEG/CR-2026-0001-3f9f/LPSE/XI/2026"
    assert len(set(numbers.values())) == 4


def test_no_pattern_no_number(tmp_path: Path) -> None:
    (tmp_path / "lpse.yml").write_text(LPSE.replace('  letter_number: "027/{record}/LPSE/{month}/{year}"\n',
                                                    ""))
    assert load_lpse(tmp_path).number("CR-2026-0001-3f9f", date(2026, 11, 29), "usulan-kegiatan") is None


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("  address: Jl. Merdeka No. 1, Kota Contoh 12345\n", ""), "lpse.address: missing"),
    (lambda t: t.replace("  name: LPSE Kota Contoh", "  name: ''"), "lpse.name: must be a non-empty string"),
    (lambda t: t + "  fax: 1\n", "lpse.fax: unknown field"),
    (lambda t: t.replace("{month}", "{bulan}"), "lpse.letter_number: unknown placeholder {bulan}"),
    (lambda t: t.replace("{month}", "{month"), "lpse.letter_number: not a pattern"),
    (lambda t: t.replace("{year}", "{year:>6}"), "{year:>6}: write {year} alone (no '!' or ':')"),
    (lambda t: t.replace("{record}", "{record!r}"), "lpse.letter_number: {record!r}: write {record} alone"),
    (lambda t: t + "  timezone: Asia/Nowhere\n", "lpse.timezone: unknown time zone"),
])
def test_a_gap_is_one_line_naming_file_and_field(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "lpse.yml").write_text(edit(LPSE))
    with pytest.raises(SpseChangeError) as caught:
        load_lpse(tmp_path)
    assert caught.value.message.startswith(f"{tmp_path / 'lpse.yml'}: "), caught.value.message
    assert message in caught.value.message and "\n" not in caught.value.message


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpseChangeError, match=r"lpse\.yml: not found"):
        load_lpse(tmp_path)


def test_a_folder_is_not_called_missing(tmp_path: Path) -> None:
    (tmp_path / "lpse.yml").mkdir()
    with pytest.raises(SpseChangeError, match=r"lpse\.yml: cannot read \(not a regular file\)$"):
        load_lpse(tmp_path)
