"""application.conf through the minor-change loop on the lab: plan → approve → apply → verified on
a bookworm app host and the legacy host, then a rollback that restores the file byte-identical.

Run under the lab lock:
    flock /tmp/spse-lab.lock .venv/bin/pytest tests/lab/test_apply_appconf.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.lab.test_apply import approve, cli, digest, ok, plan, project, record, write_plan

pytestmark = pytest.mark.lab

__all__ = ["project"]  # the module's project fixture: operators and approved baselines

CONF = "/home/appserv/spse/webapp/conf/application.conf"
PIDFILE = "/home/appserv/spse/webapp/server.pid"
# db.pool.maxSize is there and the stand-in ignores it; spse.change.test is new (appended).
KEYS = {"db.pool.maxSize": "50", "spse.change.test": "1"}
HTTPS = ("import ssl\ntry:\n    from urllib.request import urlopen\nexcept ImportError:\n"
         "    from urllib2 import urlopen\nprint(urlopen('https://127.0.0.1/eproc4/', "
         "context=ssl._create_unverified_context()).getcode())")


def https_status(host: Any) -> str:
    python = "python2.7" if host.kind == "legacy" else "python3"
    return host.exec([python, "-c", HTTPS]).stdout.strip()


def stat(host: Any) -> str:
    return host.exec(["stat", "-c", "%U:%G %a", CONF]).stdout.strip()


def test_application_conf_goes_plan_approve_apply_verified_and_rolls_back(lab: Any, project: Path) -> None:
    hosts = [lab.hosts["app1"], lab.hosts[lab.legacy_hosts[0]]]
    names = ",".join(h.name for h in hosts)
    before = {h.name: (digest(h, CONF), stat(h), h.exec(["cat", PIDFILE]).stdout) for h in hosts}
    created = plan(project, lab, write_plan(project, "appconf", [h.name for h in hosts],
                                            {"application_conf": KEYS}))
    assert (created["class"], created["state"]) == ("minor", "submitted")
    approve(project, created["id"])
    proc = cli(project, "apply", created["id"], "-i", str(lab.inventory), "--as", "budi", "--json")
    assert json.loads(ok(proc))["state"] == "verified"
    for host in hosts:
        text = host.exec(["cat", CONF]).stdout
        assert "\ndb.pool.maxSize=50\n" in text and text.endswith("\nspse.change.test=1\n"), text
        assert "maxSize=60" not in text
        assert stat(host) == before[host.name][1]  # owner, group and mode kept
        assert host.exec(["cat", PIDFILE]).stdout != before[host.name][2]  # restarted
        assert https_status(host) == "200"
    kept = record(project, created["id"])
    paths = {item["path"] for item in kept["observed"]}
    assert {f"config[{CONF}].parsed[{key}]" for key in KEYS} <= paths, paths
    ok(cli(project, "drift", "-i", str(lab.inventory), "-l", names))
    back = cli(project, "rollback", created["id"], "-i", str(lab.inventory), "--as", "budi",
               "--reason", "lab: on demand", "--json")
    assert json.loads(ok(back))["state"] == "rolled-back"
    for host in hosts:
        assert (digest(host, CONF), stat(host)) == before[host.name][:2]
        assert https_status(host) == "200"
    assert_no_conf_secret(project, hosts)


def assert_no_conf_secret(project: Path, hosts: list[Any]) -> None:
    """The plan's preview, the apply and the rollback edited application.conf: none of its secrets
    may have reached a record, a baseline or ansible-runner's artifacts (events carry diffs)."""
    secrets = set()
    for host in hosts:
        for line in host.exec(["cat", CONF]).stdout.splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("db.pass", "application.secret") and len(value.strip()) >= 8:
                secrets.add(value.strip().encode())
    assert secrets
    for path in project.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not [s for s in secrets if s in content], path


def test_a_key_that_breaks_the_application_is_rolled_back(lab: Any, project: Path) -> None:
    """http.port moves the application away from Apache's proxy: health fails, the file comes back."""
    legacy = lab.hosts[lab.legacy_hosts[0]]
    before = digest(legacy, CONF), stat(legacy)
    created = plan(project, lab, write_plan(project, "appconf-port", [legacy.name],
                                            {"application_conf": {"http.port": "9010"}}))
    approve(project, created["id"])
    proc = cli(project, "apply", created["id"], "-i", str(lab.inventory), "--as", "budi", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["state"] == "rolled-back", out
    assert out["reason"].startswith(f"{legacy.name}: Status code was 503"), out  # the HTTPS health check
    assert (digest(legacy, CONF), stat(legacy)) == before
    assert https_status(legacy) == "200"
