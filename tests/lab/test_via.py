"""`--via NODE` against the lab: one lab host is the execution node, the control machine is cut off
from the others, and the node's ansible-runner worker runs the playbook."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.lab_node import cut_off, make_node, ssh_config
from tests.lab.test_apply import AUTO_CONF, INIT, OPERATORS, db_hosts, show, write_plan
from tests.lab.test_capture import CLI, ENV_SECRET, load
from tests.lab.test_report_fetch import PSQL

pytestmark = pytest.mark.lab

FREEZE = ("end=$(($(date +%s) + 60)); "  # a module left by an earlier test ends first
          "while pgrep -x python3 >/dev/null; do [ $(date +%s) -lt $end ] || exit 1; sleep 0.1; done; "
          "until pgrep -x python3 >/dev/null; do [ $(date +%s) -lt $end ] || exit 1; done; "
          "pkill -STOP -x sshd")  # the host hangs once the capture module runs there


@pytest.fixture(scope="module")
def node(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """The lab's first aio host as the node, and the environment that names it for ssh."""
    name = next(n for n, h in lab.hosts.items() if h.role == "aio")
    make_node(lab, name)
    config = ssh_config(lab, sorted(lab.hosts), tmp_path_factory.mktemp("ssh") / "config")
    return name, {**os.environ, "ANSIBLE_NOCOLOR": "1", "PGPASSWORD": ENV_SECRET,
                  "SPSE_CHANGE_SSH_CONFIG": str(config)}


def cli(project: Path, env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, "--project", str(project), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kwargs)


def finish(proc: subprocess.Popen[str]) -> tuple[int, dict, str]:
    out, err = proc.communicate(timeout=180)
    return proc.returncode, json.loads(out) if out.strip() else {}, err


def capture(project: Path, lab: Any, env: dict[str, str], *args: str) -> tuple[int, dict, str]:
    return finish(cli(project, env, "baseline", "capture", "-i", str(lab.inventory), "--json", *args))


def job_dirs(lab: Any, name: str) -> list[str]:
    found = lab.exec(name, ["sh", "-c", "ls -d /tmp/spse-change-job-* 2>/dev/null"], check=False)
    return found.stdout.split()


@contextlib.contextmanager
def hung(lab: Any, name: str) -> Iterator[None]:
    """`name` hangs in the middle of its capture (its sshd frozen once the module runs)."""
    watcher = subprocess.Popen(lab.exec_argv(name, ["sh", "-c", FREEZE]))
    try:
        yield
    finally:
        frozen = watcher.wait(timeout=70) == 0
        lab.exec(name, ["pkill", "-CONT", "-x", "sshd"])
    assert frozen, "the capture module never ran on the host"


def test_capture_via_the_node_reaches_hosts_this_machine_cannot(
        lab: Any, node: tuple, tmp_path: Path) -> None:
    name, env = node
    others = sorted(set(lab.hosts) - {name})
    with cut_off(lab, others):
        blocked = subprocess.run(["ssh", "-F", env["SPSE_CHANGE_SSH_CONFIG"], "-o", "BatchMode=yes",
                                  "-o", f"HostName={lab.hosts[others[0]].ip}", name, "true"],
                                 capture_output=True, text=True, timeout=30)
        rc, via, err = capture(tmp_path, lab, env, "--via", name)
    assert blocked.returncode == 255  # the direct route is cut
    assert rc == 0, err
    assert sorted(via["stored"]) == sorted(lab.hosts)
    for host in lab.hosts:
        assert f"{host}: ok" in err  # per-host progress as events arrive from the node
    assert job_dirs(lab, name) == []  # the worker's private data folder (HMAC key) is gone

    rc, direct, err = capture(tmp_path, lab, env)
    assert rc == 0, err
    for host in lab.hosts:
        assert load(via["stored"][host])["host"] == load(direct["stored"][host])["host"] == host
        diff = subprocess.run([*CLI, "--project", str(tmp_path), "diff", via["stored"][host],
                               direct["stored"][host]], capture_output=True, text=True, env=env)
        assert diff.returncode == 0, diff.stdout  # same baseline through the node as directly
    leaks = subprocess.run(["grep", "-rl", ENV_SECRET, str(tmp_path)], capture_output=True, text=True)
    assert leaks.stdout == ""


