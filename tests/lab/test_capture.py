"""`spse-change baseline capture` against the lab: real Ansible, real SSH, real servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.lab

CLI = [sys.executable, "-m", "spse_change.cli.main"]
APP_CONF = "/home/appserv/spse/webapp/conf/application.conf"
ENV_SECRET = "Env-Planted-S3cret"  # an admin's shell may hold one; runner artifacts must not
UNITS = {"B": 1, "kB": 1024, "8kB": 8192, "MB": 1024**2, "GB": 1024**3}


def spse_change(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "--project", str(project), *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "ANSIBLE_NOCOLOR": "1",
                                            "PGPASSWORD": ENV_SECRET})


def capture(project: Path, lab: Any, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = spse_change(project, "baseline", "capture", "-i", str(lab.inventory), "--json", *args)
    return proc, json.loads(proc.stdout) if proc.stdout.strip() else {}


def load(path: str) -> dict:
    return json.loads(Path(path).read_text())


def conf_value(host: Any, path: str, key: str) -> str:
    for line in host.exec(["cat", path]).stdout.splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"{key} not in {path}")


def host_of(lab: Any, group: str) -> Any:
    return next(h for h in lab.hosts.values() if group in h.groups)


@pytest.fixture(scope="module")
def first(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Any]:
    project = tmp_path_factory.mktemp("project")
    proc, out = capture(project, lab)
    assert proc.returncode == 0, proc.stderr
    return project, out, proc


def test_every_host_is_stored_with_values_that_match_the_host(lab: Any, first: tuple) -> None:
    _project, out, proc = first
    assert sorted(out["stored"]) == sorted(lab.hosts)
    assert out["failed"] == {}
    for name in lab.hosts:
        assert f"{name}: ok" in proc.stderr  # per-host progress as it happens

    db = host_of(lab, "spse_db")
    base = load(out["stored"][db.name])["data"]
    live = db.exec(["runuser", "-u", "postgres", "--", "psql", "-XAtc",
                    "SELECT setting, unit FROM pg_settings WHERE name='shared_buffers'"]).stdout
    setting, unit = live.strip().split("|")
    stored = base["database"]["settings"]["shared_buffers"]
    assert (stored["setting"], stored["unit"]) == (setting, unit)
    shown = db.exec(["runuser", "-u", "postgres", "--", "psql", "-XAtc", "SHOW shared_buffers"])
    size = shown.stdout.strip()
    assert int(setting) * UNITS[unit] == int(size[:-2]) * UNITS[size[-2:]]

    app = host_of(lab, "spse_app")
    base = load(out["stored"][app.name])["data"]
    assert base["config"][APP_CONF]["parsed"]["http.port"] == conf_value(app, APP_CONF, "http.port")
    assert base["spse"]["instances"]["spse"]["http_port"] == conf_value(app, APP_CONF, "http.port")

    dpkg = app.exec(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"]).stdout
    installed = {line.split()[1] for line in dpkg.splitlines() if line.startswith("ii")}
    assert set(base["packages"]) == installed

    links = app.exec(["ls", "/sys/class/net"]).stdout.split()
    assert set(base["hardware"]["interfaces"]) == set(links)
    assert base["os"]["hostname"] == app.name


HBA_SECRET = "Planted-Hba-S3cret"
HBA_LINE = (f"host all ldapuser 10.0.0.0/8 ldap ldapserver=ldap.example.go.id "
            f'ldapbinddn="cn=spse" ldapbindpasswd={HBA_SECRET} ldapbasedn="dc=lpse"')


def test_secrets_never_leave_the_host_yet_changes_are_seen(lab: Any, first: tuple) -> None:
    project, out, proc = first
    app = host_of(lab, "spse_app")
    db = host_of(lab, "spse_db")
    hba = db.exec(["sh", "-c", "ls /etc/postgresql/*/main/pg_hba.conf"]).stdout.strip()
    db.exec(["cp", "-p", hba, f"{hba}.orig"])
    db.exec(["sh", "-c", f"echo '{HBA_LINE}' >> {hba}"])  # read by capture, never loaded
    try:
        proc_db, _ = capture(project, lab, "-l", db.name)
    finally:
        db.exec(["mv", f"{hba}.orig", hba])
    assert proc_db.returncode == 0, proc_db.stderr
    planted = {
        conf_value(app, APP_CONF, "db.pass"),
        conf_value(app, APP_CONF, "application.secret"),
        *db.exec(["sh", "-c", "cut -d: -f5 ~postgres/.pgpass"]).stdout.split(),
        HBA_SECRET,
        ENV_SECRET,
    }
    assert all(len(s) >= 8 for s in planted)
    stored = [p for p in project.rglob("*") if p.is_file() and p.name != "hmac.key"]
    assert any("artifacts" in p.parts for p in stored)  # runner artifacts are searched too
    for secret in planted:
        for path in stored:
            assert secret not in path.read_text(errors="replace"), f"{secret!r} leaked into {path}"
        assert secret not in proc.stdout + proc.stderr + proc_db.stdout + proc_db.stderr

    before = load(out["stored"][app.name])["data"]["config"][APP_CONF]["parsed"]["db.pass"]
    assert before.startswith("secret:hmac-sha256:")
    app.exec(["sed", "-i.orig", "s/^db.pass=.*/db.pass=Another-S3cret-Value/", APP_CONF])
    try:
        _proc2, out2 = capture(project, lab, "-l", app.name)
    finally:
        app.exec(["mv", f"{APP_CONF}.orig", APP_CONF])
    after = load(out2["stored"][app.name])["data"]["config"][APP_CONF]["parsed"]["db.pass"]
    assert after.startswith("secret:hmac-sha256:") and after != before
    assert "Another-S3cret-Value" not in "".join(
        p.read_text(errors="replace") for p in project.rglob("*") if p.is_file())


def test_two_captures_of_an_unchanged_host_are_equal(lab: Any, first: tuple) -> None:
    project, out, _ = first
    db = host_of(lab, "spse_db")
    proc, again = capture(project, lab, "-l", db.name)
    assert proc.returncode == 0, proc.stderr
    old, new = load(out["stored"][db.name]), load(again["stored"][db.name])
    assert old["id"] != new["id"] or old["captured_at"] == new["captured_at"]
    assert old["data"] == new["data"]
    assert old["incomplete"] == new["incomplete"] == {}


def test_stopped_host_fails_alone(lab: Any, tmp_path: Path) -> None:
    down = host_of(lab, "spse_app")
    lab.stop(down.name)
    try:
        proc, out = capture(tmp_path, lab)
    finally:
        lab.start(down.name)
    assert proc.returncode == 1
    assert list(out["failed"]) == [down.name]
    assert sorted(out["stored"]) == sorted(set(lab.hosts) - {down.name})
    text = spse_change(tmp_path, "baseline", "list", "--json")
    assert {b["host"] for b in json.loads(text.stdout)} == set(lab.hosts) - {down.name}


@pytest.mark.parametrize("args, words", [
    (["-i", "/nonexistent/inventory.yml"], "inventory not found: /nonexistent/inventory.yml"),
    (["-l", "no-such-host"], "limit 'no-such-host' matches no host in /"),
])
def test_bad_input_is_one_line_and_exit_2(lab: Any, tmp_path: Path, args: list, words: str) -> None:
    if "-i" not in args:
        args = ["-i", str(lab.inventory), *args]
    proc = spse_change(tmp_path, "baseline", "capture", *args)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert words in last and "Traceback" not in proc.stderr
    assert not (tmp_path / "change_records" / "baselines").exists()
