"""`spse-change apply` and `rollback`: the minor-change loop on the hosts of an approved record.

apply: refuse unless the record may be applied (state, class, window: the
record store's own checks; each host still at the baseline the plan was
made against, without drift, with the same targets) → capture a
before-baseline → host by host (`--serial N` at a time): apply.yml (backups,
config test before reload, reload or restart, health), capture after, the
before → after diff must hold exactly the planned paths and be minor, the
after-baseline must pass verify's conformance checks against the approved
baseline with the planned change applied (apply/conformance.py) → verified.
On any failure every host it touched is rolled back (rollback.yml), captured
again and proved equal to its before-baseline: `rolled-back` (exit 1), or
`failed` (exit 3) when a host was not restored. A record left `applying` by
a killed apply is first rolled back on all its hosts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spse_change.apply.conformance import failing_checks
from spse_change.apply.hosts import Reach, capture_hosts, failures, run_change
from spse_change.apply.plan_file import Settings
from spse_change.apply.targets import host_targets, planned_prefixes, written_paths
from spse_change.diff import DiffReport, diff_baselines, load_policy, render_text
from spse_change.diff.flatten import join
from spse_change.errors import RC, SpseChangeError
from spse_change.project import Project
from spse_change.records import Record, RecordStore, checked_id, items_of
from spse_change.records.operators import require_operators
from spse_change.runner.playbook import ProgressHandler
from spse_change.store.baselines import BaselineStore


@dataclass(frozen=True)
class ApplyRequest:
    project: Project
    record_id: str
    actor: str | None
    reach: Reach = field(default_factory=Reach)
    serial: int = 1
    now_reason: str | None = None  # --now --reason: apply outside the window, recorded

    def __post_init__(self) -> None:
        checked_id(self.record_id)
        if self.serial < 1:
            raise SpseChangeError("--serial must be 1 or more")


@dataclass
class LoopResult:
    record: Record
    code: int  # RC.OK verified / rolled back on demand, RC.CHANGES rolled back, RC.BUG failed
    reason: str = ""
    reports: dict[str, DiffReport] = field(default_factory=dict)  # host -> before → after


class _Failed(Exception):
    """A step of the apply failed on some host: roll back."""


class Loop:
    """One record's hosts, plan and baselines, and the steps the commands share."""

    def __init__(self, project: Project, reach: Reach, record: Record,
                 progress: ProgressHandler | None) -> None:
        self.project, self.reach, self.record, self.progress = project, reach, record, progress
        plan = record.plan or {}
        if "settings" not in plan or "targets" not in plan:
            raise SpseChangeError(f"{record.id} has no planned change: it was not made by "
                                  "'spse-change plan'")
        raw = plan["settings"]
        self.settings = Settings(postgresql=raw["postgresql"], application_conf=raw["application_conf"],
                                 instance=raw["instance"], apache=raw["apache"])
        self.targets: Mapping[str, Mapping[str, Any]] = plan["targets"]
        self.baselines = BaselineStore(project.records_dir)
        self.policy = load_policy(project.root)

    def run(self, playbook: str, hosts: Sequence[str]) -> dict[str, str]:
        result = run_change(self.project, self.reach, playbook, ",".join(hosts), self.record.id,
                            self.settings, {h: self.targets[h] for h in hosts}, progress=self.progress)
        if result.interrupted:
            return dict.fromkeys(hosts, f"stopped by {result.interrupted.name}")
        missing = {h: "did not run (unreachable or not in the inventory)" for h in hosts
                   if h not in result.hosts}
        return {**missing, **failures(result)}

    def capture(self, hosts: Sequence[str], label: str) -> dict[str, str]:
        stored, failed = capture_hosts(self.project, self.reach, hosts, label, self.progress)
        if failed:
            host, why = sorted(failed.items())[0]
            raise _Failed(f"{host}: capture {label} failed: {why}")
        return stored

    def diff(self, old_id: str, new_id: str) -> DiffReport:
        return diff_baselines(self.baselines.load(old_id), self.baselines.load(new_id), self.policy)

    def roll_back(self, hosts: Sequence[str], before: Mapping[str, str]) -> tuple[dict[str, str], str]:
        """Roll back `hosts` and prove each equals its before-baseline: ({host: restored id}, problem)."""
        failed = self.run("rollback.yml", hosts)
        try:
            restored = self.capture(hosts, f"{self.record.id} restored")
        except _Failed as exc:
            return {}, str(exc)
        for host in hosts:
            if host in failed:
                return restored, f"{host}: rollback failed: {failed[host]}"
            if host in before:
                report = self.diff(before[host], restored[host])
                if not report.clean:
                    return restored, f"{host} differs from its before-baseline: {report.summary_line()}"
        return restored, ""


