"""The module itself on every target Python found here: same result on 2.7, 3.6 and ours.

CentOS 7's Python is 2.7 (3.6 at best); vermin checks the syntax, this runs the module
(AnsiballZ-packed, as on a host) against this machine and compares what each interpreter
returns, and that the controller verifies what each one signed. The legacy lab host is the
full proof; this one runs without the lab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spse_change.capture.signature import verify

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "spse_baseline"
# Categories that no other process on this machine changes between two runs.
STABLE = ("os", "config", "spse", "packages")
KEY = "0123456789abcdef0123456789abcdef"
SIGNED_AT = "2026-11-28T08:00:00.123456Z"


def capture(python: str) -> dict:
    env = dict(os.environ, ANSIBLE_LIBRARY=str(ROLE / "library"),
               ANSIBLE_MODULE_UTILS=str(ROLE / "module_utils"), ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-e",
         f"ansible_python_interpreter={python}", "-m", "spse_baseline_facts", "-a",
         f"hmac_key={KEY} capture_database=false result_host=localhost signed_at={SIGNED_AT} "
         "inventory_groups=spse_app,spse_app,all"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout[proc.stdout.index("{"):])
    signed = verify(KEY.encode(), "localhost", result["spse_baseline_json"],
                    result["spse_baseline_signature"])
    assert (f"{signed.signed_at:%Y-%m-%dT%H:%M:%S.%fZ}", len(signed.nonce)) == (SIGNED_AT, 32)
    return json.loads(result["spse_baseline_json"])


@pytest.fixture(scope="module")
def reference() -> dict:
    return capture(sys.executable)


def test_role_sources_are_ascii() -> None:
    """Python 2 refuses a source file with non-ASCII bytes and no coding line (vermin does not
    say so, and AnsiballZ's zip hides it until a host runs the files unzipped)."""
    for path in sorted(ROLE.rglob("*.py")):
        text = path.read_bytes()
        assert text.isascii() or b"coding: utf-8" in text.split(b"\n", 2)[1], path


def interpreter(name: str) -> str | None:
    """A working ``name`` on PATH or among pyenv's versions (whose shims need a version set)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for python in [shutil.which(name), *map(str, sorted(pyenv.glob(f"versions/*/bin/{name}")))]:
        if python and subprocess.run([python, "-c", ""], capture_output=True, check=False).returncode == 0:
            return python
    return None


@pytest.mark.parametrize("name", ["python2.7", "python3.6"])
def test_same_result_on_the_hosts_pythons(name: str, reference: dict) -> None:
    python = interpreter(name)
    if python is None:
        pytest.skip(f"no {name} on this machine")
    other = capture(python)
    assert other["groups"] == reference["groups"] == ["all", "spse_app"]
    assert set(other["incomplete"]) == set(reference["incomplete"])
    for category in STABLE:
        assert other["data"][category] == reference["data"][category], category
    assert set(other["data"]) == set(reference["data"])
