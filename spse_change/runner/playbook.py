"""The one module that talks to ansible-runner.

Build a request, run it, return per-host results: callers pass a progress
handler instead of subclassing, and never parse Ansible's stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from spse_change.errors import SpseChangeError
from spse_change.store.files import write_atomic

# Per-host outcome of a run, worst wins: a host that failed one task failed.
OUTCOME_RANK = {"ok": 0, "changed": 1, "skipped": 0, "failed": 2, "unreachable": 3}
EVENT_OUTCOME = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}
HOST_EVENTS = (*EVENT_OUTCOME, "runner_item_on_failed")

ProgressHandler = Callable[[str, str, str], None]  # host, outcome, message


@dataclass(frozen=True)
class PlaybookRequest:
    """What to run; checked before anything starts."""

    playbook: Path
    state_dir: Path
    inventory: Sequence[Path] = ()
    limit: str | None = None
    extravars: Mapping[str, Any] = field(default_factory=dict)
    envvars: Mapping[str, str] = field(default_factory=dict)
    check: bool = False
    diff: bool = False
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)
    ansible_cfg: Path | None = None

    def __post_init__(self) -> None:
        if not self.playbook.is_file():
            raise SpseChangeError(f"playbook not found: {self.playbook}")
        for inv in self.inventory:
            if not inv.exists():
                raise SpseChangeError(f"inventory not found: {inv}")
        if self.vault_password_file and not self.vault_password_file.is_file():
            raise SpseChangeError(f"vault password file not found: {self.vault_password_file}")


@dataclass
class HostResult:
    """Everything one host reported, keyed by task name."""

    host: str
    outcome: str = "ok"
    message: str = ""
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, outcome: str, task: str, res: dict[str, Any]) -> None:
        if outcome in ("ok", "changed"):
            self.results[task] = res
        if OUTCOME_RANK[outcome] >= OUTCOME_RANK[self.outcome]:
            if outcome in ("failed", "unreachable") and self.outcome not in ("failed", "unreachable"):
                self.message = _reason(res)
            self.outcome = outcome


@dataclass
class PlaybookResult:
    rc: int
    status: str
    hosts: dict[str, HostResult]

    @property
    def failed(self) -> list[HostResult]:
        return [h for h in self.hosts.values() if h.outcome in ("failed", "unreachable")]


def run_playbook(request: PlaybookRequest, progress: ProgressHandler | None = None) -> PlaybookResult:
    """Run one playbook through ansible-runner and collect per-host results from its events."""
    hosts: dict[str, HostResult] = {}

    def on_event(event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        if kind not in HOST_EVENTS:
            return True
        data = event.get("event_data", {})
        host = data.get("host", "?")
        res = data.get("res", {}) or {}
        outcome = EVENT_OUTCOME.get(kind, "failed")
        if outcome == "ok" and res.get("changed"):
            outcome = "changed"
        if outcome == "failed" and data.get("ignore_errors"):
            outcome = "ok"
        entry = hosts.setdefault(host, HostResult(host))
        entry.record(outcome, data.get("task", ""), res)
        if progress:
            progress(host, outcome, _reason(res) if outcome in ("failed", "unreachable") else "")
        return True

    _use_our_ansible()
    (request.state_dir / "runner").mkdir(parents=True, exist_ok=True, mode=0o700)
    runner = ansible_runner.run(**_runner_kwargs(request), event_handler=on_event)
    _scrub_environment(Path(runner.config.artifact_dir))
    if runner.status == "failed" and not hosts:
        raise SpseChangeError(_startup_error(runner, request))
    return PlaybookResult(rc=runner.rc, status=runner.status, hosts=hosts)


def _scrub_environment(artifact_dir: Path) -> None:
    """ansible-runner keeps the whole process environment in `command`; a shell's
    PGPASSWORD or token must not stay on disk, so only the command line is kept."""
    path = artifact_dir / "command"
    with contextlib.suppress(OSError, ValueError):
        record = json.loads(path.read_text())
        record.pop("env", None)
        write_atomic(path, json.dumps(record), mode=0o600)


def _use_our_ansible() -> None:
    """Run the Ansible installed beside us (`.venv/bin/spse-change` works with the venv off PATH).

    ansible-runner spawns `ansible-playbook` through this process's PATH.
    """
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bindir, path])


def _runner_kwargs(request: PlaybookRequest) -> dict[str, Any]:
    cmdline = []
    if request.check:
        cmdline.append("--check")
    if request.diff:
        cmdline.append("--diff")
    if request.vault_password_file:
        cmdline += ["--vault-password-file", str(request.vault_password_file)]
    passwords = {}
    if request.become_password is not None:  # answered at Ansible's prompt, never written down
        cmdline.append("--ask-become-pass")
        passwords[r"^BECOME password.*:\s*?$"] = request.become_password
    env = {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1", **request.envvars}
    # An inventory that does not parse is an error to name, not an empty inventory.
    env.setdefault("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "True")
    if request.ansible_cfg and "ANSIBLE_CONFIG" not in os.environ:
        env["ANSIBLE_CONFIG"] = str(request.ansible_cfg)
    env.setdefault("ANSIBLE_LOCAL_TEMP", str(request.state_dir / "tmp"))
    return {
        "private_data_dir": str(request.state_dir / "runner"),
        "project_dir": str(request.playbook.parent.parent),
        "playbook": str(request.playbook),
        "inventory": [str(p) for p in request.inventory] or None,
        "limit": request.limit,
        "extravars": dict(request.extravars),
        "envvars": env,
        "cmdline": shlex.join(cmdline) or None,
        "verbosity": request.verbosity or None,
        "quiet": request.verbosity < 2,
        "passwords": passwords,
        "suppress_env_files": True,
        "rotate_artifacts": 20,
    }


def _reason(res: dict[str, Any]) -> str:
    msg = res.get("msg") or res.get("stderr") or res.get("module_stderr") or ""
    return " ".join(str(msg).split())[:300]


def _startup_error(runner: Any, request: PlaybookRequest) -> str:
    """Ansible failed before any host ran: bad inventory, limit, syntax, vault. Say it in one line."""
    text = runner.stdout.read() if runner.stdout else ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("ERROR", "[ERROR]"))]
    if any("no hosts to target" in ln for ln in errors):
        inventory = ", ".join(str(p) for p in request.inventory) or "the default inventory"
        what = f"limit '{request.limit}'" if request.limit else "the play's groups"
        return f"{what} matches no host in {inventory}"
    message = (errors or lines or [f"ansible-playbook failed (rc={runner.rc})"])[-1]
    message = message.removeprefix("[ERROR]: ").removeprefix("ERROR! ")
    causes = [ln for ln in lines if ln.startswith("YAML parsing failed")]
    origins = [ln.removeprefix("Origin: ") for ln in lines if re.match(r"Origin: /.*:\d+", ln)]
    if causes:  # say where the file is broken, not only that it is
        message += f": {causes[0]}" + (f" ({origins[0]})" if origins else "")
    return message
