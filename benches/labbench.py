"""What the lab benches share: a lab brought up and always taken down, and timed commands.

Each bench compares a spse-change command with `ansible all -m setup` on the same hosts, in
the same process, rounds interleaved so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "lab" / "lab"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}


def arguments(description: str, hosts: int) -> argparse.Namespace:
    return parser(description, hosts).parse_args()


def parser(description: str, hosts: int) -> argparse.ArgumentParser:
    """The options every lab bench takes (a bench adds its own)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--hosts", type=int, default=hosts)
    parser.add_argument("--legacy", type=int, default=1, help="legacy hosts among them")
    parser.add_argument("--rounds", type=int, default=5)
    return parser


@contextlib.contextmanager
def lab(hosts: int, legacy: int) -> Iterator[str]:
    """A lab of `hosts` (+ `legacy`) hosts for the bench; yields its inventory path."""
    more = ["--legacy", str(legacy)] if legacy else []
    up = subprocess.run([str(LAB), "up", str(hosts), *more], capture_output=True, text=True,
                        check=True)
    try:
        yield up.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(LAB), "down"], capture_output=True, check=False)


def timed(cmd: list[str], ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**ENV, **(env or {})}, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def setup(inventory: str) -> list[str]:
    """The reference: Ansible's own fact gathering on the same hosts."""
    return [str(BIN / "ansible"), "all", "-i", inventory, "-m", "setup"]
