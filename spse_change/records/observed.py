"""A record of a change already made, from the diff of two stored baselines of one host.

`record new --diff OLD NEW` asks the diff service (the same one `spse-change
diff` runs) what changed, and makes a record of it: the classified items,
the diff as the attachment `diff.json`, and OLD and NEW as the host's
`before` and `after` baselines. A major change goes to consultation; a minor
one waits for the head of the LPSE, whose approval closes it and makes NEW
the host's approved baseline.

    new = observed_record(project, ObservedChange("app1@-1", "app1@latest", "Disk data baru",
                                                  "kapasitas unggahan", details=None))
    record = RecordStore(project).create(new, actor="budi")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spse_change.diff import diff_baselines, load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records.fields import NewRecord, items_of, read_record_details
from spse_change.store.baselines import BaselineStore
from spse_change.store.files import dump_json

DIFF_ATTACHMENT = "diff.json"


@dataclass(frozen=True, slots=True)
class ObservedChange:
    """`record new --diff OLD NEW --title TEXT --reason TEXT [--from FILE]`."""

    old: str  # references as `diff` takes them: an id, HOST@latest, HOST@-N, HOST@approved
    new: str
    title: str
    reason: str  # why the change was made: the request's purpose
    details: Path | None = None  # YAML with request and evaluation fields

    def __post_init__(self) -> None:
        for name in ("title", "reason"):
            if not getattr(self, name).strip():
                raise SpseChangeError(f"record new --diff: --{name} must not be empty")


def observed_record(project: Project, change: ObservedChange) -> NewRecord:
    """The new record of what changed from OLD to NEW (one host), or one line saying why not."""
    request, evaluation = read_record_details(change.details) if change.details else ({}, {})
    store = BaselineStore(project.records_dir)
    old, new = (_stored(store, ref) for ref in (change.old, change.new))
    if old["host"] != new["host"]:
        raise SpseChangeError(f"record new --diff: {change.old} is of host {old['host']} and "
                              f"{change.new} of {new['host']}: a record's diff is of one host")
    report = diff_baselines(old, new, load_policy(project.root))
    if report.not_compared:
        raise SpseChangeError(f"record new --diff: not compared: {', '.join(report.not_compared)}; "
                              "evidence that could not be read is no change record (capture again)")
    if not report.items:
        raise SpseChangeError(f"record new --diff: no changes from {old['id']} to {new['id']}: "
                              "nothing to record")
    host = new["host"]
    return NewRecord(
        title=change.title.strip(), hosts=(host,),
        request={**request, "purpose": change.reason.strip()}, evaluation=evaluation,
        items=items_of(host, report),
        observed_baselines={host: {"before": old["id"], "after": new["id"]}},
        attachments={DIFF_ATTACHMENT: dump_json(report.to_json()).encode()})


def _stored(store: BaselineStore, ref: str) -> dict:
    """A baseline of the store (a file from elsewhere cannot become a host's approved baseline)."""
    baseline = store.load(ref)
    try:
        store.resolve(baseline["id"])
    except SpseChangeError:
        raise SpseChangeError(f"record new --diff: {ref} is not a stored baseline "
                              "(spse-change baseline list)") from None
    return baseline