def apply(request: ApplyRequest, progress: ProgressHandler | None = None) -> LoopResult:
    project = request.project
    store = RecordStore(project)
    require_operators(store.operators, project.root, "apply").check(request.actor, "apply")
    record = store.get(request.record_id)
    loop = Loop(project, request.reach, record, progress)
    hosts = list(record.hosts)
    if record.state == "applying":  # a killed apply: undo whatever it touched first
        # it started from the planned baselines (no drift was allowed), so they are "before"
        planned = {h: b["planned"] for h, b in record.baselines.items()}
        restored, problem = loop.roll_back(hosts, planned)
        if problem:
            return _failed(store, request.actor, record.id, f"an interrupted apply: {problem}")
        record = store.mark_rolled_back(record.id, request.actor, "an interrupted apply was rolled back",
                                        restored)
    _refuse_early(record, request.now_reason)
    before = loop.capture(hosts, f"{record.id} before")
    _check_unchanged(loop, record, before)
    record = store.start_applying(record.id, request.actor, reason=request.now_reason or "",
                                  outside_window=request.now_reason)
    touched: list[str] = []
    try:
        reports = _apply_hosts(loop, hosts, before, touched, request.serial)
    except _Failed as exc:
        restored, problem = loop.roll_back(touched, before)
        if problem:
            return _failed(store, request.actor, record.id, f"{exc}; {problem}")
        record = store.mark_rolled_back(record.id, request.actor, str(exc), restored)
        return LoopResult(record, RC.CHANGES, str(exc))
    after = {h: reports[h].new.id for h in hosts}
    observed = [item for host in hosts for item in items_of(host, reports[host])]
    record = store.mark_verified(record.id, request.actor, after=after, before=before, observed=observed,
                                 note="before → after diff holds exactly the planned change")
    text = "\n".join(f"== {h}\n{render_text(reports[h])}" for h in hosts)
    record = store.attach_bytes(record.id, request.actor, {"apply-diff.txt": text.encode()},
                                "before → after diff of each host")
    return LoopResult(record, RC.OK, reports=reports)


def _refuse_early(record: Record, now_reason: str | None) -> None:
    """The record store refuses these too; saying so before any capture spares the hosts."""
    if record.cls == "major":
        raise SpseChangeError(f"{record.id} is major: it is consulted with ITO LKPP, never applied "
                              "through this path")
    if record.state not in ("approved", "rolled-back") and not (
            record.emergency and record.state == "submitted"):
        steps = ", ".join(record.next_steps()) or "none"
        raise SpseChangeError(f"{record.id} is {record.state}: cannot apply (allowed next: {steps})")
    if record.in_window() is False and not (now_reason or "").strip():
        start, end = record.window()  # type: ignore[misc]
        raise SpseChangeError(f"{record.id}: now is outside its maintenance window "
                              f"{start.isoformat()}/{end.isoformat()} (--now --reason TEXT overrides)")


def _check_unchanged(loop: Loop, record: Record, before: Mapping[str, str]) -> None:
    """Each host is still where the plan found it: its approved baseline, no drift, same targets."""
    for host in record.hosts:
        planned = record.baselines[host]["planned"]
        approved = loop.baselines.approved_id(host)
        if approved != planned:
            raise SpseChangeError(f"{host}: its approved baseline is {approved}, not {planned} the "
                                  f"plan was made against: plan again")
        report = loop.diff(planned, before[host])
        if not report.clean:
            raise SpseChangeError(f"{host} has drifted from its approved baseline "
                                  f"({report.summary_line()}): record or approve it first")
        if host_targets(loop.baselines.load(before[host]), loop.settings) != loop.targets[host]:
            raise SpseChangeError(f"{host} no longer matches the plan (cluster, site file or service "
                                  "moved): plan again")


