"""Reaching the hosts of a planned change: the apply and rollback playbooks, and captures.

Both go through the one runner (spse_change/runner/playbook.py) and the one
capture service; this module only builds their requests from a record's plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.apply.plan_file import Settings
from spse_change.capture.baseline import CaptureRequest, capture
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.runner.playbook import PlaybookRequest, PlaybookResult, ProgressHandler, run_playbook

READ_TASK = "Read the planned settings from pg_settings"


@dataclass(frozen=True)
class Reach:
    """The Ansible options of the command line (-i, -l, -v, --vault-password-file, -K)."""

    inventory: Sequence[Path] = ()
    limit: str | None = None
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)
    via: str | None = None  # an execution node that runs the playbook (docs/nodes.md)

    def pattern(self, hosts: str) -> str:
        """`hosts`, narrowed by -l when given."""
        return f"{hosts}:&{self.limit}" if self.limit else hosts


def run_change(project: Project, reach: Reach, playbook: str, hosts: str, record_id: str,
               settings: Settings, targets: Mapping[str, Mapping[str, Any]], check: bool = False,
               progress: ProgressHandler | None = None) -> PlaybookResult:
    """apply.yml or rollback.yml on `hosts` (a pattern), with the plan's settings and targets."""
    return run_playbook(PlaybookRequest(
        playbook=project.playbook(playbook), state_dir=project.state_dir,
        inventory=reach.inventory, limit=hosts,
        extravars={"spse_apply_record": record_id,
                   "spse_apply_postgresql": dict(settings.postgresql),
                   "spse_apply_apache": dict(settings.apache),
                   "spse_apply_application_conf": dict(settings.application_conf),
                   "spse_apply_hosts": {h: dict(t) for h, t in targets.items()}},
        check=check, diff=check, verbosity=reach.verbosity,
        vault_password_file=reach.vault_password_file, become_password=reach.become_password,
        ansible_cfg=project.ansible_cfg, via=reach.via), progress)


def failures(run: PlaybookResult) -> dict[str, str]:
    """Each failed or unreachable host with its reason."""
    return {h.host: h.message or h.outcome for h in run.failed}


def capture_hosts(project: Project, reach: Reach, hosts: Sequence[str], label: str,
                  progress: ProgressHandler | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Capture `hosts` now: ({host: baseline id}, {host: why not})."""
    result = capture(CaptureRequest(
        project=project, inventory=reach.inventory, limit=",".join(hosts), label=label,
        verbosity=reach.verbosity, vault_password_file=reach.vault_password_file,
        become_password=reach.become_password, via=reach.via), progress)
    missing = {h: "not captured" for h in hosts if h not in result.stored and h not in result.failed}
    if result.interrupted:
        raise SpseChangeError(f"capture stopped by {result.interrupted.name}")
    return {h: p.stem for h, p in result.stored.items()}, {**result.failed, **missing}
