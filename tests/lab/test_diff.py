"""Real changes on lab hosts, captured and classified: what the SOP's fork rests on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.test_capture import APP_CONF, capture, host_of, spse_change

pytestmark = pytest.mark.lab


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path


def diff_after(project: Path, lab: Any, host: Any, change: Any) -> dict:
    """Capture `host`, make `change`, capture again, return the JSON diff of the two."""
    proc, _ = capture(project, lab, "-l", host.name)
    assert proc.returncode == 0, proc.stderr
    change()
    proc, _ = capture(project, lab, "-l", host.name)
    assert proc.returncode == 0, proc.stderr
    out = spse_change(project, "diff", f"{host.name}@-1", f"{host.name}@latest", "--json")
    assert out.returncode in (0, 1), out.stderr
    doc = json.loads(out.stdout)
    doc["rc"] = out.returncode
    return doc


@pytest.fixture
def db(lab: Any) -> Iterator[Any]:
    host = host_of(lab, "spse_db")
    conf = host.exec(["sh", "-c", "ls /etc/postgresql/*/main/postgresql.conf"]).stdout.strip()
    host.exec(["cp", "-p", conf, f"{conf}.orig"])
    yield host
    host.exec(["mv", f"{conf}.orig", conf])
    host.exec(["runuser", "-u", "postgres", "--", "psql", "-XAtc", "SELECT pg_reload_conf()"])


def test_postgresql_setting_is_minor_in_file_and_live(project: Path, lab: Any, db: Any) -> None:
    conf = db.exec(["sh", "-c", "ls /etc/postgresql/*/main/postgresql.conf"]).stdout.strip()

    def raise_work_mem() -> None:
        db.exec(["sh", "-c", f"echo \"work_mem = '24MB'\" >> {conf}"])
        db.exec(["runuser", "-u", "postgres", "--", "psql", "-XAtc", "SELECT pg_reload_conf()"])

    doc = diff_after(project, lab, db, raise_work_mem)
    paths = {item["path"]: item for item in doc["items"]}
    assert doc["rc"] == 1
    assert all("work_mem" in p for p in paths), sorted(paths)
    assert paths[f"config[{conf}].parsed.work_mem"]["new"] == "24MB"
    live = paths["database.settings.work_mem.setting"]
    assert live["new"] == str(24 * 1024)
    assert {i["class"] for i in doc["items"]} == {"minor"}
    assert live["rule"] and live["rule"] != "UNMATCHED"
    assert doc["verdict"] == "minor"


def test_nic_added_is_major(project: Path, lab: Any) -> None:
    host = host_of(lab, "spse_app")
    added: dict = {}
    try:
        doc = diff_after(project, lab, host, lambda: added.update(lab.add_nic(host.name)))
    finally:
        if added:
            lab.remove_nic(host.name, added["name"])
    [item] = doc["items"]
    assert (item["path"], item["kind"], item["class"]) == (
        f"hardware.interfaces.{added['name']}", "added", "major")
    assert doc["verdict"] == "major"


def test_disk_added_is_major(project: Path, lab: Any) -> None:
    host = host_of(lab, "spse_db")
    added: dict = {}
    try:
        doc = diff_after(project, lab, host, lambda: added.update(lab.add_disk(host.name, 16)))
    finally:
        if added:
            lab.remove_disk(host.name, added["mountpoint"])
    [item] = doc["items"]
    assert (item["path"], item["kind"], item["class"]) == (
        f"hardware.mounts[{added['mountpoint']}]", "added", "major")


def test_secret_change_is_minor_and_never_shown(project: Path, lab: Any) -> None:
    app = host_of(lab, "spse_app")
    app.exec(["cp", "-p", APP_CONF, f"{APP_CONF}.orig"])
    try:
        doc = diff_after(project, lab, app, lambda: app.exec(
            ["sed", "-i", "s/^db.pass=.*/db.pass=Brand-New-S3cret/", APP_CONF]))
        text = spse_change(project, "diff", f"{app.name}@-1", f"{app.name}@latest")
    finally:
        app.exec(["mv", f"{APP_CONF}.orig", APP_CONF])
    [item] = doc["items"]
    assert item["path"] == f"config[{APP_CONF}].parsed[db.pass]"
    assert (item["secret"], item["old"], item["new"], item["class"]) == (True, "***", "***", "minor")
    assert "secret changed" in text.stdout
    assert "Brand-New-S3cret" not in text.stdout + json.dumps(doc)
    assert "secret:hmac" not in text.stdout


def test_unchanged_host_diff_is_empty(project: Path, lab: Any) -> None:
    host = host_of(lab, "spse_db")
    doc = diff_after(project, lab, host, lambda: None)
    assert (doc["rc"], doc["items"], doc["verdict"]) == (0, [], "none")
