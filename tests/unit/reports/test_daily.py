"""`spse-change report daily` from files: the whole report, written atomically or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spse_change.cli.main import main
from spse_change.reports import analysis

from .conftest import ACCESS_FORMAT, LAB_PREFIX

pytestmark = pytest.mark.usefixtures("needs_pgbadger")


def run(project: Path, logs: Path, *extra: str) -> int:
    return main(["--project", str(project), "report", "daily",
                 "--pg-log", str(logs / "pg-stderr.log"), "--pg-prefix", LAB_PREFIX,
                 "--app-log", str(logs / "spse4.log"),
                 "--apache-log", str(logs / "access.log"), "--apache-format", ACCESS_FORMAT, *extra])


def test_report_written_under_its_day(tmp_path: Path, logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, logs, "--pg-min-duration", "0") == 0
    folder = tmp_path / "change_records" / "reports" / "daily" / "2026-11-27"
    report = json.loads((folder / "laporan-monitoring-kinerja.json").read_text())
    html = (folder / "laporan-monitoring-kinerja.html").read_text()
    assert report["schema"] == "spse-change/report-daily/1"
    assert report["date_source"].startswith("entri pertama log PostgreSQL")
    host = report["hosts"][0]
    assert host["database"]["top_errors"][0]["count"] == 2
    assert host["failed"] == {"rollbacks": 1, "deadlocks": 1, "lock_timeouts": 1, "statement_timeouts": 0,
                              "http_5xx": 2, "app_http_500": 2}
    assert host["unreadable"] == 2  # one torn line in the application log, one in the access log
    assert [f["rule"] for f in host["analysis"]] == ["checkpoints-too-frequent", "lock-problems"]
    assert host["analysis"][0]["planned_change"]["settings"] == {"postgresql": {"max_wal_size": "2GB"}}
    assert "Laporan Monitoring Kinerja" in html and html.count("<svg") == 2
    assert "relation &#34;...&#34; does not exist" in html  # escaped, never raw
    assert "(ambang: 0 ms)" in html
    assert "laporan-monitoring-kinerja.html" in capsys.readouterr().out
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left


def test_no_partial_report_when_one_file_is_no_log(tmp_path: Path, logs: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(tmp_path), "report", "daily", "--pg-log", str(logs / "pg-stderr.log"),
                 "--pg-prefix", LAB_PREFIX, "--apache-log", str(logs / "spse4.log")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (f"spse-change: {logs / 'spse4.log'}:1: not an Apache access log "
                   "(expected LogFormat '%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"')")
    assert not (tmp_path / "change_records").exists()


def test_date_filters_and_json(tmp_path: Path, logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, logs, "--date", "2026-11-28", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    host = report["hosts"][0]
    assert report["date"] == "2026-11-28" and report["date_source"] == "--date"
    assert host["database"]["queries"] == 0 and host["web"]["requests"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--app-log", "/dev/null", "-l", "db1"], "give log files or -i/-l/--via (fetch from hosts), not both"),
    (["--max-bytes", "0"], "--max-bytes '0': expected a positive size"),
    (["--date", "2026-02-30", "-l", "db1"], "--date '2026-02-30': expected YYYY-MM-DD"),
    (["--app-log", "/nonexistent.log"], "/nonexistent.log: no such log file"),
    (["--app-log", "/"], "/: not a log file (not a regular file)"),
    (["--app-log", "/dev/null", "--date", "2026-13-01"], "--date '2026-13-01': expected YYYY-MM-DD"),
    # from hosts, 20261127 reached every host and made a report of hosts that all failed
    (["-l", "db1", "--date", "20261127"], "--date '20261127': expected YYYY-MM-DD"),
    (["-l", "db1", "--date", "2026-W48-5"], "--date '2026-W48-5': expected YYYY-MM-DD"),
    (["-l", "db1", "--date", "2062-11-27"], "--date 2062-11-27: that day has not come yet"),
    (["--app-log", "/dev/null", "--date", "2062-11-27"], "--date 2062-11-27: that day has not come yet"),
])
def test_bad_requests(tmp_path: Path, args: list[str], message: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(tmp_path), "report", "daily", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("report", [["daily", "--app-log", "/dev/null"],
                                    ["monthly", "--month", "2026-10", "--tickets", "/dev/null"]])
def test_out_that_is_a_file_is_refused_before_anything_is_read(tmp_path: Path, report: list[str],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "laporan.zip"
    out.write_bytes(b"")  # the message named write_atomic's temporary file under it
    with pytest.raises(SystemExit) as exited:
        main(["--project", str(tmp_path), "report", *report, "--out", str(out)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: argument --out: {out} is not a folder\n")


def test_shipped_rules_load_and_a_bad_rule_is_refused(tmp_path: Path) -> None:
    assert {r["check"] for r in analysis.load_rules()} == set(analysis.CHECKS)
    (tmp_path / "report_rules.yml").write_text(
        "rules:\n  - {id: x, check: nope, threshold: 1, target: postgresql, setting: a, title: t,"
        " finding: f, advice: a, impact: Kecil, rollback: r}\n")
    with pytest.raises(Exception, match="unknown check 'nope'"):
        analysis.load_rules(tmp_path)


def test_temp_files_suggest_work_mem_from_their_size() -> None:
    rule = next(r for r in analysis.load_rules() if r["id"] == "temp-files")
    report = {"database": {"temp_files": {"count": 40, "bytes": 40 * 20 * 1024 * 1024, "max_bytes": 0}}}
    (finding,) = analysis.analyse(report, [rule], "2026-11-27", hosts="db1")
    assert finding.planned_change["settings"] == {"postgresql": {"work_mem": "32MB"}}
    assert finding.planned_change["hosts"] == "db1"
    assert finding.planned_change["evaluation"]["category"] == "Normal"


@pytest.mark.parametrize("report", ["daily", "monthly"])
def test_help_prints(report: str, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse formats help with %: a log_line_prefix in it must be escaped."""
    with pytest.raises(SystemExit) as done:
        main(["report", report, "--help"])
    assert done.value.code == 0 and "--json" in capsys.readouterr().out
