"""The execution-node path: what the packed job holds, and real transmit → worker → process runs.

The runs use a stand-in `ssh` that runs the remote words with the local shell
(as sshd hands them to the node's shell), so the real ansible-runner worker,
ansible-playbook and the capture playbook run against the fake local hosts.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from ansible_runner.utils.streaming import unstream_dir

from spse_change.errors import SpseChangeError
from spse_change.runner.playbook import PlaybookRequest
from spse_change.runner.remote import SSH_CONFIG_ENV, Job, pack, ssh_argv
from tests.unit.reports.conftest import FIXTURES, LAB_PREFIX, needs_pgbadger  # noqa: F401 (a fixture)
from tests.unit.runner.conftest import BIN, FakeHosts
from tests.unit.runner.test_run import wait_for

ROOT = Path(__file__).resolve().parents[3]
JOBDIR = "/tmp/spse-change-job-0123456789abcdef"
FAKE_SSH = """#!/bin/sh
# ssh [options] NODE WORDS...: the words run here, through a shell, as on the node
while [ $# -gt 0 ]; do case "$1" in -F|-o) shift 2;; -*) shift;; *) break;; esac; done
shift
exec sh -c "$*"
"""


@pytest.mark.parametrize("node", ["-oProxyCommand=touch /tmp/x", "a b", "node;reboot", "", "@x"])
def test_a_node_that_is_not_a_host_name_is_refused(node: str) -> None:
    with pytest.raises(SpseChangeError, match="is not a host name"):
        ssh_argv(node, "true")


def test_ssh_argv_quotes_the_remote_words_and_takes_a_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SSH_CONFIG_ENV, raising=False)
    argv = ssh_argv("ops@node-1.lpse.example", "pkill", "-f", "a b")
    assert argv[0] == "ssh" and "BatchMode=yes" in argv
    assert argv[-4:] == ["ops@node-1.lpse.example", "pkill", "-f", "'a b'"]
    monkeypatch.setenv(SSH_CONFIG_ENV, "/etc/spse/nodes.conf")
    assert ssh_argv("node1")[1:3] == ["-F", "/etc/spse/nodes.conf"]


def test_via_needs_the_inventory_named(tmp_path: Path) -> None:
    with pytest.raises(SpseChangeError, match="--via needs the inventory named with -i"):
        PlaybookRequest(playbook=ROOT / "playbooks" / "baseline.yml", state_dir=tmp_path, via="node1")


def unpack(stream: bytes, target: Path) -> dict:
    """The job line; the private data folder unpacked into `target` by the worker's own code."""
    buf = io.BytesIO(stream)
    job = json.loads(buf.readline())["kwargs"]
    unstream_dir(buf, json.loads(buf.readline())["zipfile"], str(target))
    assert json.loads(buf.readline()) == {"eof": True}
    return job


def test_the_packed_job_keeps_secrets_in_private_files_not_on_command_lines(tmp_path: Path) -> None:
    inventory = tmp_path / "inv" / "hosts.yml"
    (tmp_path / "inv" / "group_vars").mkdir(parents=True)
    inventory.write_text("all: {hosts: {app1: {}}}\n")
    (tmp_path / "inv" / "group_vars" / "all.yml").write_text("x: 1\n")
    key, vault = tmp_path / "hmac.key", tmp_path / "vault.txt"
    key.write_text("K3Y-VALUE")
    vault.write_text("V4ULT-PASS")
    job = Job(playbook=ROOT / "playbooks" / "apply.yml", ansible_cfg=ROOT / "ansible.cfg",
              inventory=(inventory,), limit="app1", extravars={"spse_apply_record": "CR-1"},
              envvars={"ANSIBLE_NOCOLOR": "1"}, envfiles={"SPSE_CHANGE_HMAC_KEY_FILE": key},
              cmdline=("--check", "--ask-become-pass"), verbosity=0, vault_password_file=vault,
              passwords={"^BECOME password.*:\\s*?$": "B3COME"})
    stream = pack(job, JOBDIR)
    worker = tmp_path / "worker"
    kwargs = unpack(stream, worker)

    assert kwargs["playbook"] == "playbooks/apply.yml" and kwargs["limit"] == "app1"
    assert kwargs["cmdline"] == ("--check --ask-become-pass -i ../inventories/0/hosts.yml "
                                 f"--vault-password-file {JOBDIR}/secrets/vault-password")
    assert kwargs["envvars"]["SPSE_CHANGE_HMAC_KEY_FILE"] == f"{JOBDIR}/secrets/SPSE_CHANGE_HMAC_KEY_FILE"
    assert "extravars" not in kwargs  # would be the worker's `-e {...}`, which `ps` shows
    assert kwargs["passwords"] == {"^BECOME password.*:\\s*?$": "B3COME"}  # memory only
    names = {str(p.relative_to(worker)) for p in worker.rglob("*") if p.is_file()}
    assert {"project/playbooks/apply.yml", "project/ansible.cfg", "inventories/0/hosts.yml",
            "inventories/0/group_vars/all.yml", "env/extravars", "secrets/vault-password",
            "secrets/SPSE_CHANGE_HMAC_KEY_FILE"} <= names
    assert any(n.startswith("project/roles/spse_apply/") for n in names)
    assert not any("artifacts" in n for n in names)
    for private in ("env/extravars", "secrets/vault-password", "secrets/SPSE_CHANGE_HMAC_KEY_FILE",
                    "inventories/0/hosts.yml", "inventories/0/group_vars/all.yml"):
        assert (worker / private).stat().st_mode & 0o777 == 0o600, private
    assert (worker / "inventories" / "0" / "group_vars").stat().st_mode & 0o777 == 0o700
    assert json.loads((worker / "env/extravars").read_text()) == {"spse_apply_record": "CR-1"}
    assert (worker / "secrets/SPSE_CHANGE_HMAC_KEY_FILE").read_text() == "K3Y-VALUE"
    assert not [p for p in worker.rglob("*") if p.is_file() and b"B3COME" in p.read_bytes()]  # in no file
    assert b"K3Y-VALUE" not in stream.split(b"\n", 1)[0]


def node_env(fake: FakeHosts) -> dict[str, str]:
    (fake.bin / "ssh").write_text(FAKE_SSH)
    (fake.bin / "ssh").chmod(0o755)
    return {"PATH": f"{fake.bin}:{BIN}:{os.environ['PATH']}"}


def load(path: str) -> dict:
    return json.loads(Path(path).read_text())


def job_dirs() -> set[str]:
    return {str(p) for p in Path("/tmp").glob("spse-change-job-*")}


def test_capture_via_a_node_stores_what_a_direct_capture_does(fake: FakeHosts, tmp_path: Path) -> None:
    (tmp_path / "direct").mkdir()
    direct = FakeHosts(tmp_path / "direct")  # the same hosts, answering for their own project
    for hosts in (fake, direct):
        hosts.answer("app1")
        hosts.answer("app2")
    before = job_dirs()
    via = fake.spse_change("baseline", "capture", "--json", "--via", "node1", env=node_env(fake))
    out, err = via.communicate(timeout=120)
    assert via.returncode == 0, err
    assert "app1: ok" in err and "app2: ok" in err
    stored = json.loads(out)["stored"]
    assert job_dirs() == before  # the worker removed its private data folder (with the key)
    proc = direct.spse_change("baseline", "capture", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["stored"].keys() == stored.keys()
    for host, path in json.loads(out)["stored"].items():
        assert load(stored[host])["data"] == load(path)["data"]


def test_a_signal_stops_the_worker_and_names_the_hung_host(fake: FakeHosts) -> None:
    fake.answer("app1")
    pidfile = fake.hang("app2")
    proc = fake.spse_change("baseline", "capture", "--json", "--via", "node1", env=node_env(fake))
    wait_for(proc, "app1: ok", also=pidfile)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    result = json.loads(out)
    assert (result["interrupted"], result["unfinished"]) == ("SIGTERM", ["app2"])
    assert list(result["stored"]) == ["app1"]


def test_a_bad_node_name_is_one_line_and_exit_2_before_anything_runs(fake: FakeHosts) -> None:
    fake.answer("app1")
    proc = fake.spse_change("baseline", "capture", "--via", "node1;reboot", env=node_env(fake))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().splitlines()[-1] == (
        "spse-change: execution node 'node1;reboot' is not a host name, ~/.ssh/config alias or user@host")
    assert fake.stored() == {}


def test_a_node_without_ansible_runner_is_one_line_naming_the_check(fake: FakeHosts) -> None:
    fake.answer("app1")
    env = node_env(fake)
    bare = FAKE_SSH.replace('exec sh -c "$*"', 'PATH=/usr/bin:/bin exec sh -c "$*"')
    (fake.bin / "ssh").write_text(bare)  # the node's PATH has no ansible-runner
    proc = fake.spse_change("baseline", "capture", "--via", "node1", env=env)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("spse-change: execution node node1: the run's stream ended early (")
    assert last.endswith("; check the node: spse-change node check node1")



LOGS_DAY = "2026-11-27"
LOGS_HOST = """module=$1
[ -n "$module" ] || {{ module=$(mktemp); cat > "$module"; }}  # the module as a file, or piped
if grep -q spse_logs_fetch "$module"; then
    cat <<'END'
{result}
END
    exit 0
fi
exec {python} "$module"
"""  # spse_logs_fetch answers as told; stat and file (for fetch and the clean-up) run for real


def serve_logs(fake: FakeHosts, host: str) -> Path:
    """`host` holds the PostgreSQL fixture log as the module leaves it (gzip, in a temporary
    folder the play removes); returns that folder."""
    folder = fake.root / f"{host}-spse-logs"
    folder.mkdir()
    log = FIXTURES / "pg-stderr.log"
    (folder / "pg.gz").write_bytes(gzip.compress(log.read_bytes()))
    entry = {"id": "postgresql-5432", "kind": "postgresql", "name": "PostgreSQL :5432",
             "path": str(folder / "pg.gz"), "sources": [{"path": "/var/log/pg.log", "size": 1, "mtime": 0}],
             "bytes": log.stat().st_size, "lines": 1, "cut": False, "max_bytes": 1 << 20,
             "day_source": "entri bertanggal", "prefix": LAB_PREFIX, "min_duration_ms": "0",
             "timezone": "Asia/Jakarta"}
    payload = {"date": LOGS_DAY, "dir": str(folder), "logs": [entry], "not_read": []}
    result = json.dumps({"changed": False, "spse_logs_json": json.dumps(payload)})
    fake._add(host, LOGS_HOST.format(result=result, python=sys.executable))
    return folder


@pytest.mark.usefixtures("needs_pgbadger")
def test_report_daily_via_a_node_brings_the_logs_back_and_keeps_no_copy(fake: FakeHosts,
                                                                         tmp_path: Path) -> None:
    (tmp_path / "direct").mkdir()
    direct = FakeHosts(tmp_path / "direct")
    reports = {}
    before = job_dirs()
    for hosts, via in ((fake, ["--via", "node1"]), (direct, [])):
        folder = serve_logs(hosts, "db1")
        proc = hosts.spse_change("report", "daily", "--date", LOGS_DAY, "--json", *via, env=node_env(fake))
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        (section,) = json.loads(out)["hosts"]
        reports[bool(via)] = section["database"]
        assert not folder.exists()  # the host's temporary folder is removed by the play
        artifacts = hosts.root / ".spse-change" / "runner" / "artifacts"
        assert list(artifacts.glob("*/spse-logs")) == []  # fetched copies removed once analysed
        assert not any(b"paket_arsip" in p.read_bytes() for p in artifacts.rglob("*") if p.is_file())
    assert job_dirs() == before  # nor on the node: the worker removed its folder
    assert reports[True]["top_errors"][0]["message"] == 'relation "..." does not exist'
    for part in ("top_errors", "top_queries"):
        assert reports[True][part] == reports[False][part]
