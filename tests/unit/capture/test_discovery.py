"""Discovery on directory-tree fixtures: running services from a fake /proc, layouts as fallback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible.module_utils import spse_discovery as discovery


def make_tree(root: Path, files: list[str] | dict[str, str]) -> str:
    items = files.items() if isinstance(files, dict) else ((rel, "x\n") for rel in files)
    for rel, text in items:
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def process(root: Path, pid: int, argv: list[str], exe: str | None = None, cwd: str | None = None,
            environ: dict[str, str] | None = None) -> None:
    """A /proc/<pid> entry as the kernel shows it: NUL-separated cmdline, exe and cwd links."""
    folder = root / "proc" / str(pid)
    folder.mkdir(parents=True)
    (folder / "cmdline").write_text("\0".join(argv) + "\0")
    (folder / "environ").write_text("".join(f"{k}={v}\0" for k, v in (environ or {}).items()))
    if exe:
        os.symlink(exe, folder / "exe")
    if cwd:
        os.symlink(cwd, folder / "cwd")


# -- layouts (the fallback when a service is down)

CENTOS7_PGDG = [
    "/etc/redhat-release",
    "/etc/httpd/conf/httpd.conf",
    "/var/lib/pgsql/10/data/postgresql.conf",
    "/var/lib/pgsql/10/data/pg_hba.conf",
    "/var/lib/pgsql/9.6/data/postgresql.conf",
]


def test_rhel_layout_finds_pgdg_clusters_with_config_in_the_data_folder(tmp_path: Path) -> None:
    layout = discovery.Layout.detect(make_tree(tmp_path, CENTOS7_PGDG))
    assert isinstance(layout, discovery.RhelLayout)
    assert layout.pg_clusters() == [
        {"config_file": "/var/lib/pgsql/10/data/postgresql.conf",
         "hba_file": "/var/lib/pgsql/10/data/pg_hba.conf",
         "data_directory": "/var/lib/pgsql/10/data", "found_by": "layout"},
        {"config_file": "/var/lib/pgsql/9.6/data/postgresql.conf",
         "hba_file": "/var/lib/pgsql/9.6/data/pg_hba.conf",
         "data_directory": "/var/lib/pgsql/9.6/data", "found_by": "layout"},
    ]
    assert layout.apache() == {"server_root": "/etc/httpd", "config_file": "/etc/httpd/conf/httpd.conf",
                               "found_by": "layout"}


def test_debian_layout_keeps_config_apart_from_data(tmp_path: Path) -> None:
    layout = discovery.Layout.detect(make_tree(tmp_path, [
        "/etc/debian_version", "/etc/apache2/apache2.conf",
        "/etc/postgresql/15/main/postgresql.conf", "/etc/postgresql/15/main/pg_hba.conf"]))
    assert isinstance(layout, discovery.DebianLayout)
    assert layout.pg_clusters() == [{
        "config_file": "/etc/postgresql/15/main/postgresql.conf",
        "hba_file": "/etc/postgresql/15/main/pg_hba.conf",
        "data_directory": "/var/lib/postgresql/15/main", "found_by": "layout"}]
    assert layout.apache()["config_file"] == "/etc/apache2/apache2.conf"


@pytest.mark.parametrize("marker", ["/etc/httpd/conf/httpd.conf", "/etc/centos-release"])
def test_rhel_is_recognised_without_redhat_release(tmp_path: Path, marker: str) -> None:
    assert isinstance(discovery.Layout.detect(make_tree(tmp_path, [marker])), discovery.RhelLayout)


def test_inventory_overrides_win_over_the_layout(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["/etc/redhat-release", "/srv/pg/postgresql.conf", "/srv/pg/PG_VERSION",
                                "/opt/httpd/conf/httpd.conf", "/etc/httpd/conf/httpd.conf"])
    layout = discovery.Layout.detect(root, {"pg_conf_dirs": ["/srv/pg"], "apache_conf_dir": "/opt/httpd"})
    assert layout.pg_clusters() == [{"config_file": "/srv/pg/postgresql.conf",
                                     "hba_file": "/srv/pg/pg_hba.conf", "data_directory": "/srv/pg",
                                     "found_by": "inventory"}]
    assert layout.apache() == {"server_root": "/opt/httpd", "config_file": "/opt/httpd/conf/httpd.conf",
                               "found_by": "inventory"}


# -- running PostgreSQL


def test_postmasters_from_proc_and_postmaster_pid(tmp_path: Path) -> None:
    make_tree(tmp_path, {
        "/usr/pgsql-10/bin/postgres": "", "/usr/lib/postgresql/15/bin/postgres": "",
        # PGDG on CentOS 7: postmaster -D, port and socket folder only in postmaster.pid
        "/var/lib/pgsql/10/data/postmaster.pid":
            "811\n/var/lib/pgsql/10/data\n1700000000\n5433\n/var/run/postgresql\n*\n  5433001\n",
        # Debian: config kept apart, given with -c config_file=
        "/var/lib/postgresql/15/main/postmaster.pid":
            "900\n/var/lib/postgresql/15/main\n1700000000\n5432\n/var/run/postgresql\n",
    })
    process(tmp_path, 811, ["/usr/pgsql-10/bin/postmaster", "-D", "/var/lib/pgsql/10/data/"],
            exe="/usr/pgsql-10/bin/postgres")
    process(tmp_path, 812, ["postgres: checkpointer process   "], exe="/usr/pgsql-10/bin/postgres")
    process(tmp_path, 900, ["/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/main",
                            "-c", "config_file=/etc/postgresql/15/main/postgresql.conf"],
            exe="/usr/lib/postgresql/15/bin/postgres")
    process(tmp_path, 901, ["/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/main",
                            "-c", "config_file=/etc/postgresql/15/main/postgresql.conf"])  # no titles
    process(tmp_path, 950, ["/usr/bin/python3", "-D", "/x"])
    assert discovery.postmasters(str(tmp_path)) == [
        {"pid": 811, "bin_dir": "/usr/pgsql-10/bin", "data_directory": "/var/lib/pgsql/10/data",
         "port": "5433", "socket_dir": "/var/run/postgresql",
         "config_file": "/var/lib/pgsql/10/data/postgresql.conf",
         "hba_file": "/var/lib/pgsql/10/data/pg_hba.conf"},
        {"pid": 900, "bin_dir": "/usr/lib/postgresql/15/bin",
         "data_directory": "/var/lib/postgresql/15/main", "port": "5432",
         "socket_dir": "/var/run/postgresql",
         "config_file": "/etc/postgresql/15/main/postgresql.conf",
         "hba_file": "/var/lib/postgresql/15/main/pg_hba.conf"},
    ]


def test_postmaster_without_pid_file_relative_data_and_pgdata(tmp_path: Path) -> None:
    make_tree(tmp_path, {"/usr/bin/postgres": "", "/usr/bin/postmaster": ""})
    process(tmp_path, 10, ["postgres", "-D", "data", "-p", "6543"], exe="/usr/bin/postgres", cwd="/srv/pg")
    process(tmp_path, 20, ["/usr/bin/postmaster"], exe="/usr/bin/postmaster",
            environ={"PGDATA": "/var/lib/pgsql/data"})
    found = {c["data_directory"]: c["port"] for c in discovery.postmasters(str(tmp_path))}
    assert found == {"/srv/pg/data": "6543", "/var/lib/pgsql/data": "5432"}


@pytest.mark.parametrize("writable", ["/home/eve/bin/postgres", "/home/eve/bin"])
def test_a_postmaster_of_a_binary_others_can_change_is_ignored(tmp_path: Path, writable: str) -> None:
    """Anyone can start a process named postgres; root must not run the psql beside it."""
    make_tree(tmp_path, {"/home/eve/bin/postgres": "", "/home/eve/bin/psql": ""})
    (tmp_path / writable.lstrip("/")).chmod(0o777)
    process(tmp_path, 30, ["postgres", "-D", "/home/eve/data"], exe="/home/eve/bin/postgres")
    assert discovery.postmasters(str(tmp_path)) == []


# -- running Apache


@pytest.mark.parametrize("argv, expected", [
    (["/usr/sbin/httpd", "-DFOREGROUND"], ("/etc/httpd", "/etc/httpd/conf/httpd.conf")),
    (["/usr/sbin/apache2", "-k", "start"], ("/etc/apache2", "/etc/apache2/apache2.conf")),
    # the legacy lab host: Debian's apache2 laid out like CentOS
    (["/usr/sbin/apache2", "-d", "/etc/httpd", "-f", "conf/httpd.conf", "-k", "start"],
     ("/etc/httpd", "/etc/httpd/conf/httpd.conf")),
    (["/usr/sbin/httpd", "-f", "/opt/web/main.conf"], ("/etc/httpd", "/opt/web/main.conf")),
])
def test_apache_server_from_its_command_line(tmp_path: Path, argv: list[str], expected: tuple) -> None:
    make_tree(tmp_path, [expected[1]])
    process(tmp_path, 5, ["/sbin/init"])
    process(tmp_path, 70, argv)
    process(tmp_path, 71, argv)
    server = discovery.apache_server(str(tmp_path))
    assert (server["server_root"], server["config_file"], server["found_by"]) == (*expected, "running server")


def test_no_apache_running(tmp_path: Path) -> None:
    process(tmp_path, 5, ["/sbin/init"])
    assert discovery.apache_server(str(tmp_path)) is None


def test_apache_config_that_others_can_change_is_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, ["/tmp/evil.conf"])
    (tmp_path / "tmp/evil.conf").chmod(0o666)
    process(tmp_path, 70, ["/usr/sbin/apache2", "-f", "/tmp/evil.conf"])
    assert discovery.apache_server(str(tmp_path)) is None


def test_apache_includes_are_globs_relative_to_server_root(tmp_path: Path) -> None:
    root = make_tree(tmp_path, [
        "/etc/httpd/conf.d/spse.conf", "/etc/httpd/conf.d/ssl.conf", "/etc/httpd/conf.d/README",
        "/etc/httpd/conf.modules.d/00-base.conf", "/etc/httpd/sites/a/one.conf",
        "/etc/httpd/sites/b.conf", "/opt/extra.conf"])
    assert discovery.apache_include_paths(
        ["conf.modules.d/*.conf", '"conf.d/*.conf"', "sites", "/opt/extra.conf", "missing/*.conf",
         "${APACHE_LOG_DIR}/x.conf"], "/etc/httpd", root) == [
        "/etc/httpd/conf.modules.d/00-base.conf",
        "/etc/httpd/conf.d/spse.conf", "/etc/httpd/conf.d/ssl.conf",
        "/etc/httpd/sites/b.conf", "/etc/httpd/sites/a/one.conf",
        "/opt/extra.conf",
    ]


# -- SPSE and Java


def test_spse_instances_are_folders_holding_application_conf(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["/home/appserv/spse4/webapp/conf/application.conf",
                                "/home/appserv/latihan/webapp/conf/application.conf",
                                "/home/appserv/backup/webapp/README", "/home/appserv/notes.txt"])
    assert discovery.spse_instances("/home/appserv", root) == {
        "latihan": "/home/appserv/latihan", "spse4": "/home/appserv/spse4"}


def test_jdks_keyed_by_real_path_with_release_version(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {
        "/usr/local/src/jdk1.8.0_202/bin/java": "", "/usr/local/src/jdk1.8.0_202/release":
            'JAVA_VERSION="1.8.0_202"\nOS_NAME="Linux"\n',
        "/usr/lib/jvm/java-11-openjdk-amd64/bin/java": "",
        "/usr/lib/jvm/java-11-openjdk-amd64/release": 'IMPLEMENTOR="Debian"\nJAVA_VERSION="11.0.25"\n',
        "/usr/java/jdk1.7.0_80/bin/java": "",  # no release file
        "/usr/local/src/jdk-docs/index.html": "",  # not a JDK
    })
    os.symlink("java-11-openjdk-amd64", tmp_path / "usr/lib/jvm/default-java")
    assert discovery.jdks(root) == {
        "/usr/local/src/jdk1.8.0_202": {"version": "1.8.0_202"},
        "/usr/lib/jvm/java-11-openjdk-amd64": {"version": "11.0.25"},
        "/usr/java/jdk1.7.0_80": {"version": None},
    }


@pytest.mark.parametrize("lines, expected", [
    (["export JAVA_HOME=/usr/local/src/jdk1.8.0_202", "$JAVA_HOME/bin/java -jar x"],
     "/usr/local/src/jdk1.8.0_202"),
    (['JAVA_HOME="/usr/java/jdk1.8.0/"', 'PATH=/usr/lib/jvm/x/bin:$PATH'], "/usr/java/jdk1.8.0"),
    (["PATH=/usr/lib/jvm/java-11/bin:$PATH play start"], "/usr/lib/jvm/java-11"),
    (["cd /home/appserv/spse4", "/usr/local/src/jdk1.8.0/bin/java -Xmx2g -jar play.jar"],
     "/usr/local/src/jdk1.8.0"),
    (["JAVA_HOME=$(readlink -f /usr/bin/java)", "play start"], None),  # nothing expanded or run
    (["play start webapp"], None),
])
def test_script_java_home(lines: list[str], expected: str | None) -> None:
    assert discovery.script_java_home(lines) == expected
