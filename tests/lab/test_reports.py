"""The daily report from a lab host's real logs: the stand-in app's failing query tops the database errors.

The stand-in SPSE application sends real SQL; `/eproc4/error` sends a query
on a table that does not exist. After N such requests the database log holds
N more of that error, and the report made from the copied logs says so, with
pgBadger's own query counts for the same files.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import labctl
import pytest
import yaml
from test_lab import https_get

pytestmark = pytest.mark.lab

N = 7
PG_LOG_DIR = "/var/lib/postgresql/15/main/log"
LAB_PREFIX = "%t [%p]: user=%u,db=%d,app=%a,client=%h "
ERROR = 'ERROR:  relation "paket_arsip" does not exist'
SPSE_CHANGE = Path(sys.executable).with_name("spse-change")


def copy_logs(lab: labctl.Lab, host: labctl.Host, pattern: str, dest: Path) -> list[Path]:
    """Copy a host's log files (by shell glob inside the host) to `dest`."""
    names = host.exec(f"ls -1 {pattern}").stdout.split()
    out = []
    for n, name in enumerate(names):
        path = dest / f"{host.name}-{n}-{Path(name).name}"
        with open(path, "wb") as fh:
            subprocess.run(lab.exec_argv(host.name, ["cat", name]), stdout=fh, check=True)
        out.append(path)
    return out


def error_lines(db: labctl.Host) -> int:
    found = db.exec(["grep", "-rhcF", ERROR, PG_LOG_DIR], check=False).stdout.split()
    return sum(int(n) for n in found)


