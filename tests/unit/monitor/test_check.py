"""monitor check's rules on hand-made hosts: each deviation named with its setting."""

from __future__ import annotations

import time

import pytest

from spse_change.monitor.check import (
    TASK_APACHE,
    TASK_APP,
    TASK_PG,
    HostFacts,
    MonitorResult,
    apache_logs,
    evaluate,
    proposal,
)

NOW = time.time()
GOOD = {"logging_collector": "on", "log_destination": "stderr", "log_directory": "log",
        "data_directory": "/var/lib/pgsql/10/data", "log_min_duration_statement": "0",
        "log_line_prefix": "%t [%p]: user=%u,db=%d,app=%a,client=%h ", "log_lock_waits": "on",
        "log_temp_files": "0"}
SITE = {"kind": "apache_conf", "parsed": {
    "LogFormat": ['"%h %l %u %t \\"%r\\" %>s %b %D" timed'],
    "VirtualHost *:443": {"CustomLog": ["logs/ssl_access_log timed", "logs/other_log combined"]}}}


def host(settings: dict[str, str] | None = None, files: dict | None = None, groups=("spse_db", "spse_app"),
         data: dict | None = None) -> HostFacts:
    base = {"database": {"settings": {k: {"setting": v} for k, v in (settings or GOOD).items()}},
            "spse": {"instances": {"spse": {"path": "/home/appserv/spse"}}},
            "config": {"/etc/httpd/conf.d/ssl.conf": SITE}}
    fresh = {"mtime": NOW - 60, "size": 10}
    default_files = {
        TASK_PG: [{"path": "/var/lib/pgsql/10/data/log/postgresql-Sat.log", **fresh}],
        TASK_APP: [{"path": "/home/appserv/spse/webapp/logs/spse4.log", **fresh}],
        TASK_APACHE: [{"path": "/var/log/httpd/ssl_access_log", **fresh},
                      {"path": "/var/log/httpd/other_log", **fresh}],
    }
    return HostFacts("h", tuple(groups), data if data is not None else base, {},
                     files if files is not None else default_files, NOW, 24)


def by_check(findings) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        out.setdefault(f.check, []).append(f.severity)
    return out


def test_a_well_set_host_has_only_the_format_deviation_of_its_second_log() -> None:
    findings = evaluate(host())
    assert [(f.check, f.subject) for f in findings if f.severity == "fail"] == \
        [("APACHE-FORMAT", "logs/other_log")]
    assert not [f for f in findings if f.severity == "warn"]


@pytest.mark.parametrize(("change", "check", "severity", "setting"), [
    ({"log_min_duration_statement": "-1"}, "PG-DURATION", "fail", "log_min_duration_statement"),
    ({"log_line_prefix": "%m "}, "PG-PREFIX", "fail", "log_line_prefix"),
    ({"log_line_prefix": "%m [%p] "}, "PG-PREFIX", "warn", "log_line_prefix"),
    ({"log_destination": "syslog"}, "PG-LOG", "fail", "log_destination"),
    ({"logging_collector": "off"}, "PG-LOG", "fail", "logging_collector"),
    ({"log_lock_waits": "off"}, "PG-LOCK-WAITS", "warn", "log_lock_waits"),
    ({"log_temp_files": "-1"}, "PG-TEMP-FILES", "warn", "log_temp_files"),
])
def test_each_setting_is_named(change: dict, check: str, severity: str, setting: str) -> None:
    found = [f for f in evaluate(host({**GOOD, **change})) if f.check == check and f.severity == severity]
    assert found and found[0].setting == setting
    assert setting in found[0].message or check == "PG-LOG"


def test_debian_pg_ctlcluster_log_counts_when_the_collector_is_off() -> None:
    files = {TASK_PG: [{"path": "/var/log/postgresql/postgresql-15-main.log", "mtime": NOW, "size": 5}]}
    findings = evaluate(host({**GOOD, "logging_collector": "off"}, files, groups=("spse_db",)))
    assert by_check(findings)["PG-LOG"] == ["ok"]


def test_stale_or_missing_application_log() -> None:
    stale = {TASK_APP: [{"path": "/home/appserv/spse/webapp/logs/spse4.log", "mtime": NOW - 3 * 86400,
                         "size": 5}]}
    (f,) = [f for f in evaluate(host(files=stale, groups=("spse_app",))) if f.check == "APP-LOG"]
    assert f.severity == "fail" and "not written for 72 h" in f.message
    (f,) = [f for f in evaluate(host(files={}, groups=("spse_app",))) if f.check == "APP-LOG"]
    assert f.message == "no application log in /home/appserv/spse/webapp/logs"


def test_database_not_read_is_a_deviation() -> None:
    findings = evaluate(host(data={}, groups=("spse_db",)))
    assert [(f.check, f.severity) for f in findings] == [("PG-SETTINGS", "fail")]


def test_apache_formats_by_nickname() -> None:
    formats, custom = apache_logs({"x": SITE, "y": {"kind": "sysctl", "parsed": {}}})
    assert formats["timed"].endswith("%D") and "combined" in formats
    assert custom == [("logs/ssl_access_log", "timed"), ("logs/other_log", "combined")]


def test_proposal_sets_what_failed_and_warned() -> None:
    result = MonitorResult(hosts={"db1": evaluate(host({**GOOD, "log_min_duration_statement": "-1",
                                                        "log_temp_files": "-1"}, groups=("spse_db",))),
                                  "db2": evaluate(host(groups=("spse_db",)))})
    change = proposal(result)
    assert change and change["hosts"] == "db1"
    assert change["settings"] == {"postgresql": {"log_min_duration_statement": "0", "log_temp_files": "0"}}
    assert proposal(MonitorResult(hosts={"db2": evaluate(host(groups=("spse_db",)))})) is None


def test_proposal_evaluation_is_one_the_records_accept() -> None:
    from spse_change.records.fields import check_evaluation
    from spse_change.reports import analysis
    from spse_change.yamlfile import Reader

    change = proposal(MonitorResult(hosts={"db1": evaluate(host({**GOOD, "log_temp_files": "-1"},
                                                                 groups=("spse_db",)))}))
    assert change
    check_evaluation(change["evaluation"], Reader("proposal"))
    for rule in analysis.load_rules():
        report = {"database": {"temp_files": {"count": 99, "bytes": 99 << 20},
                               "checkpoints": {"warnings": 3, "by_wal": 3, "by_time": 0},
                               "failed": {"deadlocks": 1, "lock_timeouts": 0},
                               "top_errors": [{"message": "sorry, too many clients already", "count": 2}]},
                  "application": {"exceptions": {"java.lang.OutOfMemoryError": 1}, "root_causes": {}}}
        (finding,) = analysis.analyse(report, [rule], "2026-11-27")
        check_evaluation(finding.planned_change["evaluation"], Reader(rule["id"]))


def test_apache_arguments_are_unquoted_as_httpd_reads_them() -> None:
    debian = {"kind": "apache_conf", "parsed": {"LogFormat": [
        '"%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined']}}
    formats, _custom = apache_logs({"/etc/apache2/apache2.conf": debian})
    assert formats["combined"] == '%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'
