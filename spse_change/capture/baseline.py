"""Capture baselines: run the baseline playbook once, store one baseline per host.

inventory → runner → role (one module run per host, secrets hashed there)
→ envelope → store. Each host is stored or reported on its own: a host that
fails, has a name the store refuses, or returns a result that does not parse
does not stop the others. Every result's signature is checked first
(spse_change/capture/signature.py): one that does not verify is that host's
failure and is not stored.

A run stopped by SIGINT/SIGTERM stores the hosts that had finished (their
baselines are whole) and names the others as unfinished; nothing is stored
for an unfinished host.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.capture.signature import SIGNATURE_KEY, project_key, verify
from spse_change.errors import SpseChangeError
from spse_change.project import KEY_FILE_ENV, Project
from spse_change.runner.playbook import HostResult, PlaybookRequest, ProgressHandler, run_playbook
from spse_change.store.baselines import BaselineStore, _checked_host, new_baseline

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
    via: str | None = None  # an execution node that runs the playbook (docs/nodes.md)


@dataclass
class CaptureResult:
    stored: dict[str, Path] = field(default_factory=dict)  # host -> baseline file
    failed: dict[str, str] = field(default_factory=dict)  # host -> reason
    incomplete: dict[str, dict[str, str]] = field(default_factory=dict)
    interrupted: signal.Signals | None = None  # the signal that stopped the run
    unfinished: list[str] = field(default_factory=list)  # hosts the stopped run had not finished

    def settled(self, host: str) -> bool:
        """Whether the host is already stored or failed."""
        return host in self.stored or host in self.failed

    def to_json(self) -> dict[str, Any]:
        return {"stored": {h: str(p) for h, p in self.stored.items()}, "failed": self.failed,
                "incomplete": self.incomplete, "unfinished": self.unfinished,
                "interrupted": self.interrupted.name if self.interrupted else None}


def capture(request: CaptureRequest, progress: ProgressHandler | None = None) -> CaptureResult:
    project = request.project
    store = BaselineStore(project.records_dir)
    result = CaptureResult()
    key = project_key(project)
    write_errors: list[SpseChangeError] = []

    def keep_finished(outcome: HostResult) -> None:
        """Store a host as soon as its capture ends, while the slower hosts still run (parsing,
        the envelope and the fsyncs then cost no time at the end: 30-90 ms for the lab's 6 hosts).
        Called from ansible-runner's event loop, so an error is kept for after the run."""
        if outcome.finished and not write_errors and not result.settled(outcome.host):
            try:
                _keep(store, result, outcome, request.label, key)
            except SpseChangeError as exc:
                write_errors.append(exc)

    run = run_playbook(
        PlaybookRequest(
            playbook=project.playbook("baseline.yml"),
            state_dir=project.state_dir,
            inventory=request.inventory,
            limit=request.limit,
            envfiles={KEY_FILE_ENV: project.hmac_key_file()},
            verbosity=request.verbosity,
            vault_password_file=request.vault_password_file,
            become_password=request.become_password,
            ansible_cfg=project.ansible_cfg,
            via=request.via,
        ),
        progress,
        keep_finished,
    )
    if write_errors:
        raise write_errors[0]
    if not run.hosts and not run.interrupted:
        what = f"limit '{request.limit}'" if request.limit else "the inventory"
        raise SpseChangeError(f"{what} matches no host in groups spse_app or spse_db")
    result.interrupted = run.interrupted
    result.unfinished = [host for host in run.unfinished if host not in result.stored]
    for host, outcome in sorted(run.hosts.items()):
        if host not in result.unfinished and not result.settled(host):
            _keep(store, result, outcome, request.label, key)
    result.stored = dict(sorted(result.stored.items()))  # by host, whatever order they ended in
    result.failed = dict(sorted(result.failed.items()))
    result.incomplete = dict(sorted(result.incomplete.items()))
    return result


def _keep(store: BaselineStore, result: CaptureResult, outcome: HostResult, label: str,
          key: bytes) -> None:
    """Store one host's baseline, or note in ``result`` why it has none."""
    try:
        baseline = host_baseline(outcome.host, outcome, label, key)
    except SpseChangeError as exc:
        result.failed[outcome.host] = exc.message
        return
    result.stored[outcome.host] = store.save(baseline)
    if baseline["incomplete"]:
        result.incomplete[outcome.host] = baseline["incomplete"]


SHAPE = {"data": dict, "incomplete": dict, "measurements": dict, "discovery": dict, "groups": list}


def host_baseline(host: str, outcome: HostResult, label: str, key: bytes) -> dict[str, Any]:
    """One host's baseline envelope, or an error saying why this host has none.

    Its id and ``captured_at`` come from the signed time and nonce, so the same result stored
    from a capture or from an import of that run's events is the same file."""
    _checked_host(host)
    res = outcome.results.get(CAPTURE_TASK, {})
    payload = res.get("spse_baseline_json")
    if outcome.outcome in ("failed", "unreachable") or payload is None:
        raise SpseChangeError(outcome.message or f"{outcome.outcome}, no baseline returned")
    if not isinstance(payload, str):
        raise SpseChangeError("the capture module's spse_baseline_json is not a string")
    signed = verify(key, host, payload, res.get(SIGNATURE_KEY))
    try:
        captured = json.loads(payload)
    except (TypeError, ValueError) as exc:
        raise SpseChangeError(f"the capture module returned no valid JSON ({exc})") from None
    if not isinstance(captured, dict) or "data" not in captured:
        raise SpseChangeError("the capture module's result has no 'data'")
    for key, kind in SHAPE.items():
        if not isinstance(captured.get(key, kind()), kind):
            raise SpseChangeError(f"the capture module's '{key}' is not a {kind.__name__}")
    return new_baseline(host, captured, label, signed.signed_at, signed.nonce.encode())
