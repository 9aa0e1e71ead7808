"""apply's conformance step: the after-baseline against the approved one with the planned change applied."""

from __future__ import annotations

import copy
import datetime as dt
from types import SimpleNamespace

import pytest

from spse_change.apply.conformance import failing_checks, planned_state
from spse_change.apply.loop import _check_conformance, _Failed
from spse_change.apply.plan_file import Settings
from spse_change.diff import diff_baselines, load_policy
from spse_change.project import Project
from spse_change.store.baselines import BaselineStore
from tests.unit.verify.conftest import DATA, HBA, snapshot

TODAY = dt.date(2026, 11, 28)
AUTO = "/var/lib/postgresql/15/main/postgresql.auto.conf"
PLANNED = ("database.settings.work_mem", f"config[{AUTO}]")


@pytest.fixture
def project(tmp_path) -> Project:
    return Project(tmp_path)


def changed(work_mem: str = "8192") -> dict:
    """The host after a work_mem change: the live value and the auto.conf line that sets it."""
    data = copy.deepcopy(DATA)
    data["database"]["settings"]["work_mem"].update(setting=work_mem, sourcefile=AUTO)
    data["config"][AUTO] = {"kind": "postgresql_conf", "owner": "postgres", "group": "postgres",
                            "mode": "0600", "size": 40, "sha256": "11" * 32,
                            "parsed": {"work_mem": f"{int(work_mem) // 1024}MB"}}
    return data


def failing(project, after_data, incomplete=None):
    approved = snapshot(data=copy.deepcopy(DATA)).baseline
    after = snapshot(data=after_data, incomplete=incomplete).baseline
    return failing_checks(project, "aio1", approved, after, PLANNED, load_policy(project.root), TODAY)


def test_the_planned_change_applied_conforms(project):
    assert failing(project, changed()) == []


def test_the_planned_state_takes_only_the_planned_paths_from_after():
    approved = snapshot(data=copy.deepcopy(DATA)).baseline
    after_data = changed()
    after_data["services"]["apache2"]["state"] = "stopped"
    state = planned_state(approved, snapshot(data=after_data).baseline, PLANNED)
    assert state["data"]["database"]["settings"]["work_mem"]["setting"] == "8192"
    assert state["data"]["config"][AUTO]["parsed"] == {"work_mem": "8MB"}
    assert state["data"]["services"]["apache2"]["state"] == "running"
    assert state["data"]["database"]["settings"]["port"] == DATA["database"]["settings"]["port"]


def test_anything_else_that_moved_fails_naming_its_check(project):
    after = changed()
    after["config"][HBA]["parsed"]["rules"]["host all all 0.0.0.0/0"] = {
        "order": 3, "method": "trust", "options": {}}
    after["services"]["apache2"]["state"] = "stopped"
    assert failing(project, after) == [
        f"conformance:config[{HBA}].parsed.rules[host all all 0.0.0.0/0]",
        "conformance:services.apache2.state"]


def test_a_waiver_in_force_lets_a_path_pass(project):
    after = changed()
    after["services"]["apache2"]["state"] = "stopped"
    (project.root / "waivers.yml").write_text(
        "waivers: [{host: aio1, check: 'conformance:services.apache2.state', reason: migrasi, "
        "expires: 2026-12-31}]\n")
    assert failing(project, after) == []


def test_a_category_the_after_capture_could_not_read_fails(project):
    after = changed()
    del after["database"]
    assert failing(project, after, {"database": "psql: connection refused"}) == ["conformance:database"]


def discovered(data: dict) -> dict:
    """A stored baseline: the snapshot's, with the SPSE cluster the capture discovered."""
    baseline = dict(snapshot(data=copy.deepcopy(data)).baseline)
    baseline["discovery"] = {"postgresql": {"5432": {"category": "database",
                                                     "data_directory": AUTO.rsplit("/", 1)[0]}}}
    return baseline


def test_apply_rolls_back_naming_the_failing_checks(project):
    """The loop's step: a failing check is a _Failed (the loop's rollback trigger) naming its id."""
    store = BaselineStore(project.records_dir)
    approved = discovered(DATA)
    store.save(approved)
    store.approve(approved["id"], "tester", "unit test")
    moved = changed()
    moved["services"]["apache2"]["state"] = "stopped"
    after = discovered(moved)
    store.save(after)
    policy = load_policy(project.root)
    loop = SimpleNamespace(project=project, baselines=store, policy=policy,
                           settings=Settings(postgresql={"work_mem": "8MB"}))
    with pytest.raises(_Failed, match=r"^aio1: conformance failed: conformance:services\.apache2\.state$"):
        _check_conformance(loop, "aio1", diff_baselines(approved, after, policy))
    planned_only = discovered(changed())
    store.save(planned_only)
    _check_conformance(loop, "aio1", diff_baselines(approved, planned_only, policy))
