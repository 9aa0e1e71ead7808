"""Issue 7's field proof on the lab: a CentOS-7-like legacy host, secrets by shape, no injection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.test_capture import capture, load, spse_change

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/unit/capture/fixtures/secret_corpus.yml"
LEGACY_DATA = "/var/lib/pgsql/13/data"
LEGACY_APP_CONF = "/home/appserv/spse/webapp/conf/application.conf"


def psql(host: Any, sql: str) -> str:
    """SQL as postgres on the host: the test's own statements, passed as one argv element."""
    return host.exec(["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1",
                      "-c", sql]).stdout.strip()


@pytest.fixture(scope="module")
def legacy(lab: Any) -> Any:
    names = [name for name in lab.hosts if name.startswith("legacy")]
    if not names:
        pytest.skip("the lab has no legacy host (SPSE_LAB_LEGACY=0)")
    return lab.hosts[names[0]]


@pytest.fixture(scope="module")
def everyone(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    project = tmp_path_factory.mktemp("field")
    proc, out = capture(project, lab)
    assert proc.returncode == 0, proc.stderr
    return project, out


def test_one_capture_stores_every_host_including_the_legacy_one(lab: Any, legacy: Any,
                                                                 everyone: tuple) -> None:
    _project, out = everyone
    assert sorted(out["stored"]) == sorted(lab.hosts)
    baseline = load(out["stored"][legacy.name])
    assert baseline["incomplete"] == {}
    assert sorted(baseline["groups"]) == ["spse_app", "spse_db"]
    data = baseline["data"]
    assert data["database"]["settings"]["work_mem"]["setting"]
    assert data["config"][f"{LEGACY_DATA}/pg_hba.conf"]["kind"] == "pg_hba"
    assert data["config"][f"{LEGACY_DATA}/postgresql.conf"]["kind"] == "postgresql_conf"
    assert data["config"]["/etc/httpd/conf.d/spse.conf"]["kind"] == "apache_conf"
    assert data["config"][LEGACY_APP_CONF]["parsed"]["http.path"] == "/eproc4"
    assert "spse" in data["spse"]["instances"]
    found = baseline["discovery"]["postgresql"]
    assert any(c["config_file"] == f"{LEGACY_DATA}/postgresql.conf"
               and c["found_by"] == "running server" for c in found.values())
    python = legacy.exec(["sh", "-c", "ls /usr/bin/python*"]).stdout.split()
    assert python and all("python2" in p or p == "/usr/bin/python" for p in python), python


def test_live_work_mem_change_on_the_legacy_host_is_minor(lab: Any, legacy: Any,
                                                          tmp_path: Path) -> None:
    proc, _ = capture(tmp_path, lab, "-l", legacy.name)
    assert proc.returncode == 0, proc.stderr
    psql(legacy, "ALTER SYSTEM SET work_mem = '23MB'")
    psql(legacy, "SELECT pg_reload_conf()")
    try:
        proc, _ = capture(tmp_path, lab, "-l", legacy.name)
    finally:
        psql(legacy, "ALTER SYSTEM RESET work_mem")
        psql(legacy, "SELECT pg_reload_conf()")
    assert proc.returncode == 0, proc.stderr
    out = spse_change(tmp_path, "diff", f"{legacy.name}@-1", f"{legacy.name}@latest", "--json")
    doc = json.loads(out.stdout)
    assert out.returncode == 1 and doc["verdict"] == "minor", doc
    live = [i for i in doc["items"] if i["path"] == "database.settings.work_mem.setting"]
    assert live and live[0]["new"] == str(23 * 1024) and live[0]["class"] == "minor"
    assert all("work_mem" in i["path"] for i in doc["items"]), doc["items"]


EVIL_DB = 'spse"\n\\! touch /tmp/pwned-by-capture\n'


def test_a_database_named_like_a_psql_script_runs_nothing(lab: Any, legacy: Any,
                                                          tmp_path: Path) -> None:
    psql(legacy, 'CREATE DATABASE "spse""\n\\! touch /tmp/pwned-by-capture\n"')
    try:
        proc, out = capture(tmp_path, lab, "-l", legacy.name)
        pwned = legacy.exec(["test", "-e", "/tmp/pwned-by-capture"], check=False).returncode == 0
    finally:
        psql(legacy, 'DROP DATABASE "spse""\n\\! touch /tmp/pwned-by-capture\n"')
        legacy.exec(["rm", "-f", "/tmp/pwned-by-capture"])
    assert not pwned, "a database name ran a shell command as postgres"
    assert proc.returncode == 0, proc.stderr
    baseline = load(out["stored"][legacy.name])
    assert "database" not in baseline["incomplete"]
    assert EVIL_DB in baseline["data"]["database"]["databases"]


# -- secrets by shape ------------------------------------------------------------------------------

def corpus() -> list[dict]:
    return [entry for entry in yaml.safe_load(CORPUS.read_text())["secrets"]
            if entry["kind"] in PLACES and (entry.get("line") or entry["kind"] in WRITE)]


PLACES = {  # corpus kind -> the file on the legacy host its lines are appended to
    "play_conf": LEGACY_APP_CONF,
    "crontab": "/etc/cron.d/spse-corpus",
    "script": "/etc/rc.d/rc.local",
    "postgresql_conf": f"{LEGACY_DATA}/postgresql.conf",
    "pg_hba": f"{LEGACY_DATA}/pg_hba.conf",
    "apache_conf": "/etc/httpd/conf.d/spse.conf",
}
WRITE = {  # how a (name, value) entry is written as a line of its kind
    "play_conf": lambda name, value: f"{name}={value}",
    "postgresql_conf": lambda name, value: "{} = '{}'".format(name, value.replace("'", "''")),
    "apache_conf": lambda name, value: f"{name} {value}",
}


def corpus_line(entry: dict, secret: str) -> str:
    text = entry.get("line") or WRITE[entry["kind"]](entry["name"], entry["value"])
    return text.replace(entry["secret"], secret)


def plant(host: Any, entries: list[dict], suffix: str) -> None:
    """Append each entry's line (secret made unique with `suffix`) to its file; the service is
    not reloaded, so capture reads what a careless admin left in the file."""
    for kind, path in PLACES.items():
        lines = [corpus_line(e, e["secret"] + suffix) for e in entries if e["kind"] == kind]
        if lines:
            host.exec(["sh", "-c", 'cat >> "$1"', "sh", path], input="\n".join(lines) + "\n")


def test_secret_corpus_never_leaves_the_host_and_each_change_is_seen(lab: Any, legacy: Any,
                                                                      tmp_path: Path) -> None:
    entries = corpus()
    assert len(entries) >= 20
    for path in PLACES.values():
        legacy.exec(["sh", "-c", 'touch "$1" && cp -p "$1" "$1.orig"', "sh", path])
    try:
        plant(legacy, entries, "")
        first = spse_change(tmp_path, "baseline", "capture", "-i", str(lab.inventory),
                            "-l", legacy.name, "-vvvv", "--json")
        plant(legacy, entries, "-rotated")
        second = spse_change(tmp_path, "baseline", "capture", "-i", str(lab.inventory),
                             "-l", legacy.name, "--json")
    finally:
        for path in PLACES.values():
            legacy.exec(["sh", "-c", 'mv "$1.orig" "$1"', "sh", path])
        legacy.exec(["rm", "-f", "/etc/cron.d/spse-corpus"])
    assert first.returncode == 0, first.stderr[-2000:]
    assert second.returncode == 0, second.stderr[-2000:]
    json.loads(first.stdout)  # valid JSON at -vvvv: Ansible's own output went to stderr
    texts = [first.stdout, first.stderr, second.stdout, second.stderr] + [
        p.read_text(errors="replace") for p in tmp_path.rglob("*")
        if p.is_file() and p.name != "hmac.key"]
    for entry in entries:
        for secret in (entry["secret"], entry["secret"] + "-rotated"):
            leaks = [i for i, text in enumerate(texts) if secret in text]
            assert not leaks, f"corpus {entry['id']}: secret found in output/file #{leaks}"
    diff = spse_change(tmp_path, "diff", f"{legacy.name}@-1", f"{legacy.name}@latest", "--json")
    assert diff.returncode == 1, diff.stderr
    changed = json.loads(diff.stdout)["items"]
    for kind, path in PLACES.items():  # every file whose planted secrets rotated shows a change
        if any(e["kind"] == kind for e in entries):
            assert any(i["path"].startswith(f"config[{path}]") for i in changed), (path, changed)
    assert all(item["secret"] or item["path"].endswith((".hmac", ".size")) for item in changed), [
        i["path"] for i in changed]
