"""Drift: what changed on each host since its approved baseline, and which of it is unrecorded.

A change that no change record covers is *unrecorded drift*, an SOP
deviation. Change records do not exist yet, so every change counts as
unrecorded until they do.

Silence is never "clean": a category that either side could not read makes
the host `incomplete`, a stopped capture names its unfinished hosts, and
nothing to check at all is an error.
"""

from __future__ import annotations

import fnmatch
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.capture.baseline import CaptureRequest, capture
from spse_change.diff import DiffReport, diff_baselines, load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.runner.playbook import ProgressHandler
from spse_change.store.baselines import BaselineStore

SCHEMA = "spse-change/drift/2"  # 2: `incomplete` and `unfinished` statuses, `not_compared`, `interrupted`


@dataclass(frozen=True)
class DriftRequest:
    project: Project
    inventory: Sequence[Path] = ()
    limit: str | None = None
    capture: bool = True
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HostDrift:
    host: str
    status: str  # clean | drift | incomplete | no-approved | capture-failed | unfinished
    reason: str = ""
    report: DiffReport | None = None

    @property
    def unrecorded(self) -> int:
        return len(self.report.items) if self.report else 0

    @property
    def not_compared(self) -> dict[str, str]:
        """What either baseline could not read (path → why): never counted as matching."""
        return dict(self.report.not_compared) if self.report else {}

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "unrecorded": self.unrecorded,
                "not_compared": self.not_compared,
                "diff": self.report.to_json() if self.report else None}


@dataclass
class DriftResult:
    hosts: dict[str, HostDrift] = field(default_factory=dict)
    interrupted: signal.Signals | None = None  # the signal that stopped the capture

    @property
    def attention(self) -> bool:
        return any(h.status != "clean" for h in self.hosts.values())

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "interrupted": self.interrupted.name if self.interrupted else None,
                "hosts": {h.host: h.to_json() for h in self.hosts.values()}}


def check_drift(request: DriftRequest, progress: ProgressHandler | None = None) -> DriftResult:
    proj = request.project
    store = BaselineStore(proj.records_dir)
    result = DriftResult()
    if request.capture:
        captured = capture(CaptureRequest(proj, request.inventory, request.limit, "drift check",
                                          request.verbosity, request.vault_password_file,
                                          request.become_password), progress)
        hosts = sorted(captured.stored)
        for host, why in captured.failed.items():
            result.hosts[host] = HostDrift(host, "capture-failed", why)
        for host in captured.unfinished:
            result.hosts[host] = HostDrift(host, "unfinished", (
                f"capture stopped by {captured.interrupted.name if captured.interrupted else 'a signal'}"
                " before this host finished"))
        result.interrupted = captured.interrupted
    else:
        hosts = _limited(store.hosts(), request.limit, store.root)
    policy = load_policy(proj.root)
    for host in hosts:
        if store.approved_id(host) is None:
            result.hosts[host] = HostDrift(host, "no-approved", (
                f"no approved baseline: spse-change baseline approve {host}@latest --reason TEXT"))
            continue
        report = diff_baselines(store.load(f"{host}@approved"), store.load(f"{host}@latest"), policy)
        status = "drift" if report.items else "incomplete" if report.not_compared else "clean"
        reason = f"not compared: {', '.join(report.not_compared)}" if report.not_compared else ""
        result.hosts[host] = HostDrift(host, status, reason, report)
    result.hosts = dict(sorted(result.hosts.items()))
    return result


def _limited(hosts: list[str], limit: str | None, root: Path) -> list[str]:
    """`-l` without an inventory: host-name patterns separated by ',' or ':'. An empty answer is
    an error: a check of nothing must not read as a clean fleet."""
    if not hosts:
        raise SpseChangeError(f"nothing to check: no stored baselines in {root} "
                              "(run 'spse-change baseline capture' first)")
    if not limit:
        return hosts
    patterns = [p for p in limit.replace(":", ",").split(",") if p]
    chosen = [h for h in hosts if any(fnmatch.fnmatch(h, p) for p in patterns)]
    if not chosen:
        raise SpseChangeError(f"nothing to check: limit '{limit}' matches no host with stored baselines")
    return chosen
