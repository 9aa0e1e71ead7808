"""`spse-change report monthly`: the shipped example's counts, computed here on their own."""

from __future__ import annotations

import csv
import json
import os
import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import yaml

from spse_change.cli.main import main
from spse_change.reports.monthly import EXAMPLE, RULES_FILE


def expected_counts(month: str) -> dict:
    """The recap's numbers from the example and the rules file, without the code under test."""
    rules = yaml.safe_load(RULES_FILE.read_text())
    rows = [r for r in csv.DictReader(EXAMPLE.open(encoding="utf-8")) if r["tanggal_lapor"].startswith(month)]
    categories: dict[str, int] = {c["id"]: 0 for c in rules["categories"]}
    priorities: dict[str, int] = {p: 0 for p in rules["targets_hours"]}
    breached = 0
    end = datetime(2026, 11, 1)
    for r in rows:
        text = f"{r['judul']} {r['uraian']}".lower()
        words = re.findall(r"\w+", text)
        own = [c["id"] for c in rules["categories"] if r["kategori"] in (c["id"], c["label"])]
        hit = [c["id"] for c in rules["categories"]
               if any(any(w.startswith(k) for w in words) if " " not in k else k in text
                      for k in c["keywords"])]
        category = (own or hit or [rules["categories"][-1]["id"]])[0]
        categories[category] += 1
        priority = rules["priority"][r["urgensi"]][r["dampak"]]
        priorities[priority] += 1
        start = datetime.strptime(r["tanggal_lapor"], "%Y-%m-%d %H:%M")
        stop = datetime.strptime(r["tanggal_selesai"], "%Y-%m-%d %H:%M") if r["tanggal_selesai"] else end
        breached += (stop - start).total_seconds() / 3600 > rules["targets_hours"][priority]
    return {"tickets": len(rows), "categories": categories, "priorities": priorities, "breached": breached}


def test_example_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2026-10",
                 "--tickets", str(EXAMPLE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    want = expected_counts("2026-10")
    assert report["tickets"] == want["tickets"] == 25
    assert {c["id"]: c["tickets"] for c in report["by_category"]} == want["categories"]
    assert {p["priority"]: p["tickets"] for p in report["by_priority"]} == want["priorities"]
    assert len(report["breaches"]) == want["breached"]
    assert report["source"]["outside_month"] == 2
    assert [p["problem"] for p in report["recurring"]] == ["Gagal upload dokumen penawaran",
                                                           "Lupa password akun penyedia"]
    assert any("SecRequestBodyLimit" in c for c in report["candidates"])
    folder = tmp_path / "change_records" / "reports" / "monthly" / "2026-10"
    html = (folder / "rekap-penanganan-permasalahan.html").read_text()
    assert "Rekap Penanganan Permasalahan" in html and "Teknis upload dan download data" in html


def test_xlsx_gives_the_same_recap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for n, row in enumerate(csv.reader(EXAMPLE.open(encoding="utf-8"))):
        sheet.append([datetime.strptime(v, "%Y-%m-%d %H:%M") if n and re.fullmatch(r"\d{4}-.*", v) else v
                      for v in row])
    book.save(tmp_path / "tiket.xlsx")
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2026-10",
                 "--tickets", str(tmp_path / "tiket.xlsx"), "--json", "--out", str(tmp_path / "x")]) == 0
    from_xlsx = json.loads(capsys.readouterr().out)
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2026-10",
                 "--tickets", str(EXAMPLE), "--json", "--out", str(tmp_path / "y")]) == 0
    from_csv = json.loads(capsys.readouterr().out)
    for key in ("by_category", "by_priority", "recurring", "candidates"):
        assert from_xlsx[key] == from_csv[key]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("2026-10-05 09:10", "5 Oktober"), ":8: tanggal_lapor '5 Oktober' is no date"),
    (lambda t: t.replace("Mendesak,Besar,Penyelesaian,Perbarui", "Segera,Besar,Penyelesaian,Perbarui"),
     ":5: urgensi 'Segera' is not one of Mendesak, Tidak Mendesak"),
    (lambda t: t.replace("id,tanggal_lapor", "no,tanggal_lapor"), ":1: missing column(s) id"),
    (lambda t: t.replace("Alamat kantor LPSE,", '"Alamat" kantor LPSE,'), ":23: not CSV"),
    (lambda t: t.replace("2026-10-21 08:20", "2026-10-20 08:20"), ":23: tanggal_selesai is before"),
    (lambda t: t + "X,2026-10-31 10:00,,,,,,a,b,Mendesak,Besar,c,d,e,f,g\n",
     ":29: 16 fields, the header has 14"),
])
def test_a_ticket_file_that_does_not_parse(tmp_path: Path, edit, message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiket.csv"
    path.write_text(edit(EXAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2026-10",
                 "--tickets", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spse-change: {path}{message}") and err.count("\n") == 1
    assert not (tmp_path / "change_records").exists()


def test_bad_month_and_damaged_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2026-13",
                 "--tickets", str(EXAMPLE)]) == 2
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2062-10",
                 "--tickets", str(EXAMPLE)]) == 2
    assert "--month 2062-10: that month has not come yet" in capsys.readouterr().err
    os.mkfifo(tmp_path / "tiket.csv")  # was 'no such ticket file'
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2026-10",
                 "--tickets", str(tmp_path / "tiket.csv")]) == 2
    assert f"{tmp_path / 'tiket.csv'}: cannot read (not a regular file)" in capsys.readouterr().err
    assert not (tmp_path / "change_records").exists()
    (tmp_path / "t.xlsx").write_bytes(b"PK\x03\x04 not really")
    assert main(["--project", str(tmp_path), "report", "monthly", "--month", "2026-10",
                 "--tickets", str(tmp_path / "t.xlsx")]) == 2
    assert f"{tmp_path / 't.xlsx'}:1: not an XLSX workbook" in capsys.readouterr().err
