"""A healthy all-in-one SPSE host as verify's snapshot sees it, to break one thing at a time."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from spse_change.project import Project
from spse_change.store.baselines import new_baseline
from spse_change.verify.snapshot import Snapshot

SECRET = "secret:hmac-sha256:" + "ab" * 16
HBA = "/etc/postgresql/15/main/pg_hba.conf"
APP_CONF = "/home/appserv/spse/webapp/conf/application.conf"

DATA: dict[str, Any] = {
    "os": {"distribution": "Debian", "version": "12.8", "major_version": "12", "family": "Debian",
           "kernel": "6.1.0", "architecture": "x86_64", "hostname": "aio1",
           "timezone": "Asia/Jakarta", "time_sync": {"service": "chrony", "synchronized": True}},
    "services": {"postgresql": {"state": "running", "enabled": True},
                 "apache2": {"state": "running", "enabled": True}},
    "ports": {"tcp/127.0.0.1:5432": {"process": "postgres"}, "tcp/[::1]:5432": {"process": "postgres"},
              "tcp/0.0.0.0:443": {"process": "apache2"}, "tcp/0.0.0.0:22": {"process": "sshd"}},
    "config": {
        HBA: {"kind": "pg_hba", "owner": "postgres", "group": "postgres", "mode": "0640", "size": 90,
              "hmac": SECRET, "parsed": {"rules": {
                  "local all postgres -": {"order": 1, "method": "peer", "options": {}},
                  "host all all 127.0.0.1/32": {"order": 2, "method": "scram-sha-256", "options": {}}}}},
        "/etc/cron.d/spse-backup": {"kind": "crontab", "owner": "root", "group": "root", "mode": "0644",
                                    "size": 80, "sha256": "00" * 32, "parsed": {"env": {}, "entries": [
                                        "30 1 * * * postgres pg_dump -Fc epns_prod > /var/backups/x"]}},
        APP_CONF: {"kind": "play_conf", "owner": "appserv", "group": "appserv", "mode": "0600",
                   "size": 50, "hmac": SECRET, "parsed": {"http.port": "9009", "db.pass": SECRET}},
    },
    "database": {"server_version": "15.8", "server_version_num": "150008", "settings": {
        "listen_addresses": {"setting": "localhost", "unit": None, "source": "configuration file",
                             "pending_restart": False},
        "port": {"setting": "5432", "unit": None, "source": "configuration file", "pending_restart": False},
        "work_mem": {"setting": "4096", "unit": "kB", "source": "configuration file",
                     "pending_restart": False}}},
    "spse": {"instances": {"spse": {"path": "/home/appserv/spse", "version": "4.5", "http_port": "9009",
                                    "http_path": "/eproc4", "mode": "prod"}}},
}
FACTS: dict[str, Any] = {
    "sshd": {"error": "", "settings": {"passwordauthentication": "no", "kbdinteractiveauthentication": "no",
                                       "permitemptypasswords": "no", "pubkeyauthentication": "yes"}},
    "apache_configtest": {"command": ["/usr/sbin/apache2ctl", "-t"], "rc": 0, "output": "Syntax OK"},
    "https": {"port": 443, "path": "/eproc4", "error": "", "status": 200,
              "not_after": int(time.time()) + 365 * 86400},
    "volumes": {"/var/lib/postgresql": {"mount": "/var/lib/postgresql", "size_bytes": 10 * 2**30,
                                        "free_bytes": 6 * 2**30}},
}


def snapshot(host: str = "aio1", data: dict[str, Any] | None = None,
             facts: dict[str, Any] | None = None, incomplete: dict[str, str] | None = None) -> Snapshot:
    captured = {"data": data or copy.deepcopy(DATA), "groups": ["spse_app", "spse_db"],
                "incomplete": incomplete or {}}
    return Snapshot(host, new_baseline(host, captured, "verify"), facts or copy.deepcopy(FACTS))


@pytest.fixture
def project(tmp_path) -> Project:
    return Project(tmp_path)


@pytest.fixture
def data() -> dict[str, Any]:
    return copy.deepcopy(DATA)


@pytest.fixture
def facts() -> dict[str, Any]:
    return copy.deepcopy(FACTS)
