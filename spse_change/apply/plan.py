"""`spse-change plan`: check a planned change against the live servers and file it as a record.

file checked → who acts checked → each host's approved baseline gives the
role its targets → apply.yml in check + diff mode (reads pg_settings, shows
file edits, changes nothing) → values checked against pg_settings → the
change as the approved baseline will look after it, classified by the
policy → a `submitted` record (or `consultation` when major) holding the
plan, the targets and the preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.apply.hosts import READ_TASK, Reach, failures, run_change
from spse_change.apply.pg_values import check_value
from spse_change.apply.plan_file import PlannedChange, read_planned_change
from spse_change.apply.targets import host_targets, planned_baseline
from spse_change.diff import DiffReport, diff_baselines, load_policy, render_text
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import NewRecord, RecordStore, items_of
from spse_change.records.operators import require_operators
from spse_change.records.record import Record
from spse_change.runner.playbook import HostResult, PlaybookResult, ProgressHandler
from spse_change.store.baselines import BaselineStore

PLAN_RECORD = "plan"  # the record id the check run names (it backs nothing up)


@dataclass(frozen=True)
class PlanRequest:
    project: Project
    file: Path
    actor: str | None
    reach: Reach = field(default_factory=Reach)


@dataclass
class PlanResult:
    record: Record
    reports: dict[str, DiffReport]  # host -> approved → planned

    def text(self) -> str:
        return preview_text(self.reports)


def preview_text(reports: Mapping[str, DiffReport]) -> str:
    """Per host: the planned change as a classified diff (the role's file edits run with
    `diff: false`: Ansible's diff of application.conf or the site file would carry its secrets)."""
    return "\n".join(f"== {host}\n{render_text(report)}" for host, report in sorted(reports.items()))


def plan(request: PlanRequest, progress: ProgressHandler | None = None) -> PlanResult:
    project = request.project
    change = read_planned_change(request.file)
    store = RecordStore(project)
    require_operators(store.operators, project.root, "create").check(request.actor, "create")
    baselines = BaselineStore(project.records_dir)
    approved = _approved(baselines)
    targets = {host: _targets(baseline, change) for host, baseline in approved.items()}
    run = run_change(project, request.reach, "apply.yml", request.reach.pattern(change.hosts),
                     PLAN_RECORD, change.settings, targets, check=True, progress=progress)
    hosts = _checked_run(run, change.hosts)
    reports = {}
    for host in hosts:
        rows = _rows(run.hosts[host])
        for name, value in change.settings.postgresql.items():
            problem = check_value(name, value, rows.get(name))
            if problem:
                raise SpseChangeError(f"{host}: {problem}")
        after = planned_baseline(approved[host], change.settings, rows)
        reports[host] = diff_baselines(approved[host], after, load_policy(project.root))
    items = tuple(item for host in hosts for item in items_of(host, reports[host]))
    preview = preview_text(reports)
    record = store.create(NewRecord(
        title=change.title, hosts=tuple(hosts), request={"purpose": change.reason},
        evaluation=change.evaluation, items=items,
        baselines={host: approved[host]["id"] for host in hosts},
        plan={**change.to_json(), "targets": {host: targets[host] for host in hosts}},
        attachments={request.file.name: request.file.read_bytes(),
                     "plan-preview.txt": preview.encode()}), request.actor)
    return PlanResult(record, reports)


def _approved(baselines: BaselineStore) -> dict[str, dict[str, Any]]:
    """Every host's approved baseline (hosts without one get no targets, and the role says so)."""
    found = {}
    for host in baselines.hosts():
        if baselines.approved_id(host):
            found[host] = baselines.load(f"{host}@approved")
    return found


def _targets(baseline: Mapping[str, Any], change: PlannedChange) -> dict[str, Any]:
    try:
        return host_targets(baseline, change.settings)
    except SpseChangeError as exc:
        return {"error": exc.message}


def _checked_run(run: PlaybookResult, pattern: str) -> list[str]:
    if run.interrupted:
        raise SpseChangeError(f"plan stopped by {run.interrupted.name}; no record made")
    if not run.hosts:
        raise SpseChangeError(f"'{pattern}' matches no host in groups spse_app or spse_db")
    failed = failures(run)
    if failed:
        host, why = sorted(failed.items())[0]
        raise SpseChangeError(f"{host}: {why} (no record made)")
    return sorted(run.hosts)


def _rows(result: HostResult) -> dict[str, Mapping[str, Any]]:
    stdout = result.results.get(READ_TASK, {}).get("stdout")
    return json.loads(stdout)["settings"] if stdout else {}

