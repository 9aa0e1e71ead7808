"""The minor-change loop on the lab: plan → approve → apply → verified, and rollbacks that restore.

Run selectively, under the lab lock:
    flock /tmp/spse-lab.lock .venv/bin/pytest tests/lab/test_apply.py -k work_mem
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.lab

CLI = [sys.executable, "-m", "spse_change.cli.main"]
OPERATORS = {"operators": {
    "budi": {"name": "Budi Santoso", "roles": ["pemohon", "pengelola"]},
    "sari": {"name": "Sari Dewi", "roles": ["kepala"]},
    "ani": {"name": "Ani Lestari", "roles": ["pemohon", "kepala"]},
}}
# This LPSE treats max_connections as major (a project rule goes before the shipped ones).
POLICY = {"rules": [{"id": "LAB001", "description": "max_connections is consulted",
                     "match": {"path": "database*.settings.max_connections.**"}, "class": "major",
                     "reason": "the lab's own rule"}]}
AUTO_CONF = {"legacy": "/var/lib/pgsql/13/data/postgresql.auto.conf",
             "bookworm": "/var/lib/postgresql/15/main/postgresql.auto.conf"}
# What PostgreSQL computes from shared_buffers itself (source default/override): allowed, recorded.
DERIVED = {"shared_buffers": {"shared_memory_size", "shared_memory_size_in_huge_pages", "wal_buffers"}}
SITE = {"legacy": "/etc/httpd/conf.d/spse.conf", "bookworm": "/etc/apache2/sites-available/spse.conf"}


def cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "--project", str(project), *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})


def said(proc: subprocess.CompletedProcess[str]) -> str:
    """What a command said, without its per-host progress lines."""
    return proc.stdout + "".join(line for line in proc.stderr.splitlines(keepends=True)
                                 if not line.startswith("  "))


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, said(proc)
    return proc.stdout


@pytest.fixture(scope="module")
def project(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with operators and an approved baseline of every host."""
    root = tmp_path_factory.mktemp("apply")
    (root / "operators.yml").write_text(yaml.safe_dump(OPERATORS))
    (root / "policy.yml").write_text(yaml.safe_dump(POLICY))
    ok(cli(root, "baseline", "capture", "-i", str(lab.inventory)))
    for host in lab.hosts:
        ok(cli(root, "baseline", "approve", f"{host}@latest", "--reason", "lab", "--as", "sari"))
    return root


def db_hosts(lab: Any) -> list[Any]:
    """The legacy host and a bookworm db host."""
    legacy = lab.hosts[lab.legacy_hosts[0]]
    bookworm = next(h for h in lab.hosts.values() if h.kind == "bookworm" and "spse_db" in h.groups)
    return [legacy, bookworm]


INIT = {"legacy": "/etc/init.d/postgresql-13", "bookworm": "/etc/init.d/postgresql"}


@pytest.fixture(scope="module", autouse=True)
def settings_restored(lab: Any) -> Iterator[None]:
    """Verified changes stay applied (that is the point); the lab's later tests expect its
    defaults, so the module ends by putting postgresql.auto.conf back and restarting."""
    hosts = db_hosts(lab)
    saved = {h.name: h.exec(["cat", AUTO_CONF[h.kind]]).stdout for h in hosts}
    yield
    for h in hosts:
        h.exec(["sh", "-c", 'cat > "$1"', "sh", AUTO_CONF[h.kind]], input=saved[h.name])
        h.exec([INIT[h.kind], "restart"])


def write_plan(project: Path, name: str, hosts: list[str], settings: dict[str, Any]) -> Path:
    path = project / f"{name}.yml"
    path.write_text(yaml.safe_dump({
        "title": f"lab: {name}", "reason": "test lab", "hosts": hosts, "settings": settings,
        "evaluation": {"category": "Normal", "urgency": "Mendesak", "impact": "Kecil",
                       "rollback_plan": "spse-change rollback"}}))
    return path


def plan(project: Path, lab: Any, path: Path, actor: str = "budi") -> dict[str, Any]:
    return json.loads(ok(cli(project, "plan", str(path), "-i", str(lab.inventory), "--as", actor,
                             "--json")))


def approve(project: Path, record_id: str) -> None:
    ok(cli(project, "record", "approve", record_id, "--reason", "lab", "--as", "sari"))


def apply(project: Path, lab: Any, record_id: str) -> subprocess.CompletedProcess[str]:
    return cli(project, "apply", record_id, "-i", str(lab.inventory), "--as", "budi", "--json")


def record(project: Path, record_id: str) -> dict[str, Any]:
    return json.loads(ok(cli(project, "record", "show", record_id, "--json")))


def show(host: Any, name: str) -> str:
    return host.exec(["runuser", "-u", "postgres", "--", "psql", "-XAtc", f"SHOW {name}"]).stdout.strip()


def digest(host: Any, path: str) -> str:
    return hashlib.sha256(host.exec(["cat", path]).stdout.encode()).hexdigest()


@pytest.mark.parametrize(("name", "value"), [("work_mem", "24MB"), ("shared_buffers", "160MB")])
def test_setting_goes_plan_approve_apply_verified(lab: Any, project: Path, name: str, value: str) -> None:
    hosts = db_hosts(lab)
    created = plan(project, lab, write_plan(project, name, [h.name for h in hosts],
                                            {"postgresql": {name: value}}))
    assert (created["class"], created["state"]) == ("minor", "submitted")
    approve(project, created["id"])
    proc = apply(project, lab, created["id"])
    assert proc.returncode == 0, said(proc)
    assert json.loads(proc.stdout)["state"] == "verified"
    for host in hosts:
        assert show(host, name) == value
    kept = record(project, created["id"])
    for host in hosts:
        assert {"planned", "before", "after"} <= set(kept["baselines"][host.name])
    paths = {item["path"] for item in kept["observed"]}
    assert f"database.settings.{name}.setting" in paths, paths
    others = {p.split(".")[2] for p in paths if name not in p}
    assert others <= DERIVED.get(name, set()), paths
    assert any(a["name"] == "apply-diff.txt" for a in kept["attachments"])
    drift = cli(project, "drift", "-i", str(lab.inventory), "-l", ",".join(h.name for h in hosts))
    assert drift.returncode == 0, drift.stdout + drift.stderr


