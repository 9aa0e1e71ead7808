"""Path discovery for both OS families, on directory-tree fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils import spse_discovery as discovery


def make_tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


CENTOS7_PGDG = [
    "/etc/redhat-release",
    "/etc/httpd/conf/httpd.conf",
    "/etc/httpd/conf.d/spse.conf",
    "/etc/httpd/conf.d/ssl.conf",
    "/etc/httpd/conf.modules.d/00-proxy.conf",
    "/var/lib/pgsql/10/data/postgresql.conf",
    "/var/lib/pgsql/10/data/postgresql.auto.conf",
    "/var/lib/pgsql/10/data/pg_hba.conf",
    "/var/lib/pgsql/.pgpass",
    "/var/spool/cron/root",
    "/etc/sysctl.conf",
    "/etc/chrony.conf",
    "/etc/ssh/sshd_config",
    "/home/appserv/spse4/webapp/conf/application.conf",
]


def test_rhel_layout_finds_pgdg_and_httpd_files(tmp_path: Path) -> None:
    make_tree(tmp_path, CENTOS7_PGDG)
    layout = discovery.Layout.detect(str(tmp_path))
    assert isinstance(layout, discovery.RhelLayout)
    found = dict(layout.config_files("/home/appserv", ["/var/lib/pgsql"]))
    assert found == {
        "/home/appserv/spse4/webapp/conf/application.conf": "play_conf",
        "/var/lib/pgsql/10/data/postgresql.conf": "postgresql_conf",
        "/var/lib/pgsql/10/data/postgresql.auto.conf": "postgresql_conf",
        "/var/lib/pgsql/10/data/pg_hba.conf": "pg_hba",
        "/var/lib/pgsql/.pgpass": "pgpass",
        "/etc/httpd/conf/httpd.conf": "apache_conf",
        "/etc/httpd/conf.d/spse.conf": "apache_conf",
        "/etc/httpd/conf.d/ssl.conf": "apache_conf",
        "/etc/httpd/conf.modules.d/00-proxy.conf": "apache_conf",
        "/etc/sysctl.conf": "sysctl",
        "/etc/ssh/sshd_config": "sshd_config",
        "/etc/chrony.conf": "chrony_conf",
        "/var/spool/cron/root": "crontab",
    }


def test_debian_layout_keeps_config_apart_from_data(tmp_path: Path) -> None:
    make_tree(tmp_path, [
        "/etc/debian_version",
        "/etc/apache2/apache2.conf",
        "/etc/apache2/sites-enabled/spse.conf",
        "/etc/postgresql/15/main/postgresql.conf",
        "/etc/postgresql/15/main/conf.d/spse.conf",
        "/etc/postgresql/15/main/pg_hba.conf",
        "/var/lib/postgresql/15/main/postgresql.auto.conf",
        "/var/spool/cron/crontabs/postgres",
    ])
    layout = discovery.Layout.detect(str(tmp_path))
    assert isinstance(layout, discovery.DebianLayout)
    assert layout.pg_conf_dirs() == ["/etc/postgresql/15/main"]
    found = dict(layout.config_files("/home/appserv", []))
    assert found["/etc/postgresql/15/main/conf.d/spse.conf"] == "postgresql_conf"
    assert found["/var/lib/postgresql/15/main/postgresql.auto.conf"] == "postgresql_conf"
    assert found["/etc/apache2/sites-enabled/spse.conf"] == "apache_conf"
    assert found["/var/spool/cron/crontabs/postgres"] == "crontab"


@pytest.mark.parametrize("marker", ["/etc/httpd/conf/httpd.conf", "/etc/centos-release"])
def test_rhel_is_recognised_without_redhat_release(tmp_path: Path, marker: str) -> None:
    make_tree(tmp_path, [marker])
    assert isinstance(discovery.Layout.detect(str(tmp_path)), discovery.RhelLayout)


def test_inventory_overrides_win(tmp_path: Path) -> None:
    make_tree(tmp_path, ["/etc/redhat-release", "/srv/pg/postgresql.conf", "/opt/httpd/x.conf"])
    layout = discovery.Layout.detect(str(tmp_path), {"pg_conf_dirs": ["/srv/pg"],
                                                     "apache_conf_dir": "/opt/httpd"})
    found = dict(layout.config_files("/home/appserv", []))
    assert found["/srv/pg/postgresql.conf"] == "postgresql_conf"
    assert layout.apache_dir() == "/opt/httpd"