def test_daily_report_from_lab_logs(lab: labctl.Lab, tmp_path: Path) -> None:
    app = next((h for h in lab.hosts.values() if "spse_app" in h.groups and h.db_host), None)
    if app is None:
        pytest.skip("no app host with a database")
    if not shutil.which("pgbadger"):
        pytest.skip("pgbadger not installed (sh scripts/install)")
    db = lab.hosts[app.db_host]
    before = error_lines(db)
    for _ in range(3):
        assert https_get(app.ip, "/eproc4/")[0] == 200
    for _ in range(N):
        assert https_get(app.ip, "/eproc4/error")[0] == 500
    deadline = time.monotonic() + 15
    while error_lines(db) < before + N and time.monotonic() < deadline:
        time.sleep(0.3)
    assert error_lines(db) == before + N

    pg_logs = copy_logs(lab, db, f"{PG_LOG_DIR}/*.log", tmp_path)
    app_logs = copy_logs(lab, app, "/home/appserv/spse/webapp/logs/spse4.log", tmp_path)
    access_logs = copy_logs(lab, app, "/var/log/apache2/spse_access.log", tmp_path)
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d) .*" + re.escape(ERROR), pg_logs[-1].read_text(), re.M)
    day = stamps[-1]
    in_day = sum(len(re.findall(rf"^{day} .*{re.escape(ERROR)}", p.read_text(), re.M)) for p in pg_logs)

    result = subprocess.run(
        [str(SPSE_CHANGE), "--project", str(tmp_path), "report", "daily", "--date", day,
         "--pg-log", *map(str, pg_logs), "--pg-prefix", LAB_PREFIX, "--pg-min-duration", "0",
         "--app-log", *map(str, app_logs), "--apache-log", *map(str, access_logs), "--json"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    host = report["hosts"][0]
    top = host["database"]["top_errors"][0]
    assert (top["message"], top["count"]) == ('relation "..." does not exist', in_day)
    assert in_day >= N
    assert "paket_arsip" in top["statement"]

    # the most frequent queries and their counts are pgBadger's own for the same logs
    own = json.loads(subprocess.run(
        ["pgbadger", "-q", "--pid-dir", str(tmp_path), "-f", "stderr", "-p", LAB_PREFIX,
         "--exclude-appname", "spse-change",
         "-b", f"{day} 00:00:00", "-e", f"{day} 23:59:59", "-x", "json", "-o", "-", *map(str, pg_logs)],
        capture_output=True, check=True).stdout)
    counts = sorted(((-i["count"], q) for q, i in own["normalyzed_info"]["postgres"].items() if i["count"]))
    assert [(q["query"], q["count"]) for q in host["database"]["top_queries"]] == \
        [(q, -c) for c, q in counts[:20]]
    assert any("jumlah_paket" in q["query"] for q in host["database"]["top_queries"])

    # the application's trace and Apache's 5xx tell the same failure
    app_top = host["application"]["top_errors"][0]
    assert app_top["root_cause"] == "org.postgresql.util.PSQLException" and app_top["count"] >= N
    assert host["web"]["errors_5xx"] >= N and host["web"]["response_time"] is False
    html = next((tmp_path / "change_records" / "reports" / "daily" / day).glob("*.html")).read_text()
    assert "relation &#34;...&#34; does not exist" in html


def monitor(lab: labctl.Lab, project: Path, *args: str) -> tuple[int, dict]:
    proc = subprocess.run([str(SPSE_CHANGE), "--project", str(project), "monitor", "check",
                           "-i", str(lab.inventory), "--json", *args],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.stdout.strip(), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def marks(result: dict, host: str) -> dict[str, str]:
    return {f"{f['check']}:{f['subject']}": f["severity"] for f in result["hosts"][host]}


def test_monitor_check_names_logging_turned_off(lab: labctl.Lab, tmp_path: Path) -> None:
    db = next(h for h in lab.hosts.values() if "spse_db" in h.groups and "spse_app" not in h.groups)
    app = next(h for h in lab.hosts.values() if "spse_app" in h.groups and "spse_db" not in h.groups)
    https_get(app.ip, "/eproc4/")  # the application log is written now
    code, result = monitor(lab, tmp_path)
    assert code == 1  # the lab's Apache logs `combined`: no response time, an SOP deviation
    assert not result["failed"]
    on_db = marks(result, db.name)
    assert on_db["PG-DURATION:log_min_duration_statement"] == "ok"
    assert on_db["PG-PREFIX:log_line_prefix"] == "ok"
    assert [k for k, v in on_db.items() if k.startswith("PG-LOG:")] and "fail" not in on_db.values()
    on_app = marks(result, app.name)
    assert on_app["APP-LOG:spse"] == "ok"
    assert on_app["APACHE-LOG:${APACHE_LOG_DIR}/spse_access.log"] == "ok"
    assert on_app["APACHE-FORMAT:${APACHE_LOG_DIR}/spse_access.log"] == "fail"

    psql = ["runuser", "-u", "postgres", "--", "psql", "-XAtc"]
    db.exec([*psql, "ALTER SYSTEM SET log_min_duration_statement = -1"])
    db.exec([*psql, "ALTER SYSTEM SET log_lock_waits = off"])
    db.exec([*psql, "SELECT pg_reload_conf()"])
    try:
        plan = tmp_path / "aktifkan-log.yml"
        code, result = monitor(lab, tmp_path, "-l", db.name, "--propose", str(plan))
        assert code == 1
        failing = [f for f in result["hosts"][db.name] if f["severity"] == "fail"]
        assert [(f["check"], f["setting"]) for f in failing] == \
            [("PG-DURATION", "log_min_duration_statement")]
        assert "log_min_duration_statement = -1" in failing[0]["message"]
        assert marks(result, db.name)["PG-LOCK-WAITS:log_lock_waits"] == "warn"
        change = yaml.safe_load(plan.read_text())
        assert change["hosts"] == db.name
        assert change["settings"] == \
            {"postgresql": {"log_lock_waits": "on", "log_min_duration_statement": "0"}}
        assert set(change) == {"title", "reason", "hosts", "settings", "evaluation"}
        assert change["evaluation"]["category"] == "Normal" and change["evaluation"]["rollback_plan"]
    finally:
        db.exec([*psql, "ALTER SYSTEM RESET log_min_duration_statement"])
        db.exec([*psql, "ALTER SYSTEM RESET log_lock_waits"])
        db.exec([*psql, "SELECT pg_reload_conf()"])
