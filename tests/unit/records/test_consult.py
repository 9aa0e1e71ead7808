"""A major record after its consultation with ITO LKPP: the outcome, its time standard, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spse_change.diff import diff_baselines, load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import NewRecord, RecordStore, items_of
from spse_change.records.states import CONSULT_OUTCOMES
from spse_change.store.baselines import BaselineStore, new_baseline
from tests.unit.diff.conftest import edited, load_baseline

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def major_record(store: RecordStore, project: Project) -> tuple[str, str, str]:
    """db1 approved, then 64 GB of RAM seen: a major record in consultation (record id, before, after)."""
    baselines = BaselineStore(project.records_dir)
    db1 = load_baseline("db1")
    before = new_baseline("db1", db1, now=T0 - timedelta(days=1))
    after = new_baseline("db1", edited(db1, {("hardware", "memory", "total_mb"): 65536}),
                         now=T0 - timedelta(hours=1))
    for baseline in (before, after):
        baselines.save(baseline)
    baselines.approve(before["id"], by="sari", reason="initial")
    report = diff_baselines(before, after, load_policy(None))
    record = store.create(NewRecord(title="RAM 64 GB", items=items_of("db1", report),
                                    baselines={"db1": before["id"]}), "budi", now=T0)
    return record.id, before["id"], after["id"]


@pytest.mark.parametrize(("outcome", "state", "activity"), [
    ("lkpp", "assistance-requested", "assistance"),
    ("vendor", "proposal-submitted", "proposal"),
    ("internal", "internal", "internal"),
    ("rejected", "rejected", None),
])
def test_each_outcome_has_its_state_and_follow_up(store: RecordStore, project: Project, outcome: str,
                                                  state: str, activity: str | None) -> None:
    record_id, before, _after = major_record(store, project)
    record = store.consult_outcome(record_id, "ani", outcome, "jawaban ITO 2026-12-02",
                                   now=T0 + timedelta(hours=3))
    assert record.state == state
    assert record.consultation == {"outcome": outcome, "note": "jawaban ITO 2026-12-02", "by": "ani",
                                   "by_name": "Ani Lestari", "at": "2026-12-01T05:00:00.000000Z"}
    started = [(a.activity, a.end, a.hours) for a in record.activities]
    assert started[0] == ("consultation", "2026-12-01T05:00:00.000000Z", 120)
    assert started[1:] == ([(activity, None, record.standards[activity])] if activity else [])
    assert record.to_json()["history"][-1] == {"seq": 2, "at": "2026-12-01T05:00:00.000000Z",
                                               "step": "consult", "actor": "ani",
                                               "note": f"{outcome}: jawaban ITO 2026-12-02"}
    assert [i["path"] for _, i in store.covering("db1", before)] == (
        [] if outcome == "rejected" else ["hardware.memory.total_mb"])


def test_outcome_refusals(store: RecordStore, project: Project) -> None:
    record_id, _before, _after = major_record(store, project)
    with pytest.raises(SpseChangeError, match=r"^unknown consultation outcome 'ito' \(known: lkpp, vendor, "
                                              r"internal, rejected\)$"):
        store.consult_outcome(record_id, "ani", "ito", "x")
    with pytest.raises(SpseChangeError, match=r"^--note must say what ITO LKPP answered$"):
        store.consult_outcome(record_id, "ani", "lkpp", " ")
    with pytest.raises(SpseChangeError, match=r"^sari may not consult: only pengelola may"):
        store.consult_outcome(record_id, "sari", "lkpp", "x")
    store.consult_outcome(record_id, "ani", "vendor", "perlu vendor")
    with pytest.raises(SpseChangeError,
                       match=r"is proposal-submitted: cannot consult \(allowed next: close\)$"):
        store.consult_outcome(record_id, "ani", "lkpp", "lagi")
    minor = store.create(NewRecord(title="x"), "budi")
    with pytest.raises(SpseChangeError, match=r"is submitted: cannot consult"):
        store.consult_outcome(minor.id, "ani", "lkpp", "x")


def test_close_after_the_work_approves_the_given_baseline(store: RecordStore, project: Project) -> None:
    record_id, before, after = major_record(store, project)
    store.consult_outcome(record_id, "ani", "internal", "ditangani internal", now=T0 + timedelta(hours=1))
    with pytest.raises(SpseChangeError, match=r"closing it approves each host's baseline after the work; "
                                              r"give --baseline db1@latest$"):
        store.close(record_id, "sari")
    BaselineStore(project.records_dir).save(new_baseline("app1", load_baseline("app1"), now=T0))
    with pytest.raises(SpseChangeError, match=r"^--baseline app1@latest: host app1 is not in CR-.*"
                                              r" \(hosts: db1\)$"):
        store.close(record_id, "sari", baselines=["app1@latest"])
    with pytest.raises(SpseChangeError, match=r"^--baseline db1@-1: host db1 is given twice$"):
        store.close(record_id, "sari", baselines=["db1@latest", "db1@-1"])
    record = store.close(record_id, "sari", "selesai", baselines=["db1@latest"],
                         now=T0 + timedelta(hours=80))
    assert record.state == "closed"
    assert record.baselines["db1"] == {"planned": before, "closed": after}
    assert [(a.activity, a.end is not None) for a in record.activities] == [
        ("consultation", True), ("internal", True)]
    assert [a.activity for a in record.deviations()] == ["internal"]  # 79 h > 72 h
    approved = BaselineStore(project.records_dir)
    assert approved.approved_id("db1") == after
    assert store.covering("db1", after) == []  # the approved state now holds the change


def test_close_baseline_only_after_a_consultation(store: RecordStore) -> None:
    record = store.create(NewRecord(title="x", evaluation={"category": "Emergency"}), "budi")
    with pytest.raises(SpseChangeError, match=r"is submitted: --baseline is for a record closed after "
                                              r"its consultation"):
        store.close(record.id, "sari", baselines=["db1@latest"])


def test_outcomes_are_the_consult_steps_targets() -> None:
    from spse_change.records.states import STEPS
    assert STEPS["consult"].targets == tuple(o.state for o in CONSULT_OUTCOMES.values())
    assert STEPS["consult"].sources == ("consultation",)
