"""Bad input through the real CLI and real Ansible: one line naming the file, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def capture(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "spse-change"), "--project", str(project), "baseline",
                           "capture", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, text, where", [
    ("hosts.yml", "all:\n  hosts:\n    app1: [\n", "hosts.yml:4:1: did not find expected node content"),
    ("hosts.ini", "[spse_app]\napp1 ansible_host\n",
     "hosts.ini:2: Expected key=value host variable assignment, got: ansible_host"),
])
def test_malformed_inventory_names_file_and_line(tmp_path: Path, name: str, text: str,
                                                 where: str) -> None:
    bad = tmp_path / name
    bad.write_text(text)
    proc = capture(tmp_path, "-i", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"spse-change: Completely failed to parse inventory source {tmp_path}/{where}")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "change_records").exists()


def test_missing_inventory(tmp_path: Path) -> None:
    proc = capture(tmp_path, "-i", str(tmp_path / "nope.yml"))
    assert (proc.returncode, proc.stderr.strip().splitlines()[-1]) == (
        2, f"spse-change: inventory not found: {tmp_path / 'nope.yml'}")


@pytest.mark.skipif(os.geteuid() != 0, reason="captures this machine with sudo: run as root")
def test_unwritable_store_is_one_line(tmp_path: Path) -> None:
    records = tmp_path / "change_records"
    records.mkdir()
    (records / "baselines").write_text("not a folder")
    proc = capture(tmp_path, "-l", "localhost")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cannot write" in proc.stderr.strip().splitlines()[-1]
