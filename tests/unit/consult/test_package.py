"""consult build: the package ITO LKPP receives, from an allow-list, the same every time."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from spse_change.cli.main import main
from spse_change.consult.package import BuildRequest, build_package
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import NewRecord, Record, RecordStore
from tests.unit.consult.conftest import CREATED, DISK, SECRET_MARKER


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename.split("/", 1)[1]: archive.read(i) for i in archive.infolist()}


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "form.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(tmp_path / "form.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_package_holds_the_allow_list_with_sums_over_every_file(project: Project, record: Record,
                                                                 store: RecordStore) -> None:
    # a word in a name or note ships nothing to ITO: only spse-change's own reports go
    store.attach_bytes(record.id, "budi", {"catatan-laporan-insiden.txt": b"db.pass=hunter2\n"},
                       note="laporan insiden", now=CREATED)
    result = build_package(BuildRequest(project, record.id, "budi"))
    assert result.path == project.records_dir / "records" / record.id / f"{record.id}-konsultasi-v1.zip"
    files = members(result.path)
    assert sorted(files) == ["SHA256SUMS", "baseline-after-db1.json", "baseline-before-db1.json", "diff.json",
                             "formulir-konsultasi.html", "formulir-konsultasi.pdf",
                             "lampiran/laporan-monitoring-kinerja.html"]
    sums = dict(reversed(line.split("  ")) for line in files["SHA256SUMS"].decode().splitlines())
    assert sums == {n: hashlib.sha256(c).hexdigest() for n, c in files.items() if n != "SHA256SUMS"}
    assert files["formulir-konsultasi.pdf"].startswith(b"%PDF-")
    with zipfile.ZipFile(result.path) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 11, 29, 3, 30, 0)}  # entered, in WIB


def test_the_build_is_sealed_in_the_record(project: Project, record: Record, store: RecordStore) -> None:
    result = build_package(BuildRequest(project, record.id, "ani"))
    [sealed] = [a for a in store.get(record.id).attachments if a["name"] == "konsultasi-v1-SHA256SUMS.txt"]
    assert sealed["note"] == f"consult build v1: {result.path.name} sha256 {result.sha256}"
    assert store.read_attachment(record.id, sealed["name"]) == members(result.path)["SHA256SUMS"]
    assert store.audit(record.id)[0].problems == ()


def test_form_says_what_ito_needs(project: Project, record: Record, tmp_path: Path) -> None:
    files = members(build_package(BuildRequest(project, record.id, "budi")).path)
    html = files["formulir-konsultasi.html"].decode().replace("<wbr>", "")
    text = " ".join(pdf_text(files["formulir-konsultasi.pdf"], tmp_path).split())
    for page in (html, text):
        for expected in (record.id, "LPSE Kota Contoh", "Pemerintah Kota Contoh",
                         "29 November 2026",  # entered consultation 20:30 UTC = 03:30 WIB the next day
                         f"027/{record.id}/LPSE/XI/2026", "Budi Santoso", "Pemohon, Pengelola",
                         "budi@contoh.go.id", "Sari Dewi", "Kepala LPSE Kota Contoh", "db1",
                         "Server Basis Data SPSE", "Disk 16 GB untuk arsip", "HW005",
                         "tata letak penyimpanan berubah",
                         "lepas disk, kembalikan mount", "5 Desember 2026 pukul 22:00 s.d. 23:00 WIB",
                         "ruang disk hampir habis",
                         "layanan basis data berhenti sejenak",
                         "UU No. 11 Tahun 2008", "Tinggi"):
            assert expected in page, expected
    assert f"hardware.mounts[{DISK}]" in html
    assert 'href="lampiran/laporan-monitoring-kinerja.html"' in html
    assert "Halaman 1 dari 2" in text


def test_a_value_nobody_gave_says_it_is_a_default(project: Project, record: Record) -> None:
    """Fields the --from file leaves out (here type and category) are defaults, not the LPSE's judgement."""
    html = members(build_package(BuildRequest(project, record.id, "budi")).path)[
        "formulir-konsultasi.html"].decode()
    assert "(urgensi Mendesak, dampak Sedang)" in html  # given in perubahan.yml
    assert ("<td>Infrastruktur (nilai bawaan, belum dinilai) / "
            "Normal (nilai bawaan, belum dinilai)</td>") in html  # type and category nobody gave
    assert "Sedang (nilai bawaan" not in html and "Mendesak (nilai bawaan" not in html


