"""The host side of `report daily -i/-l` (roles/spse_logs/library/spse_logs_fetch.py) on directory trees.

Which files hold the day (Debian, PGDG/EL, pg_ctlcluster; dated rotations and
file times for the SPSE log; Apache rotations, other_vhosts left out), that
only the day's entries are kept, that the bound cuts, that credentials are
scrubbed before the bytes are written, and that a symlink is never followed.
The same module runs on the lab's Python 2.7 host (tests/lab/test_report_fetch.py).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tests.unit.capture.conftest  # noqa: F401  (role module_utils importable as on a host)

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "spse_logs_fetch", ROOT / "roles" / "spse_logs" / "library" / "spse_logs_fetch.py")
fetch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fetch)
from ansible.module_utils.spse_secrets import SecretScrubber  # noqa: E402

DAY = "2026-11-27"
PREFIX = "%t [%p]: user=%u,db=%d,app=%a,client=%h "


@pytest.fixture(autouse=True)
def _temporary_folders_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch.tempfile, "tempdir", str(tmp_path))


def put(root: Path, path: str, text: str, mtime: str = f"{DAY} 12:00:00", gz: bool = False) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    target.write_bytes(gzip.compress(data) if gz else data)
    stamp = time.mktime(time.strptime(mtime, "%Y-%m-%d %H:%M:%S"))
    os.utime(target, (stamp, stamp))
    return target


def reader(root: Path, **params) -> fetch.Reader:
    base = {"date": DAY, "max_bytes": 1 << 20, "appserv_root": "/home/appserv",
            "apache_log_dirs": ["/var/log/apache2", "/var/log/httpd"],
            "apache_logs": ["*access.log*", "*access_log*", "!other_vhosts_access.log*"]}
    base.update(params)
    return fetch.Reader(base, SecretScrubber(b"k" * 32, ["*password*"]), str(root))


def lines(log: dict) -> list[str]:
    return gzip.decompress(Path(log["path"]).read_bytes()).decode().splitlines()


SETTINGS = {"logging_collector": "on", "log_destination": "stderr", "log_directory": "log",
            "log_filename": "postgresql-%Y-%m-%d_%H%M%S.log", "data_directory": "/var/lib/pgsql/13/data",
            "config_file": "/var/lib/pgsql/13/data/postgresql.conf"}


def test_pg_files_from_the_collector_settings(tmp_path: Path) -> None:
    put(tmp_path, "/var/lib/pgsql/13/data/log/postgresql-2026-11-27_000000.log", "x\n")
    put(tmp_path, "/var/lib/pgsql/13/data/log/postgresql-2026-11-27_000000.csv", "x\n")
    put(tmp_path, "/var/lib/pgsql/13/data/log/other.txt", "x\n")
    fmt, files, how = fetch.pg_log_files(SETTINGS, str(tmp_path))
    assert fmt == "stderr"
    assert [f[0] for f in files] == ["/var/lib/pgsql/13/data/log/postgresql-2026-11-27_000000.log"]
    assert how.startswith("logging_collector: /var/lib/pgsql/13/data/log/")
    fmt, files, _ = fetch.pg_log_files({**SETTINGS, "log_destination": "stderr,csvlog"}, str(tmp_path))
    assert fmt == "csvlog" and files[0][0].endswith(".csv")


def test_pg_files_of_pg_ctlcluster_when_the_collector_is_off(tmp_path: Path) -> None:
    put(tmp_path, "/var/log/postgresql/postgresql-15-main.log", "x\n")
    put(tmp_path, "/var/log/postgresql/postgresql-15-main.log.1.gz", "x\n", gz=True)
    put(tmp_path, "/var/log/postgresql/postgresql-13-old.log", "x\n")
    debian = {**SETTINGS, "logging_collector": "off",
              "config_file": "/etc/postgresql/15/main/postgresql.conf"}
    fmt, files, how = fetch.pg_log_files(debian, str(tmp_path))
    assert fmt == "stderr"
    assert sorted(f[0] for f in files) == ["/var/log/postgresql/postgresql-15-main.log",
                                          "/var/log/postgresql/postgresql-15-main.log.1.gz"]
    assert how == "pg_ctlcluster: /var/log/postgresql/postgresql-15-main.log"
    assert fetch.pg_log_files({**SETTINGS, "logging_collector": "off"}, str(tmp_path))[1] == []
    assert fetch.pg_log_files({**SETTINGS, "log_destination": "syslog"}, str(tmp_path))[0] is None


def test_only_the_days_entries_are_kept_scrubbed(tmp_path: Path) -> None:
    log = put(tmp_path, "/log/pg.log", "".join([
        "2026-11-26 23:59:59 WIB [1]: LOG:  duration: 1 ms  statement: SELECT 1\n",
        "\tFROM yesterday\n",
        "2026-11-27 00:00:00 WIB [1]: ERROR:  role \"x\" does not exist\n",
        "2026-11-27 00:00:00 WIB [1]: STATEMENT:  ALTER ROLE x PASSWORD 'Pw0rdX'\n",
        "\tAND '2026-11-20 10:00:00' < now()\n",
        "2026-11-28 00:00:01 WIB [1]: LOG:  tomorrow\n"]))
    r = reader(tmp_path)
    out = r.write("pg", "postgresql", "PostgreSQL :5432", [("/log/pg.log", 0, log.stat().st_size)],
                  fetch.pg_day)
    kept = lines(out)
    assert len(kept) == 3 and kept[0].endswith('role "x" does not exist') and kept[2].startswith("\tAND")
    assert "Pw0rdX" not in "".join(kept) and "PASSWORD 'secret:hmac-sha256:" in kept[1]
    assert out["lines"] == 3 and not out["cut"]


def test_the_bound_cuts_at_a_whole_line(tmp_path: Path) -> None:
    text = "".join(f"1.2.3.4 - - [27/Nov/2026:10:00:{n:02d} +0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n"
                   for n in range(50))
    put(tmp_path, "/var/log/apache2/spse_access.log", text)
    r = reader(tmp_path, max_bytes=len(text) // 2)
    r.apache()
    (log,) = r.logs
    assert log["cut"] and log["bytes"] <= len(text) // 2 and len(lines(log)) == log["lines"] < 50


def test_apache_rotations_grouped_other_vhosts_left_out(tmp_path: Path) -> None:
    entry = "1.2.3.4 - - [27/Nov/2026:10:00:00 +0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n"
    put(tmp_path, "/var/log/httpd/spse_access_log", entry, f"{DAY} 23:00:00")
    put(tmp_path, "/var/log/httpd/spse_access_log.1.gz", entry.replace("27/Nov", "26/Nov"), gz=True)
    put(tmp_path, "/var/log/httpd/access_log", "", f"{DAY} 01:00:00")
    put(tmp_path, "/var/log/apache2/other_vhosts_access.log", "vhost:443 " + entry)
    put(tmp_path, "/var/log/httpd/error_log", "[error]\n")
    r = reader(tmp_path)
    r.apache()
    assert [(log["name"], log["lines"]) for log in r.logs] == [("/var/log/httpd/spse_access_log", 1)]
    assert [s["path"] for s in r.logs[0]["sources"]] == ["/var/log/httpd/spse_access_log.1.gz",
                                                         "/var/log/httpd/spse_access_log"]
    assert r.not_read == []


def test_no_entry_of_the_day_is_not_read(tmp_path: Path) -> None:
    entry = "1.2.3.4 - - [20/Nov/2026:10:00:00 +0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n"
    put(tmp_path, "/var/log/apache2/access.log", entry)
    r = reader(tmp_path)
    r.apache()
    assert r.logs == [] and [n["kind"] for n in r.not_read] == ["apache"]
    assert "no entry dated 2026-11-27" in r.not_read[0]["reason"]


APP = "/home/appserv/spse"


def spse(root: Path) -> None:
    put(root, f"{APP}/webapp/conf/application.conf", "db.pass=x\n")


def test_app_log_day_from_a_dated_rotation(tmp_path: Path) -> None:
    spse(tmp_path)
    put(tmp_path, f"{APP}/webapp/logs/spse4.log", "10:00:00,000 INFO ~ today\n", "2026-11-28 10:00:00")
    put(tmp_path, f"{APP}/webapp/logs/spse4.log.2026-11-27", "10:00:00,000 ERROR ~ db.pass=Sekr1t\n",
        "2026-11-28 00:00:00")
    r = reader(tmp_path)
    r.spse()
    (log,) = r.logs
    assert log["day_source"].startswith("rotasi log") and log["sources"][0]["path"].endswith("2026-11-27")
    assert "Sekr1t" not in lines(log)[0]


def test_app_log_day_from_file_times_else_not_read(tmp_path: Path) -> None:
    spse(tmp_path)
    put(tmp_path, f"{APP}/webapp/logs/spse4.log", "10:00:00,000 INFO ~ x\n", f"{DAY} 23:00:00")
    r = reader(tmp_path)
    r.spse()
    assert r.logs[0]["day_source"].startswith("waktu berkas")
    r = reader(tmp_path, date="2026-11-20")
    r.spse()
    assert r.logs == [] and r.not_read[0]["kind"] == "application"


def test_a_symlinked_log_is_not_followed(tmp_path: Path) -> None:
    secret = put(tmp_path, "/etc/shadow", "2026-11-27 00:00:00 root:hash\n")
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "postgresql.log").symlink_to(secret)
    assert fetch.regular_files(str(tmp_path), "/log", lambda name: True) == []
    with pytest.raises(OSError):
        fetch.open_raw(str(tmp_path / "log" / "postgresql.log"))


def test_a_symlinked_application_log_folder_is_not_followed(tmp_path: Path) -> None:
    spse(tmp_path)
    put(tmp_path, "/var/log/auth.log", "10:00:00,000 INFO ~ root secret\n", f"{DAY} 23:00:00")
    logs = tmp_path / APP.lstrip("/") / "webapp" / "logs"
    logs.symlink_to(tmp_path / "var" / "log")
    r = reader(tmp_path)
    r.spse()
    assert r.logs == [] and "is a symlink: not followed" in r.not_read[0]["reason"]


def test_a_torn_gzip_is_read_up_to_the_break(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(b"2026-11-27 10:00:00 WIB [1]: LOG:  line %d\n" % n for n in range(2000)))
    torn = tmp_path / "torn.log.gz"
    torn.write_bytes(whole[: len(whole) // 2])
    r = reader(tmp_path)
    out = r.write("pg", "postgresql", "pg", [("/torn.log.gz", 0, 0)], fetch.pg_day)
    assert 0 < out["lines"] < 2000 and out["sources"][0]["truncated"]
    assert [(n["kind"], n["reason"].split(":")[0]) for n in r.not_read] == [("postgresql", "/torn.log.gz")]


def test_a_log_that_cannot_be_opened_is_not_read_not_quiet(tmp_path: Path) -> None:
    r = reader(tmp_path)
    out = r.write("app", "application", "spse4", [("/gone.log", 0, 0)])
    assert out["lines"] == 0
    assert r.not_read == [{"kind": "application", "name": "spse4",
                           "reason": "/gone.log: cannot open: No such file or directory"}]


# -- the module itself, AnsiballZ-packed, on the field's Pythons --------------------------------------

ROLE = ROOT / "roles" / "spse_logs"


def run_module(python: str, tmp_path: Path) -> tuple[dict, dict[str, bytes]]:
    """The module run by ansible on this machine (no PostgreSQL asked): its result and files."""
    args = {"date": DAY, "max_bytes": 4000, "hmac_key": "k" * 32, "secret_patterns": ["*password*"],
            "appserv_root": str(tmp_path / "home/appserv"), "apache_log_dirs": [str(tmp_path / "httpd")],
            "apache_logs": ["*access_log*"], "read_database": False, "read_spse": True}
    env = dict(os.environ, ANSIBLE_LIBRARY=str(ROLE / "library"),
               ANSIBLE_MODULE_UTILS=str(ROLE / "module_utils"),
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible"), "localhost", "-e",
                           f"ansible_python_interpreter={python}", "-m", "spse_logs_fetch",
                           "-a", json.dumps(args)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(json.loads(proc.stdout[proc.stdout.index("{"):])["spse_logs_json"])
    files = {log["id"]: gzip.decompress(Path(log["path"]).read_bytes()) for log in result["logs"]}
    shutil.rmtree(result["dir"])
    return result, files


def test_same_logs_on_the_hosts_pythons(tmp_path: Path) -> None:
    from tests.unit.capture.test_module_interpreters import interpreter

    spse(tmp_path)
    put(tmp_path, f"{APP}/webapp/logs/spse4.log", "10:00:00,000 INFO ~ hari ini\n", "2026-11-28 10:00:00")
    line = "10:00:00,000 ERROR ~ gagal db=postgres://epns:Pw9x@localhost/epns_prod \xe9\n"
    put(tmp_path, f"{APP}/webapp/logs/spse4.log.{DAY}", line * 100)
    put(tmp_path, "/httpd/spse_access_log",
        "1.2.3.4 - - [27/Nov/2026:10:00:00 +0700] \"GET /eproc4/?password=Qq1 HTTP/1.1\" 200 5 \"-\" \"-\"\n")
    outcomes = {}
    for name in ("python3", "python2.7", "python3.6"):
        python = interpreter(name)
        if python is not None:
            result, files = run_module(python, tmp_path)
            outcomes[name] = ([(log["id"], log["lines"], log["cut"]) for log in result["logs"]],
                              result["not_read"], files)
    if "python2.7" not in outcomes:
        pytest.skip("no Python 2.7 on this machine")
    reference = outcomes.pop("python3")
    app = reference[2]["application-spse-spse4.log"]
    assert b"Pw9x" not in app and b"secret:hmac-sha256:" in app and "\xe9".encode() in app
    assert b"Qq1" not in b"".join(reference[2].values())
    assert reference[0][0][1:] == (4000 // len(line.encode()), True)  # cut at the bound (bytes read)
    for name, outcome in outcomes.items():
        assert outcome == reference, name
