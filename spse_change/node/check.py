"""`spse-change node check NODE`: can NODE run our playbooks for `--via`, and if not, what to install.

A node needs ansible-runner (its `worker` runs the streamed job) and an
ansible-core of the control machine's series: 2.16 is the last that runs
modules on Python 2.7 targets, and the roles are tested with it. Its Python
must be one that ansible-core supports as a controller. With an inventory,
the check also runs a ping through the node, which proves the whole path:
SSH to the node, the stream, the node's SSH to each server, a module there.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.runner.playbook import PlaybookRequest, ProgressHandler, run_playbook
from spse_change.runner.remote import JOB_PREFIX, checked_node, ssh_argv

MIN_PYTHON = (3, 10)  # ansible-core 2.16's controller minimum
SSH_TIMEOUT = 60


@dataclass(frozen=True)
class NodeCheckRequest:
    project: Project
    node: str
    inventory: Sequence[Path] = ()
    limit: str | None = None
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        checked_node(self.node)


@dataclass
class NodeReport:
    node: str
    ansible_runner: str | None = None
    ansible_core: str | None = None
    python: str | None = None
    hosts: dict[str, str] = field(default_factory=dict)  # host -> "ok" or why not
    problems: list[str] = field(default_factory=list)
    job_folders: list[str] = field(default_factory=list)  # runs under way, or left by killed workers
    install: list[str] = field(default_factory=list)  # commands that fix the problems

    @property
    def usable(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "usable": self.usable, "ansible_runner": self.ansible_runner,
                "ansible_core": self.ansible_core, "python": self.python, "hosts": self.hosts,
                "problems": self.problems, "job_folders": self.job_folders, "install": self.install}


def install_commands() -> list[str]:
    """How to give a node our versions from PyPI (a venv of its own; commands on the SSH PATH)."""
    core, runner = version("ansible-core"), version("ansible-runner")
    return ["python3 -m venv /opt/spse-runner",
            f"/opt/spse-runner/bin/pip install 'ansible-core=={core}' 'ansible-runner=={runner}'",
            "ln -s /opt/spse-runner/bin/ansible-runner /opt/spse-runner/bin/ansible-playbook "
            "/opt/spse-runner/bin/ansible /usr/local/bin/"]


def check_node(request: NodeCheckRequest, progress: ProgressHandler | None = None) -> NodeReport:
    report = NodeReport(request.node)
    runner = _remote(request.node, "ansible-runner", "--version")
    if runner.returncode == 255:
        raise SpseChangeError(f"cannot reach execution node {request.node} over SSH: "
                              f"{_last_line(runner.stderr) or 'ssh failed'}")
    if runner.returncode == 0:
        report.ansible_runner = runner.stdout.strip()
        if not report.ansible_runner.startswith("2."):
            report.problems.append(f"ansible-runner {report.ansible_runner} is not 2.x")
    else:
        report.problems.append(f"ansible-runner not found on the node's PATH for SSH commands "
                               f"({_last_line(runner.stderr) or f'exit {runner.returncode}'})")
    _check_ansible(report, _remote(request.node, "ansible-playbook", "--version"))
    folder, prefix = JOB_PREFIX.rsplit("/", 1)
    found = _remote(request.node, "find", folder, "-maxdepth", "1", "-name", f"{prefix}*")
    report.job_folders = sorted(found.stdout.split())
    if report.problems:
        report.install = install_commands()
    elif request.inventory:
        _ping(request, report, progress)
    return report


def _check_ansible(report: NodeReport, proc: subprocess.CompletedProcess[str]) -> None:
    """ansible-core's series and the Python it runs on, from `ansible-playbook --version`."""
    core = re.search(r"\[core (\d+\.\d+\.\d+\S*)\]", proc.stdout)
    python = re.search(r"python version = (\d+)\.(\d+)\.(\d+)", proc.stdout)
    if proc.returncode != 0 or not core:
        report.problems.append("ansible-core not found on the node's PATH for SSH commands")
        return
    report.ansible_core = core.group(1)
    ours = version("ansible-core")
    if _series(report.ansible_core) != _series(ours):
        report.problems.append(f"ansible-core {report.ansible_core} is not the {_series(ours)} series "
                               f"of this machine ({ours}): Python 2.7 servers need 2.16")
    if python:
        found = tuple(int(part) for part in python.groups())
        report.python = ".".join(python.groups())
        if found[:2] < MIN_PYTHON:
            report.problems.append(f"Python {report.python} is too old for ansible-core "
                                   f"{_series(ours)} (needs {'.'.join(map(str, MIN_PYTHON))}+)")


def _ping(request: NodeCheckRequest, report: NodeReport, progress: ProgressHandler | None) -> None:
    proj = request.project
    run = run_playbook(PlaybookRequest(
        playbook=proj.playbook("ping.yml"), state_dir=proj.state_dir, inventory=request.inventory,
        limit=request.limit, verbosity=request.verbosity,
        vault_password_file=request.vault_password_file, become_password=request.become_password,
        ansible_cfg=proj.ansible_cfg, via=request.node), progress)
    if run.interrupted:
        raise SpseChangeError(f"node check stopped by {run.interrupted.name}")
    if not run.hosts:  # Ansible only warns when the inventory holds no SPSE server: nothing was reached
        report.problems.append("no SPSE server (groups spse_app, spse_db) in the inventory was reached "
                               "through the node")
    for host, outcome in sorted(run.hosts.items()):
        bad = outcome.outcome in ("failed", "unreachable")
        report.hosts[host] = f"{outcome.outcome}: {outcome.message}" if bad else "ok"
        if bad:
            report.problems.append(f"{host} not reached from the node ({outcome.message or outcome.outcome})")


def _remote(node: str, *command: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(ssh_argv(node, *command), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=SSH_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SpseChangeError(f"execution node {node} did not answer within {SSH_TIMEOUT} s") from None
    except OSError as exc:
        raise SpseChangeError(f"cannot run ssh: {exc.strerror}") from None


def _series(release: str) -> str:
    return ".".join(release.split(".")[:2])


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