def wait_for_others(proc: subprocess.Popen[str], hosts: list[str]) -> str:
    """stderr read until every host in `hosts` reported ok."""
    seen = ""
    while not all(f"  {h}: ok" in seen for h in hosts):
        line = proc.stderr.readline()
        assert line, f"capture ended early: {seen}"
        seen += line
    return seen


def test_a_worker_killed_mid_run_fails_the_hosts_left_and_the_store_stays_valid(
        lab: Any, node: tuple, tmp_path: Path) -> None:
    name, env = node
    slow = next(n for n, h in lab.hosts.items() if h.groups == ("spse_db",))
    done = sorted(set(lab.hosts) - {slow})
    with hung(lab, slow):
        proc = cli(tmp_path, env, "baseline", "capture", "-i", str(lab.inventory), "--json", "--via", name)
        wait_for_others(proc, done)
        pid = lab.exec(name, ["pgrep", "-f", "ansible-runner worker --private-data-dir"]).stdout.split()
        lab.exec(name, ["kill", "-KILL", *pid])
        rc, out, err = finish(proc)
        # A killed worker cleans nothing up: its ansible-playbook and its folder stay behind.
        lab.exec(name, ["pkill", "-KILL", "-f", "/tmp/spse-change-job-"], check=False)
        lab.exec(name, ["sh", "-c", "rm -rf /tmp/spse-change-job-*"])
    assert rc == 1, err
    assert sorted(out["stored"]) == done
    assert list(out["failed"]) == [slow]
    assert out["failed"][slow].startswith(f"execution node {name}: the run's stream ended early")
    listed = subprocess.run([*CLI, "--project", str(tmp_path), "baseline", "list", "--json"],
                            capture_output=True, text=True, env=env)
    assert listed.returncode == 0, listed.stderr  # every stored file reads back
    assert not (tmp_path / "change_records" / "baselines" / slow).exists()


def test_sigterm_stops_the_worker_on_the_node_and_names_the_hosts_left(
        lab: Any, node: tuple, tmp_path: Path) -> None:
    name, env = node
    slow = next(n for n, h in lab.hosts.items() if h.groups == ("spse_db",))
    with hung(lab, slow):
        proc = cli(tmp_path, env, "baseline", "capture", "-i", str(lab.inventory), "--json", "--via", name)
        wait_for_others(proc, sorted(set(lab.hosts) - {slow}))
        proc.send_signal(signal.SIGTERM)
        rc, out, err = finish(proc)
    assert rc == 143, err
    assert (out["interrupted"], out["unfinished"]) == ("SIGTERM", [slow])
    assert lab.exec(name, ["pgrep", "-f", "ansible-runner worker"], check=False).returncode == 1
    assert job_dirs(lab, name) == []


def test_node_check_says_a_node_is_usable_and_reaches_every_host(
        lab: Any, node: tuple, tmp_path: Path) -> None:
    name, env = node
    rc, out, err = finish(cli(tmp_path, env, "node", "check", name, "-i", str(lab.inventory), "--json"))
    assert rc == 0, err
    assert out["usable"] and out["problems"] == [] and out["install"] == []
    assert out["job_folders"] == []  # every earlier run removed its folder, a killed one too (by hand)
    assert out["ansible_core"] == version("ansible-core")
    assert out["ansible_runner"] == version("ansible-runner")
    assert out["python"].startswith("3.")
    assert out["hosts"] == {host: "ok" for host in sorted(lab.hosts)}  # Python 2.7 legacy host too


def test_node_check_names_what_a_host_without_ansible_runner_lacks(
        lab: Any, node: tuple, tmp_path: Path) -> None:
    _name, env = node
    plain = next(n for n, h in lab.hosts.items() if h.role == "app")
    rc, out, err = finish(cli(tmp_path, env, "node", "check", plain, "--json"))
    assert rc == 1, err
    assert not out["usable"]
    assert any("ansible-runner not found" in problem for problem in out["problems"])
    assert f"'ansible-core=={version('ansible-core')}'" in " ".join(out["install"])
    text = subprocess.run([*CLI, "--project", str(tmp_path), "node", "check", plain],
                          capture_output=True, text=True, env=env)
    assert text.returncode == 1
    assert "NOT usable" in text.stdout and "pip install" in text.stdout
    rc, out, err = capture(tmp_path, lab, env, "--via", plain)
    assert rc == 2 and out == {}
    assert err.strip().splitlines()[-1].startswith(f"spse-change: execution node {plain}: ")
    assert f"spse-change node check {plain}" in err


