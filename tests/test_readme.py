"""README must stay true: every `spse-change` command it shows runs as printed.

They run in order against the default inventory (this machine, over the
local connection, with sudo), in a throw-away project folder.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()
            if line.startswith(".venv/bin/spse-change")]


@pytest.mark.skipif(os.geteuid() != 0, reason="captures this machine with sudo: run as root")
def test_readme_commands_work_as_printed(tmp_path: Path) -> None:
    commands = readme_commands()
    assert len(commands) >= 8
    env = {**os.environ, "SPSE_CHANGE_PROJECT": str(tmp_path)}
    for command in commands:
        argv = shlex.split(command)
        argv[0] = str(BIN / "spse-change")
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert proc.returncode in (0, 1), f"{command}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, command
        assert proc.stdout.strip(), command
