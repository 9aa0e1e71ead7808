"""Drift: what changed on each host since its approved baseline, and which of it is unrecorded.

A change that no change record covers is *unrecorded drift*, an SOP
deviation. A record in `applying`, `verified` or `closed` (and a major one,
for its major items, from `consultation` until it is closed:
`states.COVERING_MAJOR`) that started from the host's approved baseline
covers each of its items: same host, same path, same new value
(`RecordStore.covering`). Covered changes are listed as recorded,
with the record's id, and are not drift.

Silence is never "clean": a category that either side could not read makes
the host `incomplete`, a stopped capture names its unfinished hosts, and
nothing to check at all is an error.
"""

from __future__ import annotations

import fnmatch
import json
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spse_change.capture.baseline import CaptureRequest, capture
from spse_change.diff import DiffReport, diff_baselines, load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import RecordStore
from spse_change.runner.playbook import ProgressHandler
from spse_change.store.baselines import BaselineStore

SCHEMA = "spse-change/drift/3"  # 3: `recorded` (status and changes); 2: `incomplete`, `unfinished`


@dataclass(frozen=True)
class DriftRequest:
    project: Project
    inventory: Sequence[Path] = ()
    limit: str | None = None
    capture: bool = True
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)
    via: str | None = None  # an execution node that runs the playbook (docs/nodes.md)


@dataclass(frozen=True)
class HostDrift:
    host: str
    status: str  # clean | recorded | drift | incomplete | no-approved | capture-failed | unfinished
    reason: str = ""
    report: DiffReport | None = None  # the unrecorded changes
    recorded: tuple[tuple[str, Mapping[str, Any]], ...] = ()  # (record id, diff item JSON) covered

    @property
    def unrecorded(self) -> int:
        return len(self.report.items) if self.report else 0

    @property
    def not_compared(self) -> dict[str, str]:
        """What either baseline could not read (path → why): never counted as matching."""
        return dict(self.report.not_compared) if self.report else {}

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "unrecorded": self.unrecorded,
                "recorded": [{"record": record_id, **item} for record_id, item in self.recorded],
                "not_compared": self.not_compared,
                "diff": self.report.to_json() if self.report else None}


@dataclass
class DriftResult:
    hosts: dict[str, HostDrift] = field(default_factory=dict)
    interrupted: signal.Signals | None = None  # the signal that stopped the capture

    @property
    def attention(self) -> bool:
        return any(h.status not in ("clean", "recorded") for h in self.hosts.values())

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
                                          request.become_password, via=request.via), progress)
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
    records = RecordStore(proj)
    for host in hosts:
        approved = store.approved_id(host)
        if approved is None:
            result.hosts[host] = HostDrift(host, "no-approved", (
                f"no approved baseline: spse-change baseline approve {host}@latest --reason TEXT"))
            continue
        full = diff_baselines(store.load(f"{host}@approved"), store.load(f"{host}@latest"), policy)
        report, recorded = subtract_recorded(full, records.covering(host, approved))
        status = ("drift" if report.items else "incomplete" if report.not_compared
                  else "recorded" if recorded else "clean")
        reason = f"not compared: {', '.join(report.not_compared)}" if report.not_compared else ""
        result.hosts[host] = HostDrift(host, status, reason, report, recorded)
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


def subtract_recorded(report: DiffReport, covering: Sequence[tuple[str, Mapping[str, Any]]]
                      ) -> tuple[DiffReport, tuple[tuple[str, Mapping[str, Any]], ...]]:
    """The report without the changes records explain, and those changes with the record's id.

    An item is explained by a record item of the same path whose new value
    is the same (both as `diff --json` writes them, secrets masked).
    """
    explained = {(item["path"], _canonical(item.get("new"))): record_id for record_id, item in covering}
    keep, recorded = [], []
    for item, shown in zip(report.items, report.to_json()["items"], strict=True):
        record_id = explained.get((shown["path"], _canonical(shown["new"])))
        if record_id is None:
            keep.append(item)
        else:
            recorded.append((record_id, shown))
    return replace(report, items=tuple(keep)), tuple(recorded)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
