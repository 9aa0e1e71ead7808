"""Capture baselines: run the baseline playbook once, store one baseline per host.

inventory → runner → role (one module run per host, secrets hashed there)
→ envelope → store. A host that fails does not stop the others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spse_change.errors import SpseChangeError
from spse_change.project import KEY_FILE_ENV, Project
from spse_change.runner.playbook import PlaybookRequest, ProgressHandler, run_playbook
from spse_change.store.baselines import BaselineStore, new_baseline

CAPTURE_TASK = "Capture the SPSE baseline"


@dataclass(frozen=True)
class CaptureRequest:
    project: Project
    inventory: Sequence[Path] = ()
    limit: str | None = None
    label: str = ""
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)


@dataclass
class CaptureResult:
    stored: dict[str, Path] = field(default_factory=dict)  # host -> baseline file
    failed: dict[str, str] = field(default_factory=dict)  # host -> reason
    incomplete: dict[str, dict[str, str]] = field(default_factory=dict)


def capture(request: CaptureRequest, progress: ProgressHandler | None = None) -> CaptureResult:
    project = request.project
    run = run_playbook(
        PlaybookRequest(
            playbook=project.playbook("baseline.yml"),
            state_dir=project.state_dir,
            inventory=request.inventory,
            limit=request.limit,
            envvars={KEY_FILE_ENV: str(project.hmac_key_file())},
            verbosity=request.verbosity,
            vault_password_file=request.vault_password_file,
            become_password=request.become_password,
            ansible_cfg=project.ansible_cfg,
        ),
        progress,
    )
    if not run.hosts:
        what = f"limit '{request.limit}'" if request.limit else "the inventory"
        raise SpseChangeError(f"{what} matches no host in groups spse_app or spse_db")
    store = BaselineStore(project.records_dir)
    result = CaptureResult()
    for host, outcome in sorted(run.hosts.items()):
        payload = outcome.results.get(CAPTURE_TASK, {}).get("spse_baseline_json")
        if outcome.outcome in ("failed", "unreachable") or payload is None:
            result.failed[host] = outcome.message or f"{outcome.outcome}, no baseline returned"
            continue
        baseline = new_baseline(host, json.loads(payload), request.label)
        result.stored[host] = store.save(baseline)
        if baseline["incomplete"]:
            result.incomplete[host] = baseline["incomplete"]
    return result
