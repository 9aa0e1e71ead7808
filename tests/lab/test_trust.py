"""Runs that must not read as "clean" when they are not: against the lab, real SSH, real servers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.lab.test_capture import CLI, ENV_SECRET, host_of, spse_change

pytestmark = pytest.mark.lab


def test_sigint_on_a_capture_with_a_hung_host_exits_130_and_names_it(lab: Any, tmp_path: Path) -> None:
    """The host hangs once the capture module runs there: its sshd is frozen with SIGSTOP.

    (Frozen before that, it is no hang: Ansible gives up after its connect or
    become timeout and reports the host failed.)
    """
    hung = next(h for h in lab.hosts.values() if h.groups == ("spse_db",))  # runs no python3 itself
    freeze = ("end=$(($(date +%s) + 60)); "
              "until pgrep -x python3 >/dev/null; do [ $(date +%s) -lt $end ] || exit 1; done; "
              "pkill -STOP -x sshd")
    watcher = subprocess.Popen(lab.exec_argv(hung.name, ["sh", "-c", freeze]))
    try:
        proc = subprocess.run(
            ["timeout", "--preserve-status", "-s", "INT", "40", *CLI, "--project", str(tmp_path),
             "baseline", "capture", "-i", str(lab.inventory), "--json"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "ANSIBLE_NOCOLOR": "1", "PGPASSWORD": ENV_SECRET})
    finally:
        frozen = watcher.wait(timeout=70) == 0
        hung.exec(["pkill", "-CONT", "-x", "sshd"])
    assert frozen, "the capture module never ran on the host"
    assert proc.returncode == 130, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["interrupted"], out["unfinished"]) == ("SIGINT", [hung.name])
    assert sorted(out["stored"]) == sorted(set(lab.hosts) - {hung.name})
    assert proc.stderr.strip().splitlines()[-1] == (
        f"spse-change: stopped by SIGINT; hosts not finished (nothing stored for them): {hung.name}")
    assert not (tmp_path / "change_records" / "baselines" / hung.name).exists()
    leaks = subprocess.run(["grep", "-rl", ENV_SECRET, str(tmp_path)], capture_output=True, text=True)
    assert leaks.stdout == ""


def test_stopped_postgresql_on_an_approved_host_is_not_clean(lab: Any, tmp_path: Path) -> None:
    db = host_of(lab, "spse_db")
    inventory = str(lab.inventory)
    first = spse_change(tmp_path, "baseline", "capture", "-i", inventory, "-l", db.name)
    assert first.returncode == 0, first.stderr
    approve = spse_change(tmp_path, "baseline", "approve", f"{db.name}@latest", "--reason", "test")
    assert approve.returncode == 0, approve.stderr
    db.exec(["service", "postgresql", "stop"])
    try:
        proc = spse_change(tmp_path, "drift", "-i", inventory, "-l", db.name, "--json")
    finally:
        db.exec(["service", "postgresql", "start"])
    assert proc.returncode == 1, proc.stderr
    host = json.loads(proc.stdout)["hosts"][db.name]
    assert host["status"] in ("incomplete", "drift")
    assert "database" in host["not_compared"]
    text = spse_change(tmp_path, "drift", "--no-capture", "-l", db.name)
    assert text.returncode == 1
    assert "not compared: database" in text.stdout
