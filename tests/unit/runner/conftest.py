"""Fake hosts for real ansible-runner runs: `ansible_connection=local` with a stand-in interpreter.

The capture playbook and module stay as shipped; each host's "Python" is a
shell script that answers the module's call with a canned result, or hangs.
That drives the real CLI, ansible-runner and ansible-playbook end to end
without SSH, root or a lab.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spse_change.capture.signature import SCHEME, project_key
from spse_change.project import Project

BIN = Path(sys.executable).parent
TREE = {"data": {"os": {"kernel": "6.1"}}, "incomplete": {}, "measurements": {},
        "discovery": {}, "groups": ["spse_app"]}
GOOD = json.dumps(TREE)


class FakeHosts:
    """A project folder and an inventory whose hosts answer as told."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "fake-bin"
        self.bin.mkdir()
        self.inventory = root / "hosts.yml"
        self.hosts: dict[str, dict[str, str]] = {}

    def answer(self, host: str, payload: str = GOOD) -> None:
        """The host returns `payload` as the module's `spse_baseline_json`, signed as the module
        signs it with the project's key."""
        signature = SCHEME.sign(project_key(Project(self.root)), host,
                                f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}", payload)
        result = json.dumps({"changed": False, "spse_baseline_json": payload,
                             "spse_baseline_signature": signature})
        self._add(host, f"cat >/dev/null\ncat <<'EOF'\n{result}\nEOF\n")

    def hang(self, host: str) -> Path:
        """The host never answers; returns the file that will hold the hung process's pid."""
        pidfile = self.root / f"{len(self.hosts)}.pid"
        self._add(host, f"echo $$ > {pidfile}\nexec sleep 300\n")
        return pidfile

    def _add(self, host: str, body: str) -> None:
        script = self.bin / f"host{len(self.hosts)}"
        script.write_text(f"#!/bin/sh\n{body}")
        script.chmod(0o755)
        self.hosts[host] = {"ansible_python_interpreter": str(script)}
        self.inventory.write_text(json.dumps({"spse_app": {
            "vars": {"ansible_connection": "local", "ansible_become": False},
            "hosts": self.hosts}}))

    def spse_change(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start `spse-change --project ROOT ARGS -i INVENTORY` (stdout, stderr piped)."""
        return subprocess.Popen(
            [str(BIN / "spse-change"), "--project", str(self.root), *args, "-i", str(self.inventory)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})

    def stored(self) -> dict[str, list[Path]]:
        base = self.root / "change_records" / "baselines"
        return {p.name: sorted(p.glob("*.json")) for p in base.iterdir()} if base.is_dir() else {}


@pytest.fixture
def fake(tmp_path: Path) -> FakeHosts:
    return FakeHosts(tmp_path)
