#!/usr/bin/env python3
"""Capture speed: `spse-change baseline capture` against `ansible all -m setup`.

Both run on the same lab hosts with the same connection settings
(pipelining, ControlPersist), interleaved so machine noise hits both alike;
a legacy host (Python 2.7 only, laid out like CentOS 7) is among them.
Prints the ratio of medians; target <= 1.0 (a full baseline in no more time
than Ansible's own fact gathering).

With `--via NODE` (a lab host's name, e.g. aio1) that host is made an
execution node (tests/lab/lab_node.py) and the comparison is a capture
through it against a direct capture of the same hosts; target <= 1.3.

    sudo .venv/bin/python benches/capture.py [--hosts 5] [--legacy 1] [--rounds 5] [--via aio1]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from labbench import BIN, ROOT, lab, parser, setup, timed


def main() -> None:
    options = parser(__doc__.splitlines()[0], hosts=5)
    options.add_argument("--via", metavar="NODE", help="compare with a capture through this lab host")
    args = options.parse_args()
    with lab(args.hosts, args.legacy) as inventory, tempfile.TemporaryDirectory() as project:
        direct = ("spse-change baseline capture", [str(BIN / "spse-change"), "--project", project,
                                                   "baseline", "capture", "-i", inventory], {})
        print(f"hosts={args.hosts} legacy={args.legacy} rounds={args.rounds}")
        if args.via:
            report(args.rounds, direct, through(direct, args.via, Path(project)), 1.3)
        else:
            report(args.rounds, ("ansible all -m setup", setup(inventory), {}), direct, 1.0)


def through(direct: tuple, node: str, project: Path) -> tuple:
    """The same capture through lab host `node`, made an execution node first."""
    sys.path.insert(0, str(ROOT / "tests" / "lab"))
    import labctl
    from lab_node import make_node, ssh_config

    the_lab = labctl.Lab()
    make_node(the_lab, node)
    env = {"SPSE_CHANGE_SSH_CONFIG": str(ssh_config(the_lab, [node], project / "ssh_config"))}
    return f"{direct[0]} --via {node}", [*direct[1], "--via", node], env


def report(rounds: int, reference: tuple, measured: tuple, target: float) -> None:
    """Warm both, run them interleaved, print the medians and the ratio."""
    (ref_name, ref_cmd, ref_env), (name, cmd, env) = reference, measured
    timed(ref_cmd, env=ref_env)  # warm the SSH control masters for both
    timed(cmd, env=env)
    runs: dict[str, list[float]] = {"reference": [], "measured": []}
    for _ in range(rounds):
        runs["reference"].append(timed(ref_cmd, env=ref_env))
        runs["measured"].append(timed(cmd, env=env))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"reference  {ref_name}  median {med['reference']:.2f} s")
    print(f"measured   {name}  median {med['measured']:.2f} s")
    print(f"ratio measured / reference = {med['measured'] / med['reference']:.2f} (target <= {target})")
    pairs = [m / r for r, m in zip(runs["reference"], runs["measured"], strict=True)]
    print("each round's ratio: " + " ".join(f"{r:.2f}" for r in pairs)
          + f" (spread {min(pairs):.2f}-{max(pairs):.2f})")


if __name__ == "__main__":
    main()
