#!/usr/bin/env python3
"""Verify speed: `spse-change verify` against `ansible all -m setup`.

verify takes one snapshot of each host in one playbook run (the baseline
capture's module plus the verify facts), then runs every check (standard
and baseline conformance, several hundred tests per host) locally with
pytest. Both commands run on the same lab hosts with the same connection
settings, interleaved so machine noise hits both alike; a legacy host
(Python 2.7 only) is among them. Every host has an approved baseline first.
Prints the ratio of medians; target <= 3.0.

    sudo .venv/bin/python benches/verify.py [--hosts 4] [--legacy 1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "lab" / "lab"
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--legacy", type=int, default=1, help="legacy hosts among them")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    legacy = ["--legacy", str(args.legacy)] if args.legacy else []
    up = subprocess.run([str(LAB), "up", str(args.hosts), *legacy], capture_output=True, text=True,
                        check=True)
    inventory = up.stdout.strip().splitlines()[-1]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
           "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    try:
        with tempfile.TemporaryDirectory() as project:
            cli = [str(BIN / "spse-change"), "--project", project]
            timed([*cli, "baseline", "capture", "-i", inventory], env)
            hosts = sorted(p.name for p in (Path(project) / "change_records" / "baselines").iterdir()
                           if p.is_dir())
            for host in hosts:
                timed([*cli, "baseline", "approve", f"{host}@latest", "--reason", "bench"], env)
            verify = [*cli, "verify", "-i", inventory]
            setup = [str(BIN / "ansible"), "all", "-i", inventory, "-m", "setup"]
            timed(setup, env)  # warm the SSH control masters for both
            runs: dict[str, list[float]] = {"setup": [], "verify": []}
            for _ in range(args.rounds):
                runs["setup"].append(timed(setup, env))
                runs["verify"].append(timed(verify, env, ok=(0, 1)))  # a failed check costs the same
    finally:
        subprocess.run([str(LAB), "down"], capture_output=True, check=False)
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"hosts={args.hosts} legacy={args.legacy} rounds={args.rounds}")
    print(f"reference  ansible all -m setup  median {med['setup']:.2f} s")
    print(f"measured   spse-change verify    median {med['verify']:.2f} s")
    print(f"ratio verify / setup = {med['verify'] / med['setup']:.2f} (target <= 3.0)")


if __name__ == "__main__":
    main()
