"""Real ansible-runner runs of the shipped capture playbook against fake local hosts."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pexpect
import pytest

from spse_change.runner.playbook import _Spawn
from tests.unit.runner.conftest import BIN, TREE, FakeHosts

ENV_SECRET = "sekret123"


def wait_for(proc: subprocess.Popen[str], text: str, also: Path | None = None,
             timeout: float = 90) -> str:
    """Read the command's stderr until `text` shows (and `also` exists); what was read."""
    seen = ""
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while text not in seen or (also and not also.exists()):
        assert time.monotonic() < deadline, f"no {text!r} within {timeout}s: {seen}"
        if text not in seen and select.select([proc.stderr], [], [], 0.2)[0]:
            line = proc.stderr.readline()
            assert line, f"ended before {text!r}: {seen}"
            seen += line
        else:
            time.sleep(0.1)
    return seen


def gone(pid: int, timeout: float = 10) -> bool:
    """The process ended (a zombie counts as ended) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def kill_group_of(pidfile: Path) -> None:
    """End the ansible-playbook process group a hung fake host belongs to (we started it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(int(pidfile.read_text())), signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_names_the_hung_host_and_stores_only_finished_ones(
        fake: FakeHosts, sig: signal.Signals) -> None:
    fake.answer("quick")
    pidfile = fake.hang("hung")
    fake.answer("later")  # one fork: never started, named from the inventory
    proc = fake.spse_change("baseline", "capture", "--json", env={"ANSIBLE_FORKS": "1"})
    try:
        early = wait_for(proc, "quick: ok", also=pidfile)
        assert list(fake.stored()) == ["quick"]  # stored as it ended, while "hung" still runs
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig.value
    doc = json.loads(out)
    assert (doc["interrupted"], doc["unfinished"], list(doc["stored"])) == (
        sig.name, ["hung", "later"], ["quick"])
    assert (early + err).strip().splitlines()[-1] == (
        f"spse-change: stopped by {sig.name}; hosts not finished (nothing stored for them): hung, later")
    assert list(fake.stored()) == ["quick"]
    assert gone(int(pidfile.read_text())), "the hung host's process outlived the run"


def test_a_killed_run_leaves_no_environment_on_disk(fake: FakeHosts) -> None:
    pidfile = fake.hang("hung")
    proc = fake.spse_change("baseline", "capture", env={"PGPASSWORD": ENV_SECRET})
    try:
        wait_for(proc, "Capturing", also=pidfile)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        kill_group_of(pidfile)
    state = fake.root / ".spse-change"
    command = next(state.glob("runner/artifacts/*/command"))
    assert "PGPASSWORD" not in json.loads(command.read_text())["env"]
    leaks = subprocess.run(["grep", "-rl", ENV_SECRET, str(state)], capture_output=True, text=True)
    assert leaks.stdout == ""


def test_each_host_is_stored_or_failed_on_its_own(fake: FakeHosts) -> None:
    fake.answer("good")
    fake.answer("bad-json", payload="{not json")
    fake.answer("no-data", payload=json.dumps({"incomplete": {}}))
    fake.answer("wrong-shape", payload=json.dumps({**TREE, "incomplete": ["database"]}))
    fake.answer("db/1")
    fake.answer("../x")
    fake.answer("with space")
    fake.answer("hóst")
    proc = fake.spse_change("baseline", "capture", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    doc = json.loads(out)
    assert list(doc["stored"]) == ["good"]
    assert doc["failed"] == {
        "../x": "bad host name '../x'",
        "bad-json": "the capture module returned no valid JSON "
                    "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        "db/1": "bad host name 'db/1'",
        "hóst": "bad host name 'hóst'",
        "no-data": "the capture module's result has no 'data'",
        "with space": "bad host name 'with space'",
        "wrong-shape": "the capture module's 'incomplete' is not a dict",
    }
    assert list(fake.stored()) == ["good"]


def test_json_stays_parseable_at_any_verbosity(fake: FakeHosts) -> None:
    fake.answer("quick")
    proc = fake.spse_change("baseline", "capture", "--json", "-vvvv")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert list(json.loads(out)["stored"]) == ["quick"]
    assert "TASK [spse_baseline : Capture the SPSE baseline]" in err  # Ansible's own output, on stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="captures this machine with sudo: run as root")
def test_the_hmac_key_reaches_no_output_and_no_artifact_at_vvvv(tmp_path: Path) -> None:
    proc = subprocess.run([str(BIN / "spse-change"), "--project", str(tmp_path), "baseline", "capture",
                           "-l", "localhost", "--json", "-vvvv"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert "localhost" in json.loads(proc.stdout)["stored"]
    key = (tmp_path / ".spse-change" / "hmac.key").read_text().strip()
    assert "spse_baseline_facts" in proc.stderr  # -vvvv did show the module run
    assert key not in proc.stdout and key not in proc.stderr
    leaks = subprocess.run(["grep", "-rlF", key, str(tmp_path / ".spse-change" / "runner"),
                            str(tmp_path / "change_records")], capture_output=True, text=True)
    assert leaks.stdout == ""


def test_a_stopped_drift_names_the_unfinished_host(fake: FakeHosts) -> None:
    fake.answer("quick")
    pidfile = fake.hang("hung")
    proc = fake.spse_change("drift", "--json")
    try:
        wait_for(proc, "quick: ok", also=pidfile)
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 143
    doc = json.loads(out)
    assert doc["interrupted"] == "SIGTERM"
    assert {h: v["status"] for h, v in doc["hosts"].items()} == {"hung": "unfinished",
                                                                  "quick": "no-approved"}


def test_closing_the_pty_of_an_ended_child_does_not_wait() -> None:
    """ansible-runner closes the pty once the child is reaped: no 0.1 s sleep left there."""
    child = _Spawn("true")
    child.expect(pexpect.EOF)
    while child.isalive():
        time.sleep(0.01)
    start = time.monotonic()
    child.close()
    assert time.monotonic() - start < 0.05
    assert child.exitstatus == 0
