"""What a planned change touches, read from a baseline (spse_change/apply/targets.py)."""

from __future__ import annotations

import pytest

from spse_change.apply.plan_file import Settings
from spse_change.apply.targets import host_targets, planned_baseline, planned_prefixes, written_paths
from spse_change.diff import diff_baselines, load_policy
from spse_change.errors import SpseChangeError

AUTO = "/var/lib/pgsql/13/data/postgresql.auto.conf"
SITE = "/etc/httpd/conf.d/spse.conf"
CONF = "/home/appserv/spse/webapp/conf/application.conf"
WORK_MEM_ROW = {"setting": "8192", "unit": "kB", "vartype": "integer", "min_val": "64",
                "max_val": "2147483647", "enumvals": None, "context": "user",
                "source": "configuration file", "sourcefile": "/var/lib/pgsql/13/data/postgresql.conf"}


def legacy() -> dict:
    """legacy1's baseline, cut down to what a change touches."""
    return {
        "schema": "spse-change/baseline/2", "id": "legacy1-20261128T125636.425980Z-3e58d6",
        "host": "legacy1", "captured_at": "2026-11-28T12:56:36Z", "groups": ["spse_app", "spse_db"],
        "incomplete": {}, "measurements": {},
        "discovery": {"apache": {"config_file": "/etc/httpd/conf/httpd.conf"},
                      "postgresql": {"5432": {"category": "database",
                                              "data_directory": "/var/lib/pgsql/13/data"}}},
        "data": {
            "services": {"httpd": {"state": "running"}, "postgresql-13": {"state": "running"}},
            "config": {
                AUTO: {"kind": "postgresql_conf", "parsed": {}, "sha256": "a" * 64},
                SITE: {"kind": "apache_conf", "sha256": "b" * 64, "parsed": {
                    "VirtualHost *:443": {"ProxyPass": ["/eproc4 http://127.0.0.1:9009/eproc4"],
                                          "ProxyTimeout": ["600"]},
                    "VirtualHost *:80": {"RewriteEngine": ["On"]}}},
                "/etc/httpd/conf/httpd.conf": {"kind": "apache_conf", "parsed": {"Listen": ["80"]}},
                CONF: {"kind": "play_conf", "hmac": "c" * 64,
                       "parsed": {"application.log.level": "INFO", "application.secret": "secret:x"}},
            },
            "database": {"settings": {"work_mem": {k: WORK_MEM_ROW[k] for k in
                                                   ("setting", "unit", "source", "sourcefile")}}},
            "spse": {"instances": {"spse": {"http_path": "/eproc4", "path": "/home/appserv/spse"}}},
        },
    }


BOTH = Settings(postgresql={"work_mem": "16MB"}, apache={"ProxyTimeout": "300"})


def test_targets_come_from_the_baseline():
    assert host_targets(legacy(), BOTH) == {
        "pg_port": 5432, "pg_data_directory": "/var/lib/pgsql/13/data", "pg_service": "postgresql-13",
        "apache_config_file": "/etc/httpd/conf/httpd.conf", "apache_site_file": SITE,
        "apache_service": "httpd", "https_url": "https://127.0.0.1/eproc4"}


def test_a_baseline_without_what_the_change_needs_says_so():
    baseline = legacy()
    baseline["discovery"]["postgresql"] = {}
    with pytest.raises(SpseChangeError, match="legacy1: its baseline names no PostgreSQL cluster"):
        host_targets(baseline, BOTH)
    baseline = legacy()
    baseline["data"]["config"]["/etc/httpd/conf.d/other.conf"] = {
        "kind": "apache_conf", "parsed": {"ProxyPass": ["/x http://y"]}}
    with pytest.raises(SpseChangeError, match="cannot tell the SPSE site file"):
        host_targets(baseline, BOTH)


def test_the_planned_baseline_is_classified_and_holds_exactly_the_written_lines():
    before = legacy()
    after = planned_baseline(before, BOTH, {"work_mem": WORK_MEM_ROW})
    report = diff_baselines(before, after, load_policy(None))
    paths = {item.change.path for item in report.items}
    assert paths == {
        "database.settings.work_mem.setting", "database.settings.work_mem.sourcefile",
        f"config[{AUTO}].parsed.work_mem", f"config[{SITE}].parsed[VirtualHost *:443].ProxyTimeout"}
    assert report.verdict == "minor"
    assert after["data"]["database"]["settings"]["work_mem"]["setting"] == "16384"
    assert written_paths(before, BOTH, load_policy(None)) == {
        f"config[{AUTO}].parsed.work_mem", f"config[{SITE}].parsed[VirtualHost *:443].ProxyTimeout"}
    assert planned_prefixes(before, BOTH) == (
        "database.settings.work_mem", f"config[{AUTO}]", f"config[{SITE}]")
    assert before["data"]["config"][AUTO]["parsed"] == {}  # the approved baseline is left alone


APP_CONF = Settings(application_conf={"application.log.level": "DEBUG", "spse.change.test": "1"})


def test_application_conf_targets_each_instance_s_file_and_start_script():
    assert host_targets(legacy(), APP_CONF) == {
        "app_instances": [{"name": "spse", "conf": CONF, "script": "/home/appserv/spse/spse4"}],
        "https_url": "https://127.0.0.1/eproc4"}
    with pytest.raises(SpseChangeError, match="legacy1: its baseline found no SPSE instance named x"):
        host_targets(legacy(), Settings(application_conf={"a": "1"}, instance="x"))
    baseline = legacy()
    del baseline["data"]["config"][CONF]
    with pytest.raises(SpseChangeError, match=f"legacy1: its baseline has no {CONF}"):
        host_targets(baseline, APP_CONF)


def test_the_planned_application_conf_keys_are_the_written_lines():
    before = legacy()
    after = planned_baseline(before, APP_CONF, {})
    report = diff_baselines(before, after, load_policy(None))
    written = {f"config[{CONF}].parsed[application.log.level]", f"config[{CONF}].parsed[spse.change.test]"}
    assert {item.change.path for item in report.items} == written
    assert report.verdict == "minor"
    assert written_paths(before, APP_CONF, load_policy(None)) == written
    assert planned_prefixes(before, APP_CONF) == (f"config[{CONF}]",)
