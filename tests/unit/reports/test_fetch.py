"""From what the hosts returned to the report's sections (spse_change/reports/fetch.py).

The playbook run itself is the lab's (tests/lab/test_report_fetch.py); here a
host's result is given as the module returns it, with the fetched files made
from the fixtures, and the sections are checked: a host not reached or a log
not found is named as not read, never an empty clean section.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.reports.daily import assemble
from spse_change.reports.fetch import TASK, FetchRequest, access_formats, host_sections, parse_size
from spse_change.reports.render import render_daily
from spse_change.runner.playbook import HostResult

FIXTURES = Path(__file__).with_name("fixtures")
DAY = "2026-11-27"
PREFIX = "%t [%p]: user=%u,db=%d,app=%a,client=%h "


def fetched(dest: Path, host: str, log_id: str, source: str) -> None:
    (dest / host).mkdir(parents=True, exist_ok=True)
    (dest / host / f"{log_id}.gz").write_bytes(gzip.compress((FIXTURES / source).read_bytes()))


def log(log_id: str, kind: str, path: str, **extra: str) -> dict:
    return {"id": log_id, "kind": kind, "name": log_id, "path": f"/tmp/spse-logs-x/{log_id}.gz",
            "sources": [{"path": path, "size": 1, "mtime": 0}], "bytes": 10, "lines": 1, "cut": False,
            "max_bytes": 100, "day_source": "entri bertanggal", **extra}


def outcome(host: str, logs: list[dict], not_read: list[dict] | None = None) -> HostResult:
    payload = {"date": DAY, "dir": "/tmp/spse-logs-x", "logs": logs, "not_read": not_read or []}
    return HostResult(host, results={TASK: {"spse_logs_json": json.dumps(payload)}})


@pytest.fixture
def request_(tmp_path: Path) -> FetchRequest:
    return FetchRequest(Project.discover(str(tmp_path)), date=DAY)


def test_a_host_with_all_its_logs(tmp_path: Path, request_: FetchRequest) -> None:
    fetched(tmp_path, "aio1", "postgresql-5432", "pg-stderr.log")
    fetched(tmp_path, "aio1", "application-spse-spse4.log", "spse4.log")
    logs = [log("postgresql-5432", "postgresql", "/var/lib/pgsql/13/data/log/postgresql-Fri.log",
                prefix=PREFIX, min_duration_ms="0", timezone="Asia/Jakarta"),
            log("application-spse-spse4.log", "application", "/home/appserv/spse/webapp/logs/spse4.log",
                day_source="waktu berkas: terakhir ditulis pada 2026-11-27")]
    (section,) = host_sections(request_, DAY, "aio1", outcome("aio1", logs), tmp_path)
    assert section["not_read"] == [] and section["database"]["threshold_ms"] == 0
    assert section["database"]["timezone"] == "Asia/Jakarta"
    assert section["database"]["top_errors"][0]["message"] == 'relation "..." does not exist'
    assert section["database"]["files"][0]["file"] == "aio1:/var/lib/pgsql/13/data/log/postgresql-Fri.log"
    assert section["application"]["day_source"].startswith("waktu berkas")
    assert section["web"] is None


def test_unreachable_host_is_not_read(tmp_path: Path, request_: FetchRequest) -> None:
    down = HostResult("db2", outcome="unreachable", message="ssh: connect to host 198.18.0.99: No route")
    (section,) = host_sections(request_, DAY, "db2", down, tmp_path)
    assert section["database"] is None and section["not_read"] == [
        {"kind": "host", "name": "db2", "reason": "unreachable: ssh: connect to host 198.18.0.99: No route"}]
    report = assemble(request_.project, [section], DAY, "--date")
    assert report["summary"]["not_read"] == 1 and report["hosts"][0]["analysis"] == []
    html = render_daily(report)
    assert "Tidak terbaca" in html and "bukan berarti tidak ada masalah" in html


def test_missing_log_and_wrong_kind(tmp_path: Path, request_: FetchRequest) -> None:
    fetched(tmp_path, "app1", "apache-var_log_apache2_access.log", "spse4.log")  # no access log
    missing = [{"kind": "application", "name": "spse spse4.log", "reason": "no rotation named 2026-11-27"}]
    access = log("apache-var_log_apache2_access.log", "apache", "/var/log/apache2/access.log")
    result = outcome("app1", [access], missing)
    (section,) = host_sections(request_, DAY, "app1", result, tmp_path)
    assert [item["kind"] for item in section["not_read"]] == ["application", "host"]
    assert "not an Apache access log" in section["not_read"][1]["reason"]


def test_a_second_cluster_gets_its_own_section(tmp_path: Path, request_: FetchRequest) -> None:
    for port in ("5432", "5433"):
        fetched(tmp_path, "db1", f"postgresql-{port}", "pg-stderr.log")
    logs = [log(f"postgresql-{port}", "postgresql", f"/pg/{port}.log", prefix=PREFIX, min_duration_ms="-1",
                timezone="UTC") for port in ("5432", "5433")]
    sections = host_sections(request_, DAY, "db1", outcome("db1", logs), tmp_path)
    assert [s["host"] for s in sections] == ["db1", "db1 (postgresql-5433)"]
    assert all(s["inventory_host"] == "db1" for s in sections)


@pytest.mark.parametrize(("text", "size"), [("200M", 200 << 20), ("1g", 1 << 30), ("500000", 500000),
                                            ("64KB", 64 << 10)])
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0", "-1M", "lots", "M"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(SpseChangeError, match="--max-bytes"):
        parse_size(text)


SITE = {"kind": "apache_conf", "parsed": {
    "LogFormat": ['"%h %l %u %t \\"%r\\" %>s %b %D" timed'],
    "VirtualHost *:443": {"CustomLog": ["logs/spse_access_log timed", "${APACHE_LOG_DIR}/access.log combined",
                                        "|/usr/bin/rotatelogs x 86400 common"]}}}


def test_access_formats_from_the_configuration() -> None:
    assert access_formats({"/etc/httpd/conf.d/spse.conf": SITE}) == {
        "spse_access_log": '%h %l %u %t "%r" %>s %b %D',
        "/var/log/apache2/access.log": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"'}


def test_the_hosts_own_format_and_a_log_of_another_format_not_read(tmp_path: Path,
                                                                   request_: FetchRequest) -> None:
    (tmp_path / "app1").mkdir()
    entry = '1.2.3.4 - - [27/Nov/2026:10:00:00 +0700] "GET /eproc4/ HTTP/1.1" 500 5 4100000\n'
    (tmp_path / "app1" / "a.gz").write_bytes(gzip.compress(entry.encode()))
    (tmp_path / "app1" / "b.gz").write_bytes(gzip.compress(entry.encode()))
    logs = [log("a", "apache", "/var/log/httpd/spse_access_log"),
            log("b", "apache", "/var/log/httpd/access_log")]
    logs[0]["name"], logs[1]["name"] = "/var/log/httpd/spse_access_log", "/var/log/httpd/access_log"
    formats = {"spse_access_log": '%h %l %u %t "%r" %>s %b %D', "access_log": "%h %l %u %t \"%r\" %>s %b"}
    (section,) = host_sections(request_, DAY, "app1", outcome("app1", logs), tmp_path, formats)
    assert section["web"]["response_time"] and section["web"]["slow_requests"] == 1
    assert section["web"]["format_source"].startswith("konfigurasi Apache")
    assert [(n["name"], n["reason"][:14]) for n in section["not_read"]] == \
        [("/var/log/httpd/access_log", "its LogFormat ")]
