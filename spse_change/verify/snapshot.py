"""One snapshot of each host through one playbook run: its baseline plus the verify facts.

`playbooks/verify.yml` runs the baseline capture's module and
`spse_verify_facts` on every host (two module runs, one SSH connection);
nothing is stored. The checks then assert against these snapshots locally,
so no check costs a round trip.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.capture.baseline import host_baseline
from spse_change.capture.signature import project_key
from spse_change.errors import SpseChangeError
from spse_change.project import KEY_FILE_ENV, Project
from spse_change.runner.playbook import PlaybookRequest, ProgressHandler, run_playbook

VERIFY_TASK = "Read the verify checks' runtime facts"
TASKS = 2  # per host: the baseline capture's module, then spse_verify_facts


@dataclass(frozen=True)
class Snapshot:
    """What one host looked like when verified: `baseline` (baseline schema 2) and `facts`."""

    host: str
    baseline: Mapping[str, Any]
    facts: Mapping[str, Any]

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.baseline.get("groups") or ())


@dataclass
class Snapshots:
    hosts: dict[str, Snapshot] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # host -> why there is no snapshot
    interrupted: signal.Signals | None = None
    unfinished: list[str] = field(default_factory=list)


def take_snapshots(project: Project, inventory: Sequence[Path], limit: str | None, verbosity: int,
                   vault_password_file: Path | None, become_password: str | None,
                   progress: ProgressHandler | None = None, via: str | None = None) -> Snapshots:
    run = run_playbook(
        PlaybookRequest(
            playbook=project.playbook("verify.yml"),
            state_dir=project.state_dir,
            inventory=inventory,
            limit=limit,
            envfiles={KEY_FILE_ENV: project.hmac_key_file()},
            verbosity=verbosity,
            vault_password_file=vault_password_file,
            become_password=become_password,
            ansible_cfg=project.ansible_cfg,
            via=via,
        ),
        _per_host(progress),
    )
    if not run.hosts and not run.interrupted:
        what = f"limit '{limit}'" if limit else "the inventory"
        raise SpseChangeError(f"{what} matches no host in groups spse_app or spse_db")
    result = Snapshots(interrupted=run.interrupted, unfinished=list(run.unfinished))
    key = project_key(project)
    for host, outcome in sorted(run.hosts.items()):
        if host in run.unfinished:
            continue
        try:
            baseline = host_baseline(host, outcome, "verify", key)
            payload = outcome.results.get(VERIFY_TASK, {}).get("spse_verify_json")
            if payload is None:
                raise SpseChangeError(outcome.message or "no verify facts returned")
            facts = json.loads(payload)
        except SpseChangeError as exc:
            result.failed[host] = exc.message
            continue
        except ValueError as exc:
            result.failed[host] = f"the verify module returned no valid JSON ({exc})"
            continue
        result.hosts[host] = Snapshot(host, baseline, facts)
    return result


def _per_host(progress: ProgressHandler | None) -> ProgressHandler | None:
    """One progress line per host though two tasks run there: its first failure, else its last task."""
    if progress is None:
        return None
    events: dict[str, int] = {}

    def report(host: str, outcome: str, message: str) -> None:
        events[host] = events.get(host, 0) + 1
        if events[host] > TASKS:
            return
        if outcome in ("failed", "unreachable"):
            events[host] = TASKS + 1  # said once; nothing more about this host
            progress(host, outcome, message)
        elif events[host] == TASKS:
            progress(host, outcome, message)

    return report
