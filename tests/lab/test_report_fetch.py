"""`report daily -i/-l` on the lab: the day's logs fetched through Ansible, scrubbed on the host.

The stand-in SPSE application's `/eproc4/error` sends a query on a table that
does not exist; after N such requests (on top of the day's earlier ones) the
report fetched from the hosts puts that error first with the day's count, its
most frequent queries are pgBadger's own for the same log, and the legacy host
(PGDG layout, /var/log/httpd, Python 2.7) gets its own section. A password in
a failed `ALTER ROLE` reaches neither the report nor ansible-runner's
artifacts; an unreachable host and a day without logs are named as not read.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import time
from pathlib import Path

import labctl
import pytest
import yaml
from test_lab import https_get
from test_reports import ERROR, SPSE_CHANGE, N, copy_logs

pytestmark = pytest.mark.lab

PG_LOG_DIRS = {"bookworm": "/var/lib/postgresql/15/main/log", "legacy": "/var/lib/pgsql/13/data/log"}
PSQL = {"bookworm": ["runuser", "-u", "postgres", "--", "psql", "-XAtc"],
        "legacy": ["runuser", "-u", "postgres", "--", "/usr/pgsql-13/bin/psql", "-XAtc"]}
PASSWORD = "Sup3rS3cretPw9"


def report_daily(lab: labctl.Lab, project: Path, *args: str,
                 inventory: Path | None = None) -> tuple[int, dict]:
    proc = subprocess.run([str(SPSE_CHANGE), "--project", str(project), "report", "daily",
                           "-i", str(inventory or lab.inventory), "--json", *args],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.stdout.strip(), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def day_errors(host: labctl.Host, day: str) -> int:
    """The day's lines of the deliberate error in the host's PostgreSQL log files."""
    text = host.exec(["sh", "-c", 'cat "$0"/*', PG_LOG_DIRS[host.kind]]).stdout
    return len(re.findall(rf"^{day} .*{re.escape(ERROR)}", text, re.M))


def section(report: dict, host: str) -> dict:
    return next(s for s in report["hosts"] if s["host"] == host)


def test_daily_report_fetched_from_hosts(lab: labctl.Lab, tmp_path: Path) -> None:
    app = next(h for h in lab.hosts.values() if "spse_app" in h.groups and h.db_host
               and "spse_db" not in h.groups)
    db = lab.hosts[app.db_host]
    legacy = lab.hosts[lab.legacy_hosts[0]]
    day = db.exec(["date", "+%Y-%m-%d"]).stdout.strip()
    before = {h.name: day_errors(h, day) for h in (db, legacy)}
    # a failed ALTER ROLE: PostgreSQL logs the statement, password and all
    db.exec([*PSQL[db.kind], f"ALTER ROLE no_such_role PASSWORD '{PASSWORD}'"], check=False)
    for host in (app, legacy):
        assert https_get(host.ip, "/eproc4/")[0] == 200
        for _ in range(N):
            assert https_get(host.ip, "/eproc4/error")[0] == 500
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(day_errors(h, day) < before[h.name] + N for h in (db, legacy)):
        time.sleep(0.3)
    expected = {h.name: day_errors(h, day) for h in (db, legacy)}
    assert expected == {h: n + N for h, n in before.items()}

    # the hosts' Apache formats come from their latest baselines
    subprocess.run([str(SPSE_CHANGE), "--project", str(tmp_path), "baseline", "capture",
                    "-i", str(lab.inventory), "-l", f"{app.name}:{legacy.name}"],
                   capture_output=True, timeout=300, check=True)
    started = time.monotonic()
    code, report = report_daily(lab, tmp_path, "-l", f"{app.name}:{db.name}:{legacy.name}", "--date", day)
    took = time.monotonic() - started
    assert code == 0, [s["not_read"] for s in report["hosts"]]
    assert report["date"] == day
    assert [s["host"] for s in report["hosts"]] == sorted([app.name, db.name, legacy.name])

    for name in (db.name, legacy.name):
        database = section(report, name)["database"]
        top = database["top_errors"][0]
        assert (top["message"], top["count"]) == ('relation "..." does not exist', expected[name]), name
        assert database["prefix"] and database["timezone"]
    files = section(report, legacy.name)["logs"]
    assert {log["kind"] for log in files} == {"postgresql", "application", "apache"}
    sources = [src for log in files for src in log["sources"]]
    assert any(src.startswith(f"{legacy.name}:/var/lib/pgsql/13/data/log/") for src in sources)
    assert any(src.startswith(f"{legacy.name}:/var/log/httpd/spse_access_log") for src in sources)
    assert section(report, legacy.name)["application"]["top_errors"][0]["count"] >= N
    assert section(report, app.name)["web"]["errors_5xx"] >= N
    for name in (app.name, legacy.name):
        web = section(report, name)["web"]
        assert web["format_source"].startswith("konfigurasi Apache") and web["response_time"] is False
    assert "waktu berkas" in section(report, app.name)["application"]["day_source"]

    # the most frequent queries and their counts are pgBadger's own for the same log
    pg_logs = copy_logs(lab, db, f"{PG_LOG_DIRS[db.kind]}/*.log", tmp_path)
    prefix = section(report, db.name)["database"]["prefix"]
    own = json.loads(subprocess.run(
        ["pgbadger", "-q", "--pid-dir", str(tmp_path), "-f", "stderr", "-p", prefix,
         "--exclude-appname", "spse-change",
         "-b", f"{day} 00:00:00", "-e", f"{day} 23:59:59", "-x", "json", "-o", "-", *map(str, pg_logs)],
        capture_output=True, check=True).stdout)
    counts = sorted((-i["count"], q) for q, i in own["normalyzed_info"]["postgres"].items() if i["count"])
    assert [(q["query"], q["count"]) for q in section(report, db.name)["database"]["top_queries"]] == \
        [(q, -c) for c, q in counts[:20]]

    # the password was in the host's log, and is nowhere on this side: report, artifacts, fetched files
    assert PASSWORD in "".join(p.read_text() for p in pg_logs)
    role_error = next(e for e in section(report, db.name)["database"]["top_errors"]
                      if "ALTER ROLE" in (e["statement"] or ""))
    assert "secret:hmac-sha256:" in role_error["statement"]
    for path in tmp_path.rglob("*"):
        if path.is_file() and path not in pg_logs:
            data = path.read_bytes()
            assert PASSWORD.encode() not in data, path
            if ".spse-change" in path.parts:  # runner artifacts: metadata, no log text
                assert b"paket_arsip" not in data, path
    assert not list((tmp_path / ".spse-change").glob("logs-*"))  # the fetched copies are gone
    for host in (app, db, legacy):
        assert host.exec(["sh", "-c", "ls -d /tmp/spse-logs-* 2>/dev/null || true"]).stdout.strip() == ""
    html = next((tmp_path / "change_records" / "reports" / "daily" / day).glob("*.html")).read_text()
    assert "relation &#34;...&#34; does not exist" in html
    print(f"report daily -i/-l, 3 hosts: {took:.1f} s")


def test_unreachable_host_and_missing_logs_are_not_read(lab: labctl.Lab, tmp_path: Path) -> None:
    app = next(h for h in lab.hosts.values() if "spse_app" in h.groups and "spse_db" not in h.groups)
    db = next(h for h in lab.hosts.values() if "spse_db" in h.groups and "spse_app" not in h.groups)
    inventory = yaml.safe_load(lab.inventory.read_text())
    ghost = {**inventory["all"]["hosts"][app.name], "ansible_host": "198.18.0.250"}
    inventory["all"]["hosts"]["ghost1"] = ghost
    inventory["all"]["children"]["spse_app"]["hosts"]["ghost1"] = {}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    long_ago = (datetime.date.today() - datetime.timedelta(days=400)).isoformat()
    code, report = report_daily(lab, tmp_path, "-l", f"{app.name}:{db.name}:ghost1", "--date", long_ago,
                                inventory=tmp_path / "inventory.yml")
    assert code == 1
    ghost = section(report, "ghost1")
    assert ghost["database"] is ghost["application"] is ghost["web"] is None
    assert ghost["not_read"][0]["reason"].startswith("unreachable")
    kinds = {h: {item["kind"] for item in section(report, h)["not_read"]} for h in (app.name, db.name)}
    assert kinds == {app.name: {"application", "apache"}, db.name: {"postgresql"}}
    assert report["summary"]["not_read"] == 4
    html = next((tmp_path / "change_records" / "reports" / "daily" / long_ago).glob("*.html")).read_text()
    assert html.count("Tidak terbaca") == 3 and "bukan berarti tidak ada masalah" in html
