"""The collector registry and the collectors, on directory-tree fixtures with a fake module.

The fake module answers `run_command` like psql would and records every argument list, so
the tests see exactly which commands the collectors would run on a host.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import time
from pathlib import Path

import pytest
from ansible.module_utils import spse_collectors as collectors
from ansible.module_utils import spse_postgres as pg
from ansible.module_utils.spse_secrets import SecretScrubber

from .test_discovery import make_tree, process
from .test_postgres import EVIL, libpq_values

KEY = b"k" * 32
PARAMS = {"appserv_root": "/home/appserv", "file_stores": [], "pg_conf_dirs": [], "apache_conf_dir": None,
          "extra_config_files": [], "capture_database": True, "capture_spse": True}


class FakeModule:
    def __init__(self, bins=None, respond=None, **params):
        self.params = dict(PARAMS, **params)
        self.bins = bins or {}
        self.respond = respond or (lambda args: (0, "", ""))
        self.calls = []

    def get_bin_path(self, name, opt_dirs=None, required=False):
        assert not required, "required=True would fail_json inside a thread"
        return self.bins.get(name)

    def run_command(self, args, **kwargs):
        assert kwargs["expand_user_and_vars"] is False  # "$HOME" in a name stays as it is
        assert kwargs["handle_exceptions"] is False
        assert kwargs["encoding"] is None  # bytes, decoded by the collector
        self.calls.append((list(args), kwargs.get("data")))
        rc, out, err = self.respond(list(args))
        return rc, *(text if isinstance(text, bytes) else text.encode() for text in (out, err))


def context(root: Path | str = "/", **kwargs) -> collectors.Context:
    return collectors.Context(FakeModule(**kwargs), SecretScrubber(KEY, ["*password*", "db.pass"]),
                              str(root))


# -- registry


def test_registry_runs_each_collector_after_what_it_requires() -> None:
    ordered = collectors.check_order(collectors.COLLECTORS)
    names = [c.name for c in ordered]
    assert len(set(names)) == len(names) == len(collectors.COLLECTORS)
    for cls in ordered:
        assert all(names.index(need) < names.index(cls.name) for need in cls.requires)
    assert sorted(c.name for c in collectors.COLLECTORS if c.fills_data) == [
        "config", "database", "hardware", "os", "packages", "ports", "services", "spse"]


def named(name, requires=(), collect=None, fills_data=True):
    return type(f"C_{name}", (collectors.Collector,), {
        "name": name, "requires": requires, "fills_data": fills_data,
        "collect": lambda self, ctx: collect(ctx) if collect else {name: True}})


@pytest.mark.parametrize("registry, reason", [
    ([named("a", ("missing",))], "unknown requirement missing"),
    ([named("a", ("b",)), named("b", ("a",))], "a cycle"),
])
def test_registry_mistakes_raise(registry: list, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        collectors.check_order(registry)


def test_a_failing_collector_marks_its_category_and_never_quotes_the_error() -> None:
    ctx = context()

    def boom(ctx):
        raise KeyError("S3cr3t-value")

    collectors.run_one(ctx, named("hardware", collect=boom))
    collectors.run_one(ctx, type("Pg", (collectors.Postgresql,), {"collect": lambda self, ctx: boom(ctx)}))
    assert ctx.incomplete == {"hardware": "KeyError in the hardware collector",
                              "database": "KeyError in the postgresql collector"}
    assert ctx.data == {"hardware": {}}
    assert ctx.found == {"postgresql": None}


def test_collect_all_waits_for_requirements_and_survives_their_failure() -> None:
    seen = []

    def slow_fail(ctx):
        time.sleep(0.05)
        seen.append("config")
        raise RuntimeError("config broke")

    def after(ctx):
        seen.append("spse")
        return {"config_seen": ctx.data["config"]}

    result = collectors.collect_all(context(), [named("spse", ("config",), after),
                                                named("config", collect=slow_fail)])
    assert seen == ["config", "spse"]
    assert result["data"] == {"config": {}, "spse": {"config_seen": {}}}
    assert result["incomplete"] == {"config": "config broke"}


@pytest.mark.parametrize("bins, chosen", [
    ({"dpkg-query": "/usr/bin/dpkg-query", "rpm": "/usr/bin/rpm"}, "DpkgPackages"),
    ({"rpm": "/bin/rpm"}, "RpmPackages"),
])
def test_package_manager_chosen_by_probing(bins: dict, chosen: str) -> None:
    assert type(collectors.Packages.select(context(bins=bins))).__name__ == chosen


def test_no_package_manager_is_incomplete() -> None:
    ctx = context()
    collectors.run_one(ctx, collectors.Packages)
    assert ctx.incomplete == {"packages": "no packages variant fits this host"}


def test_rpm_packages_parsed() -> None:
    ctx = context(bins={"rpm": "/bin/rpm"},
                  respond=lambda args: (0, "postgresql10-server\t(none):10.23-1PGDG.rhel7\n", ""))
    collectors.run_one(ctx, collectors.Packages)
    assert ctx.data["packages"] == {"postgresql10-server": "10.23-1PGDG.rhel7"}
    assert ctx.module.calls[0][0][0] == "/bin/rpm"


def test_sysv_services_by_daemon_started_name_or_status(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collectors.os, "geteuid", lambda: 0)
    root = make_tree(tmp_path, {
        "/etc/init.d/httpd": "HTTPD=/usr/sbin/httpd\n",  # EL's script names no DAEMON=
        "/etc/init.d/cron": "DAEMON=/usr/sbin/cron\n",
        "/etc/init.d/spse-watch": "echo\n",  # no daemon named: its own status decides
        "/etc/init.d/README": "",
        "/etc/rc2.d/S01httpd": "", "/etc/rc.d/rc3.d/S90spse-watch": "",
    })
    for script in ("httpd", "cron", "spse-watch", "README"):
        (tmp_path / "etc/init.d" / script).chmod(0o755)
    # the legacy lab's /usr/sbin/httpd is a link to apache2: the name it was started as counts
    process(tmp_path, 70, ["/usr/sbin/httpd", "-k", "start"], exe="/usr/sbin/apache2")
    ctx = context(root, respond=lambda args: (0, "spse-watch is running\n", ""))
    assert type(collectors.Services.select(ctx)).__name__ == "SysvServices"
    collectors.run_one(ctx, collectors.Services)
    assert ctx.data["services"] == {
        "httpd": {"state": "running", "enabled": True},
        "cron": {"state": "stopped", "enabled": False},
        "spse-watch": {"state": "running", "enabled": True},
    }
    assert [args for args, _stdin in ctx.module.calls] == [["/etc/init.d/spse-watch", "status"]]


def test_command_output_that_is_not_utf8_is_replaced_not_carried_as_surrogates() -> None:
    line = b'tcp LISTEN 0 128 0.0.0.0:443 0.0.0.0:* users:(("\xffhttpd",pid=7,fd=4))\n'
    ctx = context(bins={"ss": "/usr/sbin/ss"}, respond=lambda args: (0, line, b""))
    collectors.run_one(ctx, collectors.Ports)
    assert ctx.data["ports"] == {"tcp/0.0.0.0:443": {"process": "\ufffdhttpd"}}


# -- PostgreSQL: discovery from the running servers, then the database categories


def two_clusters(tmp_path: Path) -> Path:
    make_tree(tmp_path, {
        "/usr/pgsql-10/bin/psql": "", "/usr/pgsql-10/bin/postgres": "", "/usr/pgsql-12/bin/postgres": "",
        "/var/lib/pgsql/10/data/postmaster.pid":
            "811\n/var/lib/pgsql/10/data\n1\n5432\n/var/run/postgresql\n",
        "/var/lib/pgsql/12/data/postmaster.pid": "911\n/var/lib/pgsql/12/data\n1\n5433\n/tmp\n",
    })
    process(tmp_path, 811, ["/usr/pgsql-10/bin/postmaster", "-D", "/var/lib/pgsql/10/data"],
            exe="/usr/pgsql-10/bin/postgres")
    process(tmp_path, 911, ["/usr/pgsql-12/bin/postmaster", "-D", "/var/lib/pgsql/12/data"],
            exe="/usr/pgsql-12/bin/postgres")
    return tmp_path


def psql_server(args: list[str]) -> tuple[int, str, str]:
    """What a cluster answers, by port: 5432 holds a database named with a psql meta-command."""
    port = args[args.index("-p") + 1]
    dbname = libpq_values(args[args.index("-d") + 1])["dbname"]
    data = f"/var/lib/pgsql/{'10' if port == '5432' else '12'}/data"
    if args[-1] == pg.EXTENSIONS_SQL:
        return 0, json.dumps({"plpgsql": "1.0", "from": dbname}), ""
    assert args[-1] == pg.CLUSTER_SQL and dbname == "postgres"
    databases = {"postgres": {"owner": "postgres", "encoding": "UTF8", "connectable": True, "size_bytes": 8},
                 "template0": {"owner": "postgres", "encoding": "UTF8", "connectable": False,
                               "size_bytes": 7}}
    if port == "5432":
        databases[EVIL] = {"owner": "mallory", "encoding": "UTF8", "connectable": True, "size_bytes": 9}
    settings = {name: {"name": name, "setting": value, "unit": None, "source": "override",
                       "sourcefile": None, "sourceline": None, "pending_restart": False}
                for name, value in (("config_file", data + "/postgresql.conf"),
                                    ("hba_file", data + "/pg_hba.conf"), ("data_directory", data),
                                    ("port", port))}
    settings["work_mem"] = {"setting": "4096", "unit": "kB", "source": "configuration file",
                            "sourcefile": data + "/conf.d/tuning.conf", "sourceline": 3}
    settings["ldap_password"] = {"setting": "Ld4p!", "unit": None, "source": "configuration file"}
    return 0, json.dumps({"extensions": {"plpgsql": "1.0", "from": "postgres"},
                          "server_version": "10.23", "server_version_num": 100023,
                          "settings": settings, "databases": databases}), ""


def run_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> collectors.Context:
    monkeypatch.setattr(collectors.os, "geteuid", lambda: 0)
    ctx = context(two_clusters(tmp_path), bins={"runuser": "/sbin/runuser"}, respond=psql_server)
    collectors.run_one(ctx, collectors.Postgresql)
    collectors.run_one(ctx, collectors.Extensions)
    ctx.data["config"] = {"/home/appserv/spse4/webapp/conf/application.conf": {
        "kind": "play_conf", "parsed": {"db.url": db_url}}}
    collectors.run_one(ctx, collectors.Database)
    return ctx


def test_database_is_the_cluster_the_spse_url_names_others_go_by_port(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = run_postgres(tmp_path, monkeypatch, "jdbc:postgresql://localhost:5433/epns_prod")
    assert ctx.incomplete == {}
    assert ctx.discovery["postgresql"] == {
        "5432": {"config_file": "/var/lib/pgsql/10/data/postgresql.conf",
                 "hba_file": "/var/lib/pgsql/10/data/pg_hba.conf",
                 "data_directory": "/var/lib/pgsql/10/data", "found_by": "running server",
                 "category": "database_5432"},
        "5433": {"config_file": "/var/lib/pgsql/12/data/postgresql.conf",
                 "hba_file": "/var/lib/pgsql/12/data/pg_hba.conf",
                 "data_directory": "/var/lib/pgsql/12/data", "found_by": "running server",
                 "category": "database"},
    }
    main, other = ctx.data["database"], ctx.data["database_5432"]
    assert main["databases"] == {"postgres": {"owner": "postgres", "encoding": "UTF8"},
                                 "template0": {"owner": "postgres", "encoding": "UTF8"}}
    assert main["extensions"] == {"postgres": {"plpgsql": "1.0", "from": "postgres"}}
    assert other["extensions"][EVIL] == {"plpgsql": "1.0", "from": EVIL}  # the name went in whole
    assert main["settings"]["work_mem"] == {
        "setting": "4096", "unit": "kB", "source": "configuration file",
        "sourcefile": "/var/lib/pgsql/12/data/conf.d/tuning.conf"}
    assert main["settings"]["ldap_password"]["setting"] == ctx.scrubber.hash("Ld4p!")
    assert ctx.measurements[f"database_5432.databases.{EVIL}.size_bytes"] == 9
    assert ctx.measurements["database.databases.template0.size_bytes"] == 7


def test_every_psql_is_an_argument_list_with_no_script(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = run_postgres(tmp_path, monkeypatch, "jdbc:postgresql://localhost/epns_prod")
    assert ctx.data["database"]["extensions"].keys() == {"postgres", EVIL}  # 5432 is the main one now
    calls = ctx.module.calls
    assert len(calls) == 2 + 1  # one per cluster (with its postgres database), one per other database
    owner = pwd.getpwuid(os.stat(tmp_path / "var/lib/pgsql/10/data").st_uid).pw_name  # as the server
    for args, stdin in calls:
        assert stdin is None
        port = args[args.index("-p") + 1]
        dbname = libpq_values(args[args.index("-d") + 1])["dbname"]
        socket = "/var/run/postgresql" if port == "5432" else "/tmp"
        # psql 12 is not installed: the newest psql there is serves both
        assert args == pg.psql_argv("/sbin/runuser", "/usr/pgsql-10/bin/psql", owner, port, dbname,
                                    args[-1], socket)


@pytest.mark.parametrize("euid, reason", [
    (0, "PostgreSQL is not running (its files were found by layout)"),
    (1000, "needs become (root) to find and query the running PostgreSQL"),
])
def test_stopped_postgresql_is_incomplete_never_empty_and_clean(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, euid: int, reason: str) -> None:
    monkeypatch.setattr(collectors.os, "geteuid", lambda: euid)
    root = make_tree(tmp_path, {"/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n",
                                "/var/lib/pgsql/10/data/postgresql.conf": "port = 5433\n",
                                "/proc/1/cmdline": "/sbin/init\0"})
    ctx = context(root)
    collectors.run_one(ctx, collectors.Postgresql)
    ctx.data["config"] = {}
    collectors.run_one(ctx, collectors.Database)
    assert ctx.module.calls == []
    assert ctx.data["database"] == {}
    assert ctx.incomplete == {"database": reason}
    assert ctx.discovery["postgresql"]["5433"]["found_by"] == "layout"


def test_no_postgresql_at_all_is_absent_not_incomplete(tmp_path: Path) -> None:
    ctx = context(make_tree(tmp_path, {"/etc/debian_version": "12.1\n", "/proc/1/cmdline": "init\0"}))
    collectors.run_one(ctx, collectors.Postgresql)
    collectors.run_one(ctx, collectors.Database)
    assert (ctx.data["database"], ctx.incomplete, ctx.discovery) == ({}, {}, {})


# -- configuration files


def test_config_follows_includes_and_hashes_what_may_hold_secrets(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {
        "/etc/httpd/conf/httpd.conf": "ServerRoot /etc/httpd\nInclude conf.modules.d/*.conf\n"
                                      "IncludeOptional conf.d/*.conf\n",
        "/etc/httpd/conf.modules.d/00-base.conf": "LoadModule ssl_module modules/mod_ssl.so\n",
        "/etc/httpd/conf.d/spse.conf": "<VirtualHost *:443>\nSSLCertificateKeyFile conf/lpse.key\n"
                                       "</VirtualHost>\n",
        "/etc/httpd/conf.d/broken.conf": "<VirtualHost *:80>\nRedirect / https://x/\n",
        "/etc/httpd/conf/lpse.key": "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n",
        "/var/lib/pgsql/10/data/postgresql.conf": "port = 5432\ninclude_dir = 'conf.d'\n",
        "/var/lib/pgsql/10/data/conf.d/tuning.conf": "work_mem = '16MB'\n",
        "/var/lib/pgsql/10/data/pg_hba.conf": "local all all peer\n",
        "/etc/rc.d/rc.local": "PGPASSWORD=RcPw pg_dump epns_prod\n",
        "/srv/notes.txt": "anything\n",
    })
    os.symlink("rc.d/rc.local", tmp_path / "etc/rc.local")
    ctx = context(root, extra_config_files=["/srv/notes.txt"])
    ctx.layout = collectors.discovery.RhelLayout(root)
    ctx.found = {"instances": {}, "apache": ctx.layout.apache(), "postgresql": ctx.layout.pg_clusters()}
    collectors.run_one(ctx, collectors.Config)
    files = ctx.data["config"]
    assert {path: entry["kind"] for path, entry in files.items()} == {
        "/etc/httpd/conf/httpd.conf": "apache_conf",
        "/etc/httpd/conf.modules.d/00-base.conf": "apache_conf",
        "/etc/httpd/conf.d/spse.conf": "apache_conf",
        "/etc/httpd/conf.d/broken.conf": "apache_conf",
        "/etc/httpd/conf/lpse.key": "private_key",
        "/var/lib/pgsql/10/data/postgresql.conf": "postgresql_conf",
        "/var/lib/pgsql/10/data/conf.d/tuning.conf": "postgresql_conf",
        "/var/lib/pgsql/10/data/pg_hba.conf": "pg_hba",
        "/etc/rc.d/rc.local": "shell_script",  # /etc/rc.local is the same file
        "/srv/notes.txt": "unparsed",
    }
    for path in ("/etc/httpd/conf.d/broken.conf", "/etc/httpd/conf/lpse.key", "/srv/notes.txt",
                 "/etc/rc.d/rc.local"):
        assert re.fullmatch("[0-9a-f]{64}", files[path]["hmac"]) and "sha256" not in files[path], path
    assert "parse_error" in files["/etc/httpd/conf.d/broken.conf"]
    assert "sha256" in files["/etc/httpd/conf.d/spse.conf"]
    assert "RcPw" not in json.dumps(files)
    assert ctx.incomplete == {}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give files to another user")
def test_includes_are_followed_only_to_files_the_including_owner_could_read(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {
        "/var/lib/pgsql/10/data/postgresql.conf": "include '/etc/shared.conf'\ninclude '/root/secret.conf'\n",
        "/var/lib/pgsql/10/data/pg_hba.conf": "local all all peer\n",
        "/etc/shared.conf": "work_mem = 4MB\n",
        "/root/secret.conf": "api_url = 'https://admin:hunter2@example'\n",
    })
    os.chown(tmp_path / "var/lib/pgsql/10/data/postgresql.conf", 26, 26)  # postgres on EL
    (tmp_path / "root/secret.conf").chmod(0o600)
    ctx = context(root)
    ctx.layout = collectors.discovery.RhelLayout(root)
    ctx.found = {"instances": {}, "apache": None, "postgresql": ctx.layout.pg_clusters()}
    collectors.run_one(ctx, collectors.Config)
    assert "/etc/shared.conf" in ctx.data["config"]
    assert "/root/secret.conf" not in ctx.data["config"]


# -- SPSE


def test_spse_instances_jdks_and_the_java_each_runs_on(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {
        "/usr/local/src/jdk1.8.0_202/bin/java": "",
        "/usr/local/src/jdk1.8.0_202/release": 'JAVA_VERSION="1.8.0_202"\n',
        "/usr/lib/jvm/java-11-openjdk-amd64/bin/java": "",
        "/usr/lib/jvm/java-11-openjdk-amd64/release": 'JAVA_VERSION="11.0.25"\n',
        "/home/file_prod/x": "",
    })
    os.symlink("usr/lib/jvm/java-11-openjdk-amd64/bin/java", tmp_path / "java")  # inside the tree
    ctx = context(root, bins={"java": "/java"}, file_stores=[str(tmp_path / "home/file_prod")])
    ctx.found["instances"] = {"spse4": "/home/appserv/spse4", "latihan": "/home/appserv/latihan"}
    ctx.data["hardware"] = {"mounts": {"/": {}}}
    ctx.data["config"] = {
        "/home/appserv/spse4/webapp/conf/application.conf": {
            "kind": "play_conf", "parsed": {"http.port": "9009", "application.mode": "prod"}},
        "/home/appserv/spse4/spse4": {"kind": "shell_script", "parsed": {"lines": [
            "export JAVA_HOME=/usr/local/src/jdk1.8.0_202", "play start webapp"]}},
        "/home/appserv/latihan/webapp/conf/application.conf": {"kind": "play_conf", "parsed": {}},
    }
    collectors.run_one(ctx, collectors.Spse)
    spse = ctx.data["spse"]
    assert spse["jdks"] == {"/usr/local/src/jdk1.8.0_202": {"version": "1.8.0_202"},
                            "/usr/lib/jvm/java-11-openjdk-amd64": {"version": "11.0.25"}}
    assert {n: (i["java_home"], i["java_version"]) for n, i in spse["instances"].items()} == {
        "spse4": ("/usr/local/src/jdk1.8.0_202", "1.8.0_202"),
        "latihan": ("/usr/lib/jvm/java-11-openjdk-amd64", "11.0.25"),  # `java` on PATH, resolved
    }
    assert spse["instances"]["spse4"]["http_port"] == "9009"
    assert ctx.discovery["spse"] == {
        "spse4": {"found_by": "app root scan", "java_home_found_by": "start script"},
        "latihan": {"found_by": "app root scan", "java_home_found_by": "PATH"}}
    assert spse["file_stores"] == {str(tmp_path / "home/file_prod"): {"mount": "/"}}
    assert ctx.module.calls == []  # release files known: no JVM started
