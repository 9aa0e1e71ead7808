"""Drift: what changed on each host since its approved baseline, and which of it is unrecorded.

A change that no change record covers is *unrecorded drift*, an SOP
deviation. Change records do not exist yet, so every change counts as
unrecorded until they do.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spse_change.capture.baseline import CaptureRequest, capture
from spse_change.diff import DiffReport, diff_baselines, load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.runner.playbook import ProgressHandler
from spse_change.store.baselines import BaselineStore


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
    status: str  # clean | drift | no-approved | capture-failed
    reason: str = ""
    report: DiffReport | None = None

    @property
    def unrecorded(self) -> int:
        return len(self.report.items) if self.report else 0


@dataclass
class DriftResult:
    hosts: dict[str, HostDrift] = field(default_factory=dict)

    @property
    def attention(self) -> bool:
        return any(h.status != "clean" for h in self.hosts.values())


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
    else:
        hosts = _limited(store.hosts(), request.limit)
    policy = load_policy(proj.root)
    for host in hosts:
        if store.approved_id(host) is None:
            result.hosts[host] = HostDrift(host, "no-approved", (
                f"no approved baseline: spse-change baseline approve {host}@latest --reason TEXT"))
            continue
        report = diff_baselines(store.load(f"{host}@approved"), store.load(f"{host}@latest"), policy)
        result.hosts[host] = HostDrift(host, "drift" if report.items else "clean", report=report)
    result.hosts = dict(sorted(result.hosts.items()))
    return result


def _limited(hosts: list[str], limit: str | None) -> list[str]:
    """`-l` without an inventory: host-name patterns separated by ',' or ':'."""
    if not limit:
        return hosts
    patterns = [p for p in limit.replace(":", ",").split(",") if p]
    chosen = [h for h in hosts if any(fnmatch.fnmatch(h, p) for p in patterns)]
    if not chosen:
        raise SpseChangeError(f"limit '{limit}' matches no host with stored baselines")
    return chosen
