"""Issue 9's proof on the lab: a disk added to a database host becomes a consultation package for
ITO LKPP whose form names the host, the disk and why it is major, that checks against its SHA256SUMS,
and that carries no secret of the host; the consultation's outcome and closing make drift clean."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.lab.test_capture import capture, host_of, spse_change
from tests.lab.test_field import corpus, corpus_line
from tests.unit.consult.conftest import LPSE, OPERATORS

pytestmark = pytest.mark.lab

DETAILS = """\
request: {description: Disk data 16 MB untuk arsip dokumen}
evaluation: {impact: Sedang, urgency: Mendesak, rollback_plan: lepas disk dan kembalikan mount,
             estimated_cost: Rp 4.500.000}
"""


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def rezip_with_one_byte_changed(source: Path, target: Path, member: str) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            content = old.read(info)
            if info.filename.endswith(f"/{member}"):
                content = content[:10] + bytes([content[10] ^ 0x01]) + content[11:]
            new.writestr(info, content)


def test_disk_added_to_a_host_becomes_a_checked_secret_free_consultation_package(
        lab: Any, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "operators.yml").write_text(OPERATORS)
    (project / "lpse.yml").write_text(LPSE)
    (project / "perubahan.yml").write_text(DETAILS)
    db = host_of(lab, "spse_db")
    conf = db.exec(["sh", "-c", "ls /etc/postgresql/*/main/postgresql.conf"]).stdout.strip()
    planted = [e for e in corpus() if e["kind"] == "postgresql_conf"]
    secrets = [e["secret"] for e in planted]
    db.exec(["cp", "-p", conf, f"{conf}.orig"])
    added: dict = {}
    try:
        db.exec(["sh", "-c", 'cat >> "$1"', "sh", conf],
                input="\n".join(corpus_line(e, e["secret"]) for e in planted) + "\n")
        ok(capture(project, lab, "-l", db.name)[0])
        added.update(lab.add_disk(db.name, 16))
        ok(capture(project, lab, "-l", db.name)[0])

        new = ok(spse_change(project, "record", "new", "--diff", f"{db.name}@-1", f"{db.name}@latest",
                             "--title", "Tambah disk data", "--reason", "ruang arsip hampir habis",
                             "--from", str(project / "perubahan.yml"), "--as", "budi"))
        record_id, state = new.stdout.split()[:2]
        assert state == "consultation", new.stdout

        built = ok(spse_change(project, "consult", "build", record_id, "--as", "budi"))
        package = Path(built.stdout.splitlines()[-1])
        if not package.is_absolute():
            package = Path.cwd() / package
        assert package.name == f"{record_id}-konsultasi-v1.zip" and package.is_file()
        assert ok(spse_change(project, "consult", "check", str(package))).stdout.rstrip().endswith(
            "files match SHA256SUMS")

        changed = tmp_path / "changed.zip"
        rezip_with_one_byte_changed(package, changed, "diff.json")
        bad = spse_change(project, "consult", "check", str(changed))
        assert bad.returncode == 1 and "  diff.json: does not match" in bad.stdout, bad.stdout + bad.stderr
        assert "formulir-konsultasi" not in bad.stdout

        unpacked = tmp_path / "unpacked"
        with zipfile.ZipFile(package) as archive:
            archive.extractall(unpacked)
        [pdf] = unpacked.rglob("formulir-konsultasi.pdf")
        text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        flat = "".join(text.split())
        for expected in (record_id, db.name, f"hardware.mounts[{added['mountpoint']}]", "HW005",
                         "tataletakpenyimpananberubah"):
            assert expected in flat, (expected, text)

        every = [p.read_bytes() for p in unpacked.rglob("*") if p.is_file()] + [text.encode()]
        for secret in secrets:
            assert not any(secret.encode() in content for content in every), "a planted secret is in the zip"

        # the consultation's outcome, its letter, and closing with the new baseline: drift is clean
        letter = ok(spse_change(project, "consult", "outcome", record_id, "--outcome", "internal",
                                "--note", "ditangani LPSE sendiri", "--as", "ani"))
        assert letter.stdout.splitlines()[0] == f"{record_id} internal by ani"
        assert [Path(p).name for p in letter.stdout.splitlines()[1:]] == [
            "catatan-penanganan-internal.html", "catatan-penanganan-internal.pdf"]
        ok(spse_change(project, "record", "close", record_id, "--baseline", f"{db.name}@latest",
                       "--as", "sari"))
        steps = ok(spse_change(project, "record", "show", record_id)).stdout
        for step in ("create", "attach", "consult", "close"):
            assert step in steps
        ok(spse_change(project, "drift", "-i", str(lab.inventory), "-l", db.name))
    finally:
        if added:
            lab.remove_disk(db.name, added["mountpoint"])
        db.exec(["mv", f"{conf}.orig", conf])