def test_nomor_given_wins(project: Project, record: Record) -> None:
    files = members(build_package(BuildRequest(project, record.id, "budi", nomor="099/LPSE/2026")).path)
    assert "099/LPSE/2026" in files["formulir-konsultasi.html"].decode()
    with pytest.raises(SpseChangeError, match=r"^--nomor must not be empty"):  # printed an empty Nomor
        BuildRequest(project, record.id, "budi", nomor=" ")


def test_rebuild_is_identical_but_for_its_number(project: Project, record: Record) -> None:
    first = build_package(BuildRequest(project, record.id, "budi"))
    second = subprocess.run([sys.executable, "-m", "spse_change.cli.main", "--project", str(project.root),
                             "consult", "build", record.id, "--as", "budi"], capture_output=True, text=True,
                            env={**os.environ, "TZ": "America/New_York"})  # the machine's zone plays no part
    assert second.returncode == 0, second.stderr
    path = Path(second.stdout.splitlines()[-1])
    assert path.name == f"{record.id}-konsultasi-v2.zip" and first.path.exists()
    assert members(path) == members(first.path)
    assert path.read_bytes() == first.path.read_bytes()


def test_nothing_private_reaches_the_package(project: Project, record: Record) -> None:
    private = project.state_dir / "runner" / "artifacts.json"
    private.parent.mkdir(parents=True)
    private.write_text('{"password": "Private-S3cret"}')
    key = project.hmac_key_file().read_bytes().strip()
    files = members(build_package(BuildRequest(project, record.id, "budi")).path)
    for name, content in files.items():
        assert b"Private-S3cret" not in content and key not in content, name
    assert SECRET_MARKER.encode() in files["baseline-before-db1.json"]  # the marker, never the value
    assert not any(".spse-change" in name or "hmac" in name for name in files)


def test_an_lpse_template_overrides_the_shipped_one(project: Project, record: Record) -> None:
    override = project.root / "templates" / "consult" / "tandatangan.html.j2"
    override.parent.mkdir(parents=True)
    override.write_text("<p>Tanda tangan elektronik: {{ kepala.name }}</p>\n")
    html = members(build_package(BuildRequest(project, record.id, "budi")).path)["formulir-konsultasi.html"]
    assert b"Tanda tangan elektronik: Sari Dewi" in html


def test_a_broken_override_is_one_line(project: Project, record: Record) -> None:
    override = project.root / "templates" / "consult" / "tandatangan.html.j2"
    override.parent.mkdir(parents=True)
    override.write_text("{{ nobody.name }}\n")
    with pytest.raises(SpseChangeError, match="'nobody' is undefined"):
        build_package(BuildRequest(project, record.id, "budi"))


def test_only_a_record_in_consultation_is_built(project: Project, store: RecordStore) -> None:
    minor = store.create(NewRecord(title="Naikkan work_mem", hosts=("db1",)), actor="budi")
    with pytest.raises(SpseChangeError, match=rf"{minor.id} is submitted: only a record in consultation"):
        build_package(BuildRequest(project, minor.id, "budi"))


def test_cli_prints_the_path_last_and_refuses_in_one_line(project: Project, record: Record,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPSE_CHANGE_USER", raising=False)
    assert main(["--project", str(project.root), "consult", "build", record.id, "--as", "budi"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert Path(out[-1]).name == f"{record.id}-konsultasi-v1.zip"
    assert main(["--project", str(project.root), "consult", "build", record.id, "--as", "nobody"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown operator 'nobody'" in err
    assert main(["--project", str(project.root), "consult", "build", record.id]) == 2
    assert capsys.readouterr().err.startswith("spse-change: consult build: say who acts with --as NAME")
    (project.root / "operators.yml").rename(project.root / "operators.bak")
    assert main(["--project", str(project.root), "consult", "build", record.id, "--as", "budi"]) == 2
    assert capsys.readouterr().err.startswith(f"spse-change: consult build: {project.root / 'operators.yml'} "
                                              "not found")
    (project.root / "operators.bak").rename(project.root / "operators.yml")
    (project.root / "lpse.yml").unlink()
    assert main(["--project", str(project.root), "consult", "build", record.id, "--as", "budi"]) == 2
    assert "lpse.yml: not found" in capsys.readouterr().err
