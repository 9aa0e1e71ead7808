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

import statistics
import tempfile
from pathlib import Path

from labbench import BIN, arguments, lab, setup, timed


def main() -> None:
    args = arguments(__doc__.splitlines()[0], hosts=4)
    with lab(args.hosts, args.legacy) as inventory, tempfile.TemporaryDirectory() as project:
        cli = [str(BIN / "spse-change"), "--project", project]
        timed([*cli, "baseline", "capture", "-i", inventory])
        hosts = sorted(p.name for p in (Path(project) / "change_records" / "baselines").iterdir()
                       if p.is_dir())
        for host in hosts:
            timed([*cli, "baseline", "approve", f"{host}@latest", "--reason", "bench"])
        verify = [*cli, "verify", "-i", inventory]
        timed(setup(inventory))  # warm the SSH control masters for both
        runs: dict[str, list[float]] = {"setup": [], "verify": []}
        for _ in range(args.rounds):
            runs["setup"].append(timed(setup(inventory)))
            runs["verify"].append(timed(verify, ok=(0, 1)))  # a failed check costs the same
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"hosts={args.hosts} legacy={args.legacy} rounds={args.rounds}")
    print(f"reference  ansible all -m setup  median {med['setup']:.2f} s")
    print(f"measured   spse-change verify    median {med['verify']:.2f} s")
    print(f"ratio verify / setup = {med['verify'] / med['setup']:.2f} (target <= 3.0)")


if __name__ == "__main__":
    main()
