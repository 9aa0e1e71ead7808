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

import statistics
import tempfile

from labbench import BIN, arguments, lab, setup, timed


def main() -> None:
    args = arguments(__doc__.splitlines()[0], hosts=5)
    with lab(args.hosts, args.legacy) as inventory, tempfile.TemporaryDirectory() as project:
        capture = [str(BIN / "spse-change"), "--project", project, "baseline", "capture",
                   "-i", inventory]
        timed(setup(inventory))  # warm the SSH control masters for both
        runs: dict[str, list[float]] = {"setup": [], "capture": []}
        for _ in range(args.rounds):
            runs["setup"].append(timed(setup(inventory)))
            runs["capture"].append(timed(capture))
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
