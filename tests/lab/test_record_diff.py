"""A major change already made on a lab host, through its record: a disk added, captured,
`record new --diff` → consultation, the outcome `internal`, closed with the new baseline, and
`drift` clean.

Run under the lab lock:
    flock /tmp/spse-lab.lock .venv/bin/pytest tests/lab/test_record_diff.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from spse_change.project import Project
from spse_change.records import RecordStore
from tests.lab.test_apply import OPERATORS, cli, ok, said
from tests.lab.test_capture import host_of

pytestmark = pytest.mark.lab


def drift(project: Path, lab: Any, host: str) -> tuple[int, dict[str, Any]]:
    """`drift -l HOST` (capturing again): its exit code and the host's entry."""
    proc = cli(project, "drift", "-i", str(lab.inventory), "-l", host, "--json")
    assert proc.returncode in (0, 1), said(proc)
    return proc.returncode, json.loads(proc.stdout)["hosts"][host]


def test_disk_added_is_recorded_consulted_and_closed_with_its_baseline(lab: Any, tmp_path: Path) -> None:
    (tmp_path / "operators.yml").write_text(yaml.safe_dump(OPERATORS))
    host = host_of(lab, "spse_db").name
    ok(cli(tmp_path, "baseline", "capture", "-i", str(lab.inventory), "-l", host))
    ok(cli(tmp_path, "baseline", "approve", f"{host}@latest", "--reason", "lab", "--as", "sari"))
    disk: dict[str, Any] = {}
    try:
        disk.update(lab.add_disk(host, 16))
        ok(cli(tmp_path, "baseline", "capture", "-i", str(lab.inventory), "-l", host))
        made = json.loads(ok(cli(tmp_path, "record", "new", "--diff", f"{host}@-1", f"{host}@latest",
                                 "--title", "Disk data baru", "--reason", "ruang unggahan hampir penuh",
                                 "--as", "budi", "--json")))
        assert (made["class"], made["state"]) == ("major", "consultation")
        record_id = made["id"]
        shown = json.loads(ok(cli(tmp_path, "record", "show", record_id, "--json")))
        mount = f"hardware.mounts[{disk['mountpoint']}]"
        item = next(i for i in shown["items"] if i["path"] == mount)
        assert (item["kind"], item["class"], item["rule"]) == ("added", "major", "HW005")
        assert item["alasan"] == "tata letak penyimpanan berubah"
        assert [a["name"] for a in shown["attachments"]] == ["diff.json"]

        code, entry = drift(tmp_path, lab, host)
        assert (code, entry["status"]) == (0, "recorded"), entry
        assert {r["record"] for r in entry["recorded"]} == {record_id}

        RecordStore(Project(tmp_path)).consult_outcome(record_id, "budi", "internal",
                                                       "ITO: ditangani internal LPSE")
        code, entry = drift(tmp_path, lab, host)
        assert (code, entry["status"]) == (0, "recorded"), entry  # still recorded until closed

        closed = json.loads(ok(cli(tmp_path, "record", "close", record_id, "--baseline", f"{host}@latest",
                                   "--reason", "disk terpasang", "--as", "sari", "--json")))
        assert closed["state"] == "closed"
        code, entry = drift(tmp_path, lab, host)
        assert (code, entry["status"], entry["recorded"]) == (0, "clean", []), entry
        history = json.loads(ok(cli(tmp_path, "record", "show", record_id, "--json")))["history"]
        assert [(h["step"], h["actor"]) for h in history] == [
            ("create", "budi"), ("attach", "budi"), ("consult", "budi"), ("close", "sari")]
    finally:
        if disk:
            lab.remove_disk(host, disk["mountpoint"])