def _apply_hosts(loop: Loop, hosts: Sequence[str], before: Mapping[str, str], touched: list[str],
                 serial: int) -> dict[str, DiffReport]:
    reports = {}
    for start in range(0, len(hosts), serial):
        batch = list(hosts[start:start + serial])
        touched += batch
        failed = loop.run("apply.yml", batch)
        if failed:
            host, why = sorted(failed.items())[0]
            raise _Failed(f"{host}: {why}")
        after = loop.capture(batch, f"{loop.record.id} after")
        for host in batch:
            reports[host] = loop.diff(before[host], after[host])
            _check_exactly_planned(loop, host, before[host], reports[host])
            _check_conformance(loop, host, reports[host])
    return reports


def _check_exactly_planned(loop: Loop, host: str, before_id: str, report: DiffReport) -> None:
    """The diff holds the lines the plan writes, nothing outside the planned settings and files
    (but values PostgreSQL derives itself, like wal_buffers from shared_buffers), nothing major."""
    baseline = loop.baselines.load(before_id)
    allowed = _allowed(loop, baseline, loop.baselines.load(report.new.id))
    seen = {item.change.path for item in report.items}
    stray = sorted(p for p in seen if not any(p == a or p.startswith((f"{a}.", f"{a}[")) for a in allowed))
    if stray:
        raise _Failed(f"{host}: the change touched more than planned: {', '.join(stray[:3])}")
    missing = written_paths(baseline, loop.settings, loop.policy) - seen
    if missing:
        raise _Failed(f"{host}: the planned change is not there after apply: "
                      f"{', '.join(sorted(missing)[:3])}")
    if report.verdict == "major":
        raise _Failed(f"{host}: the change turned out major: {report.summary_line()}")


def _check_conformance(loop: Loop, host: str, report: DiffReport) -> None:
    """The after-baseline passes `verify`'s conformance checks against the approved baseline with
    the planned change applied (docs/verify.md); the standard checks are not the change's business."""
    approved, after = loop.baselines.load(f"{host}@approved"), loop.baselines.load(report.new.id)
    failing = failing_checks(loop.project, host, approved, after, _allowed(loop, approved, after),
                             loop.policy)
    if failing:
        more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
        raise _Failed(f"{host}: conformance failed: {', '.join(failing[:5])}{more}")


def _allowed(loop: Loop, before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """The flat paths the change may move: the planned ones and those PostgreSQL derives."""
    return (*planned_prefixes(before, loop.settings), *_derived(after))


DERIVED_SOURCES = ("default", "override")  # PostgreSQL computed it; no file or admin set it


def _derived(after: Mapping[str, Any]) -> list[str]:
    """The live settings no file sets, which PostgreSQL computes (shared_memory_size, wal_buffers)."""
    settings = (after["data"].get("database") or {}).get("settings") or {}
    return [join("database.settings", name) for name, entry in settings.items()
            if entry.get("source") in DERIVED_SOURCES]


def _failed(store: RecordStore, actor: str | None, record_id: str, why: str) -> LoopResult:
    record = store.mark_failed(record_id, actor, f"the rollback did not restore: {why}")
    return LoopResult(record, RC.BUG, why)


@dataclass(frozen=True)
class RollbackRequest:
    project: Project
    record_id: str
    actor: str | None
    reason: str
    reach: Reach = field(default_factory=Reach)

    def __post_init__(self) -> None:
        checked_id(self.record_id)


def rollback(request: RollbackRequest, progress: ProgressHandler | None = None) -> LoopResult:
    """Roll back a verified record on demand: only while each host's approved baseline is still
    the record's after-baseline (a later change on top would be undone with it)."""
    project = request.project
    store = RecordStore(project)
    require_operators(store.operators, project.root, "roll-back").check(request.actor, "roll-back")
    record = store.get(request.record_id)
    if record.state != "verified":
        steps = ", ".join(record.next_steps()) or "none"
        raise SpseChangeError(f"{record.id} is {record.state}: cannot roll back on demand "
                              f"(allowed next: {steps})")
    loop = Loop(project, request.reach, record, progress)
    for host, kept in record.baselines.items():
        if loop.baselines.approved_id(host) != kept.get("after"):
            raise SpseChangeError(f"{host} has changed since {record.id} was verified (approved "
                                  f"baseline {loop.baselines.approved_id(host)}): roll back later "
                                  "changes first")
    before = {h: b["before"] for h, b in record.baselines.items()}
    restored, problem = loop.roll_back(list(record.hosts), before)
    if problem:
        return _failed(store, request.actor, record.id, problem)
    record = store.mark_rolled_back(record.id, request.actor, request.reason, restored)
    return LoopResult(record, RC.OK, request.reason)
