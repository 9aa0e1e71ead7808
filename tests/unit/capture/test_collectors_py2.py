"""The collectors on Python 2.7 and 3.6 (the field's Pythons) give what they give on ours.

The module run in test_module_interpreters.py only reaches what this machine has; this drives
the PostgreSQL, config and SPSE collectors on a directory tree with a fake module (psql answers,
a database named with a psql meta-command, a failing psql with a non-ASCII message, non-ASCII
files) under each interpreter, with ansible-core's module_utils beside ours as AnsiballZ ships
them, and compares the JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import ansible.module_utils
import pytest

from .test_module_interpreters import ROLE, interpreter

# Python 2.7 and 3 syntax only: this runs on every interpreter.
SCRIPT = r'''
# -*- coding: utf-8 -*-
from __future__ import print_function
import io, json, os, sys
sys.path.insert(0, sys.argv[1])
from ansible.module_utils import spse_collectors as c, spse_postgres as pg
from ansible.module_utils.spse_secrets import SecretScrubber

EVIL = u'x"\n\\! touch /tmp/pwned\n'
root = sys.argv[2]

def respond(args):
    conninfo = args[args.index("-d") + 1]
    if args[args.index("-p") + 1] == "5433":
        return 2, u"", u"psql: FATAL: r\u00f4le \u00ab postgres \u00bb n'existe pas"
    if args[-1] == pg.EXTENSIONS_SQL:
        if u"\u00e9" in conninfo:
            return 2, u"", u"psql: FATAL: base \u00ab d\u00e9mo \u00bb introuvable"
        return 0, json.dumps({"plpgsql": "1.0"}), ""
    data = "/var/lib/pgsql/10/data"
    settings = dict((n, {"setting": v, "unit": None, "source": "override", "sourcefile": None})
                    for n, v in (("config_file", data + "/postgresql.conf"),
                                 ("hba_file", data + "/pg_hba.conf"), ("data_directory", data),
                                 ("port", "5432")))
    settings["work_mem"] = {"setting": "4096", "unit": "kB", "source": "configuration file",
                            "sourcefile": data + "/postgresql.conf", "pending_restart": False}
    settings["ldap_password"] = {"setting": u"p\u00e4ss", "unit": None, "source": "override"}
    dbs = {"postgres": {"owner": "postgres", "encoding": "UTF8", "connectable": True, "size_bytes": 8},
           EVIL: {"owner": "m", "encoding": "UTF8", "connectable": True, "size_bytes": 1},
           u"d\u00e9mo": {"owner": "m", "encoding": "UTF8", "connectable": True, "size_bytes": 2}}
    return 0, json.dumps({"extensions": {}, "server_version": "10.23", "server_version_num": 100023,
                          "settings": settings, "databases": dbs}), ""

class Module(object):
    params = {"appserv_root": "/home/appserv", "file_stores": [], "pg_conf_dirs": [],
              "apache_conf_dir": None, "extra_config_files": [], "capture_database": True,
              "capture_spse": True}
    def get_bin_path(self, name, opt_dirs=None, required=False):
        return {"runuser": "/sbin/runuser"}.get(name)
    def run_command(self, args, **kwargs):
        rc, out, err = respond(args)
        return rc, out.encode("utf-8"), err.encode("utf-8")

os.geteuid = lambda: 0
ctx = c.Context(Module(), SecretScrubber(b"k" * 32, ["db.pass", "*password*"]), root)
for cls in (c.Postgresql, c.Extensions, c.Apache, c.Instances, c.Config, c.Database):
    c.run_one(ctx, cls)
ctx.data["hardware"] = {"mounts": {"/": {}}}
c.run_one(ctx, c.Spse)
result = {"data": ctx.data, "incomplete": ctx.incomplete, "discovery": ctx.discovery,
          "measurements": ctx.measurements}
with io.open(sys.argv[3], "w", encoding="utf-8") as fh:
    fh.write(json.dumps(result, sort_keys=True, ensure_ascii=False))
'''

TREE = {
    "/usr/pgsql-10/bin/psql": "", "/usr/pgsql-10/bin/postgres": "",
    "/var/lib/pgsql/12/data/postmaster.pid": "911\n/var/lib/pgsql/12/data\n1\n5433\n/tmp\n",
    "/proc/911/cmdline": "/usr/pgsql-10/bin/postmaster\0-D\0/var/lib/pgsql/12/data\0",
    "/var/lib/pgsql/10/data/postmaster.pid": "811\n/var/lib/pgsql/10/data\n1\n5432\n/var/run/postgresql\n",
    "/var/lib/pgsql/10/data/postgresql.conf": "work_mem = 4MB  # r\u00e9glage\n",
    "/var/lib/pgsql/10/data/pg_hba.conf": "local all all peer\n",
    "/proc/811/cmdline": "/usr/pgsql-10/bin/postmaster\0-D\0/var/lib/pgsql/10/data\0",
    "/usr/local/src/jdk1.8.0_202/bin/java": "",
    "/usr/local/src/jdk1.8.0_202/release": 'JAVA_VERSION="1.8.0_202"\n',
    "/home/appserv/spse4/webapp/conf/application.conf":
        "db.url=jdbc:postgresql://localhost/epns_prod\ndb.pass=S3cr3t\napplication.name=L\u00e9pse\n",
    "/home/appserv/spse4/spse4": "export JAVA_HOME=/usr/local/src/jdk1.8.0_202\nplay start\n",
    "/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n",
    "/etc/httpd/conf/httpd.conf": "ServerRoot /etc/httpd\nIncludeOptional conf.d/*.conf\n",
    "/etc/httpd/conf.d/spse.conf": "# h\u00f4te\nServerTokens Prod\nProxyPass /eproc4 http://127.0.0.1:9009/eproc4\n",
    "/etc/rc.d/rc.local": "PGPASSWORD=RcPw pg_dump epns_prod\n",
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(host tree, folder holding ansible/module_utils with ours beside ansible-core's)."""
    base = tmp_path_factory.mktemp("py2")
    root = base / "root"
    for rel, text in TREE.items():
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "proc/811/exe").symlink_to("/usr/pgsql-10/bin/postgres")
    (root / "proc/911/exe").symlink_to("/usr/pgsql-10/bin/postgres")
    libs = base / "libs" / "ansible"
    shutil.copytree(Path(ansible.module_utils.__file__).parent, libs / "module_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (libs / "__init__.py").write_text("")
    for source in (ROLE / "module_utils").glob("*.py"):
        shutil.copy(source, libs / "module_utils" / source.name)
    (base / "check.py").write_text(SCRIPT.lstrip())
    return root, base


def run(python: str, tree: tuple[Path, Path], name: str) -> dict:
    root, base = tree
    out = base / f"{name}.json"
    proc = subprocess.run([python, "-B", str(base / "check.py"), str(base / "libs"), str(root),
                           str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ours(tree: tuple[Path, Path]) -> dict:
    return run(sys.executable, tree, "ours")


def test_collectors_on_our_python(ours: dict) -> None:
    assert ours["incomplete"] == {
        "database:extensions": "psql failed for 1 database(s)",
        "database_5433": "psql: FATAL: r\u00f4le \u00ab postgres \u00bb n'existe pas"}
    assert sorted(ours["data"]["database"]["extensions"]) == ["postgres", 'x"\n\\! touch /tmp/pwned\n']
    assert "S3cr3t" not in json.dumps(ours) and "RcPw" not in json.dumps(ours)
    assert ours["data"]["spse"]["instances"]["spse4"]["java_version"] == "1.8.0_202"


@pytest.mark.parametrize("name", ["python2.7", "python3.6"])
def test_collectors_give_the_same_on_the_field_pythons(
        name: str, tree: tuple[Path, Path], ours: dict) -> None:
    python = interpreter(name)
    if python is None:
        pytest.skip(f"no {name} on this machine")
    assert run(python, tree, name) == ours
