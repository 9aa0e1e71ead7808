"""consult check: a package against its SHA256SUMS; each bad file named, a bad zip one line."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from spse_change.cli.main import main
from spse_change.consult.package import BuildRequest, build_package
from spse_change.project import Project
from spse_change.records import Record


@pytest.fixture
def package(project: Project, record: Record) -> Path:
    return build_package(BuildRequest(project, record.id, "budi")).path


def rezip(source: Path, target: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the package with `edit(name, content)` deciding each member (None drops it)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            content = edit(info.filename.split("/", 1)[1], old.read(info))
            if content is not None:
                new.writestr(info, content)
        folder = old.infolist()[0].filename.split("/", 1)[0]
        extra = edit("(extra)", None)
        if extra is not None:
            new.writestr(f"{folder}/notes.txt", extra)
    return target


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["consult", "check", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_fresh_package_checks_ok(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(package, capsys)
    assert code == 0 and out.endswith("ok, 6 files match SHA256SUMS\n")


def test_each_bad_file_is_named(package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def edit(name: str, content: bytes | None) -> bytes | None:
        if name == "diff.json":
            return content[:-2] + b"x\n"  # type: ignore[index]
        if name == "lampiran/laporan-monitoring-kinerja.html":
            return None
        if name == "(extra)":
            return b"added later"
        return content

    code, out, _ = check(rezip(package, tmp_path / "bad.zip", edit), capsys)
    assert code == 1
    assert "  diff.json: does not match\n" in out
    assert "  lampiran/laporan-monitoring-kinerja.html: missing\n" in out
    assert "  notes.txt: not listed\n" in out
    assert "formulir-konsultasi" not in out


def test_one_byte_changed_in_the_zip_names_its_file(package: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(package) as archive:
        pdf = next(i for i in archive.infolist() if i.filename.endswith(".pdf"))
    data = bytearray(package.read_bytes())
    middle = pdf.header_offset + 30 + len(pdf.filename) + pdf.compress_size // 2
    data[middle] ^= 0x01
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    code, out, _ = check(damaged, capsys)
    assert code == 1 and "  formulir-konsultasi.pdf: does not match\n" in out, out


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_not_a_zip_is_one_line_exit_2(tmp_path: Path, content: bytes,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(content)
    code, out, err = check(path, capsys)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "not a readable zip" in err


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir], ids=["fifo", "folder"])
def test_not_a_file_is_one_line_exit_2(tmp_path: Path, make, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.zip"
    make(path)  # reading a fifo would wait for a writer forever
    code, out, err = check(path, capsys)
    assert (code, out, err) == (2, "", f"spse-change: {path}: cannot read (not a regular file)\n")


def test_a_zip_without_sums_is_one_line_exit_2(package: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    stripped = rezip(package, tmp_path / "nosums.zip", lambda n, c: None if n == "SHA256SUMS" else c)
    code, _, err = check(stripped, capsys)
    assert code == 2 and "no SHA256SUMS" in err
    garbled = rezip(package, tmp_path / "garbled.zip", lambda n, c: b"nonsense\n" if n == "SHA256SUMS" else c)
    code, _, err = check(garbled, capsys)
    assert code == 2 and "SHA256SUMS line 1" in err


def test_check_json(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consult", "check", str(package), "--json"]) == 0
    assert '"ok": true' in capsys.readouterr().out


def test_a_file_outside_the_package_folder_is_named(package: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Beside the folder, at the zip's root or under a name as long as the folder's: never hidden."""
    bad = tmp_path / "beside.zip"
    with zipfile.ZipFile(package) as old, zipfile.ZipFile(bad, "w") as new:
        folder = old.infolist()[0].filename.split("/", 1)[0] + "/"
        for info in old.infolist():
            new.writestr(info, old.read(info))
        new.writestr("evil.sh", b"rm -rf /\n")
        new.writestr("X" * len(folder) + "diff.json", b"{}\n")
    code, out, _ = check(bad, capsys)
    assert code == 1, out
    assert "  /evil.sh: not listed\n" in out
    assert f"  /{'X' * len(folder)}diff.json: not listed\n" in out