def test_value_postgresql_cannot_start_with_is_rolled_back(lab: Any, project: Path) -> None:
    hosts = db_hosts(lab)
    before = {h.name: digest(h, AUTO_CONF[h.kind]) for h in hosts}
    created = plan(project, lab, write_plan(project, "huge", [h.name for h in hosts],
                                            {"postgresql": {"shared_buffers": "4TB"}}))
    approve(project, created["id"])
    proc = apply(project, lab, created["id"])
    assert proc.returncode == 1, said(proc)
    out = json.loads(proc.stdout)
    assert out["state"] == "rolled-back"
    assert "Failed to restart" in out["reason"] or "could not start" in out["reason"], out["reason"]
    for host in hosts:
        assert show(host, "shared_buffers") != "4TB"  # up, and not with the refused value
        assert digest(host, AUTO_CONF[host.kind]) == before[host.name]
    assert record(project, created["id"])["state"] == "rolled-back"


def test_apache_directive_failing_the_config_test_never_reaches_apache(lab: Any, project: Path) -> None:
    legacy = lab.hosts[lab.legacy_hosts[0]]
    before = digest(legacy, SITE["legacy"])
    created = plan(project, lab, write_plan(project, "apache", [legacy.name],
                                            {"apache": {"ProxyTimeout": "not-a-number"}}))
    approve(project, created["id"])
    proc = apply(project, lab, created["id"])
    assert proc.returncode == 1, said(proc)
    assert json.loads(proc.stdout)["state"] == "rolled-back"
    assert digest(legacy, SITE["legacy"]) == before
    https = legacy.exec(["python2.7", "-c", "import ssl, urllib2; print(urllib2.urlopen("
                         "'https://127.0.0.1/eproc4', context=ssl._create_unverified_context()).getcode())"])
    assert https.stdout.strip() == "200", https.stdout + https.stderr


def test_refusals_are_one_line(lab: Any, project: Path) -> None:
    legacy = lab.hosts[lab.legacy_hosts[0]]
    created = plan(project, lab, write_plan(project, "refusals", [legacy.name],
                                            {"postgresql": {"work_mem": "20MB"}}), actor="ani")
    unapproved = apply(project, lab, created["id"])
    assert unapproved.returncode == 2
    assert unapproved.stderr.strip().count("\n") == 0
    assert "is submitted: cannot apply (allowed next: approve, reject)" in unapproved.stderr
    own = cli(project, "record", "approve", created["id"], "--reason", "x", "--as", "ani")
    assert own.returncode == 2 and "the approver is never the requester" in own.stderr
    major = plan(project, lab, write_plan(project, "major", [legacy.name],
                                          {"postgresql": {"max_connections": "150"}}))
    assert (major["class"], major["state"]) == ("major", "consultation")
    refused = apply(project, lab, major["id"])
    assert refused.returncode == 2 and "is major" in refused.stderr, refused.stderr
    assert cli(project, "apply", "../x", "--as", "budi").returncode == 2
    out_of_range = cli(project, "plan", str(write_plan(project, "range", [legacy.name],
                                                       {"postgresql": {"work_mem": "1kB"}})),
                       "-i", str(lab.inventory), "--as", "budi")
    assert out_of_range.returncode == 2 and "out of range" in out_of_range.stderr


def test_rollback_on_demand_restores_a_verified_change(lab: Any, project: Path) -> None:
    legacy = lab.hosts[lab.legacy_hosts[0]]
    old, before = show(legacy, "work_mem"), digest(legacy, AUTO_CONF["legacy"])
    created = plan(project, lab, write_plan(project, "undo", [legacy.name],
                                            {"postgresql": {"work_mem": "40MB"}}))
    approve(project, created["id"])
    ok(apply(project, lab, created["id"]))
    assert show(legacy, "work_mem") == "40MB"
    back = cli(project, "rollback", created["id"], "-i", str(lab.inventory), "--as", "budi",
               "--reason", "lab: on demand", "--json")
    assert json.loads(ok(back))["state"] == "rolled-back"
    assert show(legacy, "work_mem") == old
    assert digest(legacy, AUTO_CONF["legacy"]) == before
    ok(cli(project, "drift", "-i", str(lab.inventory), "-l", legacy.name))


def test_a_killed_apply_is_rolled_back_by_the_next_apply(lab: Any, project: Path) -> None:
    legacy = lab.hosts[lab.legacy_hosts[0]]
    created = plan(project, lab, write_plan(project, "killed", [legacy.name],
                                            {"postgresql": {"work_mem": "44MB"}}))
    approve(project, created["id"])
    proc = subprocess.Popen(
        [*CLI, "--project", str(project), "apply", created["id"], "-i", str(lab.inventory),
         "--as", "budi"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while record(project, created["id"])["state"] != "applying":
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(1.5)  # inside the apply playbook
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert record(project, created["id"])["state"] == "applying"
    again = apply(project, lab, created["id"])
    assert json.loads(ok(again))["state"] == "verified"
    steps = [event["step"] for event in record(project, created["id"])["history"]]
    assert steps[-5:] == ["apply", "roll-back", "apply", "verify", "attach"]
    assert show(legacy, "work_mem") == "44MB"
