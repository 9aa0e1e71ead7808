#!/usr/bin/env python3
"""Capture speed: `spse-change baseline capture` against `ansible all -m setup`.

Both run on the same lab hosts with the same connection settings
(pipelining, ControlPersist), interleaved so machine noise hits both alike;
a legacy host (Python 2.7 only, laid out like CentOS 7) is among them.
Prints the ratio of medians; target <= 1.0 (a full baseline in no more time
than Ansible's own fact gathering).

    sudo .venv/bin/python benches/capture.py [--hosts 5] [--legacy 1] [--rounds 5]
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


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=5)
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
            capture = [str(BIN / "spse-change"), "--project", project, "baseline", "capture",
                       "-i", inventory]
            setup = [str(BIN / "ansible"), "all", "-i", inventory, "-m", "setup"]
            timed(setup, env)  # warm the SSH control masters for both
            runs: dict[str, list[float]] = {"setup": [], "capture": []}
            for _ in range(args.rounds):
                runs["setup"].append(timed(setup, env))
                runs["capture"].append(timed(capture, env))
    finally:
        subprocess.run([str(LAB), "down"], capture_output=True, check=False)
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"hosts={args.hosts} legacy={args.legacy} rounds={args.rounds}")
    print(f"reference  ansible all -m setup        median {med['setup']:.2f} s")
    print(f"measured   spse-change baseline capture median {med['capture']:.2f} s")
    print(f"ratio capture / setup = {med['capture'] / med['setup']:.2f} (target <= 1.0)")
    pairs = [c / s for s, c in zip(runs["setup"], runs["capture"], strict=True)]
    print("each round's ratio: " + " ".join(f"{r:.2f}" for r in pairs)
          + f" (spread {min(pairs):.2f}-{max(pairs):.2f})")


if __name__ == "__main__":
    main()