def test_plan_apply_drift_and_verify_through_the_node_as_directly(
        lab: Any, node: tuple, tmp_path: Path) -> None:
    name, env = node
    hosts = db_hosts(lab)  # the legacy host and a bookworm db host
    saved = {h.name: h.exec(["cat", AUTO_CONF[h.kind]]).stdout for h in hosts}
    (tmp_path / "operators.yml").write_text(yaml.safe_dump(OPERATORS))
    inventory, only = str(lab.inventory), ",".join(h.name for h in hosts)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "--project", str(tmp_path), *args], capture_output=True,
                              text=True, env=env, timeout=600)

    def ok(*args: str) -> str:
        proc = run(*args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def outcomes(proc: subprocess.CompletedProcess[str]) -> dict[str, set[tuple[str, str]]]:
        return {host: {(c["check"], c["outcome"]) for c in found["checks"]}
                for host, found in json.loads(proc.stdout)["hosts"].items()}

    try:
        with cut_off(lab, sorted(set(lab.hosts) - {name})):
            ok("baseline", "capture", "-i", inventory, "-l", only, "--via", name)
            for host in hosts:
                ok("baseline", "approve", f"{host.name}@latest", "--reason", "lab", "--as", "sari")
            plan_file = write_plan(tmp_path, "work_mem", [h.name for h in hosts],
                                   {"postgresql": {"work_mem": "20MB"}})
            created = json.loads(ok("plan", str(plan_file), "-i", inventory, "--via", name,
                                    "--as", "budi", "--json"))
            assert (created["class"], created["state"]) == ("minor", "submitted")
            ok("record", "approve", created["id"], "--reason", "lab", "--as", "sari")
            applied = json.loads(ok("apply", created["id"], "-i", inventory, "--via", name,
                                    "--as", "budi", "--json"))
            assert applied["state"] == "verified"
            assert [show(h, "work_mem") for h in hosts] == ["20MB", "20MB"]
            ok("drift", "-i", inventory, "-l", only, "--via", name)  # the change is recorded
            via = run("verify", "-i", inventory, "-l", only, "--via", name, "--json")
        direct = run("verify", "-i", inventory, "-l", only, "--json")
        assert via.returncode == direct.returncode, via.stderr
        assert outcomes(via) == outcomes(direct)
    finally:
        for h in hosts:
            h.exec(["sh", "-c", 'cat > "$1"', "sh", AUTO_CONF[h.kind]], input=saved[h.name])
            h.exec([INIT[h.kind], "restart"])


def test_report_daily_through_the_node_as_directly(lab: Any, node: tuple, tmp_path: Path) -> None:
    name, env = node
    db = next(h for h in lab.hosts.values() if h.groups == ("spse_db",))
    day = db.exec(["date", "+%Y-%m-%d"]).stdout.strip()
    db.exec([*PSQL[db.kind], "SELECT * FROM no_such_table_via"], check=False)  # an error of the day

    def daily(*args: str) -> dict:
        rc, out, err = finish(cli(tmp_path, env, "report", "daily", "-i", str(lab.inventory), "-l", db.name,
                                  "--date", day, "--json", *args))
        assert rc == 0, err
        (section,) = out["hosts"]
        return section["database"]

    with cut_off(lab, sorted(set(lab.hosts) - {name})):
        via = daily("--via", name)
    direct = daily()
    assert via["top_errors"] and via["top_queries"]
    assert (via["top_errors"], via["top_queries"]) == (direct["top_errors"], direct["top_queries"])
    assert list((tmp_path / ".spse-change" / "runner" / "artifacts").glob("*/spse-logs")) == []
    assert job_dirs(lab, name) == []  # the logs streamed back left nothing on the node
