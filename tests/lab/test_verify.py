"""`spse-change verify` against the lab: every host passes; a trust line, a waiver and a changed
PostgreSQL setting behind the toolkit's back each show as they should, in the text and the JUnit."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.lab.test_capture import spse_change

pytestmark = pytest.mark.lab

SYNC_WAIT = 90  # s: chrony's iburst against the lab's time server


def psql(host: Any, sql: str) -> str:
    return host.exec(["runuser", "-u", "postgres", "--", "psql", "-XAtc", sql]).stdout.strip()


def verify(project: Path, lab: Any, *args: str) -> tuple[Any, dict[str, Any], ET.Element]:
    junit = project / "verify.xml"
    junit.unlink(missing_ok=True)
    proc = spse_change(project, "verify", "-i", str(lab.inventory), "--junit", str(junit), *args)
    out = json.loads(proc.stdout) if "--json" in args and proc.stdout.strip() else {}
    return proc, out, ET.parse(junit).getroot()


def cases(root: ET.Element, host: str) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in root.iter("testcase") if c.get("classname") == host}


@pytest.fixture(scope="module")
def approved(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose every lab host has an approved baseline, the hosts' clocks synchronised."""
    project = tmp_path_factory.mktemp("verify")
    proc = spse_change(project, "baseline", "capture", "-i", str(lab.inventory))
    assert proc.returncode == 0, proc.stderr
    for name in lab.hosts:
        proc = spse_change(project, "baseline", "approve", f"{name}@latest", "--reason", "lab")
        assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + SYNC_WAIT
    for host in lab.hosts.values():
        while "Leap status     : Normal" not in host.exec(["chronyc", "-n", "tracking"], check=False).stdout:
            assert time.monotonic() < deadline, f"{host.name}: chrony never synchronised"
            time.sleep(1)
    return project


@pytest.fixture
def db(lab: Any) -> Any:
    return next(h for h in lab.hosts.values() if h.groups == ("spse_db",))


def test_every_lab_host_passes(lab: Any, approved: Path) -> None:
    proc, out, junit = verify(approved, lab, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(out["hosts"]) == sorted(lab.hosts)
    for name in lab.hosts:
        assert f"{name}: ok" in proc.stderr  # per-host progress
        host = out["hosts"][name]
        assert (host["failed"], host["waived"]) == (0, 0), host
        checks = {c["check"] for c in host["checks"]}
        assert "time-sync" in checks and "ssh-key-only" in checks
        assert len(checks) > 50  # conformance: one check per approved path
    legacy = lab.legacy_hosts[0]
    assert {"pg-hba-no-trust", "apache-configtest", "https-cert", "app-answers"} <= {
        c["check"] for c in out["hosts"][legacy]["checks"]}
    assert not list(junit.iter("failure")) and not list(junit.iter("error"))


def test_a_trust_line_fails_naming_host_and_check_and_a_waiver_decides(lab: Any, approved: Path,
                                                                       db: Any) -> None:
    hba = psql(db, "SHOW hba_file")
    db.exec(["cp", "-p", hba, f"{hba}.orig"])
    db.exec(["sh", "-c", f"echo 'local all all trust' >> {hba}"])
    try:
        proc, _out, junit = verify(approved, lab, "-l", db.name)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert f"== {db.name}: FAIL" in proc.stdout
        assert f"FAIL   pg-hba-no-trust: trust authentication (no password): {hba}: local all all -" \
            in proc.stdout
        case = cases(junit, db.name)["pg-hba-no-trust"]
        assert "local all all -" in case.find("failure").get("message")
        # the conformance check names the new rule too (Debian's file has a `local all all` already)
        rule = f"conformance:config[{hba}].parsed.rules[local all all - #2]"
        assert cases(junit, db.name)[rule].find("failure") is not None

        def waive(expires: str) -> None:
            (approved / "waivers.yml").write_text(
                "waivers:\n" + "".join(
                    f"  - {{host: {db.name}, check: '{check}', reason: uji lab, expires: {expires}}}\n"
                    for check in ("pg-hba-no-trust", rule)))

        waive("2999-12-31")
        proc, _out, junit = verify(approved, lab, "-l", db.name)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "WAIVED pg-hba-no-trust" in proc.stdout
        assert cases(junit, db.name)["pg-hba-no-trust"].find("skipped") is not None

        waive("2020-01-31")
        proc, _out, junit = verify(approved, lab, "-l", db.name)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "waiver expired on 2020-01-31" in proc.stdout
        assert cases(junit, db.name)["pg-hba-no-trust"].find("failure") is not None
    finally:
        db.exec(["mv", f"{hba}.orig", hba])
        (approved / "waivers.yml").unlink(missing_ok=True)


def test_a_postgresql_setting_changed_behind_our_back_fails_conformance(lab: Any, approved: Path,
                                                                        db: Any) -> None:
    psql(db, "ALTER SYSTEM SET work_mem = '7MB'")
    psql(db, "SELECT pg_reload_conf()")
    try:
        proc, _out, junit = verify(approved, lab, "-l", db.name)
    finally:
        psql(db, "ALTER SYSTEM RESET work_mem")
        psql(db, "SELECT pg_reload_conf()")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    check = "conformance:database.settings.work_mem.setting"
    line = rf"^   FAIL   {re.escape(check)}: approved \d+, now 7168 \(minor\)$"
    assert re.search(line, proc.stdout, re.M), proc.stdout
    assert cases(junit, db.name)[check].find("failure") is not None
