"""Baseline conformance: every approved path asserted, drift fails naming the path, secrets never shown."""

from __future__ import annotations

import copy
import datetime as dt

from spse_change.store.baselines import BaselineStore
from spse_change.verify.junit import junit_xml
from spse_change.verify.service import run_checks
from tests.unit.verify.conftest import APP_CONF, SECRET, snapshot

TODAY = dt.date(2026, 11, 28)
WORK_MEM = "conformance:database.settings.work_mem.setting"


def approved(project, data):
    snap = snapshot(data=copy.deepcopy(data))
    store = BaselineStore(project.records_dir)
    store.save(dict(snap.baseline))
    store.approve("aio1@latest", "tester", "unit test")
    return snap


def conformance(results):
    return {r.check: r for r in results if r.check.startswith("conformance")}


def test_an_unchanged_host_conforms_on_every_approved_path(project, data):
    approved(project, data)
    found = conformance(run_checks(project, {"aio1": snapshot(data=data)}, today=TODAY))
    assert {r.outcome for r in found.values()} == {"passed"}
    for path in (WORK_MEM, "conformance:services.postgresql.state",
                 "conformance:ports[tcp/127.0.0.1:5432].process", "conformance:os.version",
                 "conformance:spse.instances.spse.version",
                 f"conformance:config[{APP_CONF}].parsed[db.pass]"):
        assert path in found
    # the policy ignores the sync flag (runtime state): not asserted
    assert "conformance:os.time_sync.synchronized" not in found
    assert "conformance:os.time_sync.service" in found


def test_a_setting_changed_behind_our_back_fails_naming_it(project, data):
    approved(project, data)
    data["database"]["settings"]["work_mem"]["setting"] = "8192"
    data["ports"]["tcp/0.0.0.0:8080"] = {"process": "python3"}
    found = conformance(run_checks(project, {"aio1": snapshot(data=data)}, today=TODAY))
    failed = {c: r.message for c, r in found.items() if r.outcome == "failed"}
    assert failed == {WORK_MEM: "approved 4096, now 8192 (minor)",
                      "conformance:ports[tcp/0.0.0.0:8080]":
                          'not in the approved baseline: {"process": "python3"} (minor)'}


def test_a_changed_secret_fails_without_showing_either_value(project, data):
    approved(project, data)
    data["config"][APP_CONF]["parsed"]["db.pass"] = "secret:hmac-sha256:" + "cd" * 16
    results = run_checks(project, {"aio1": snapshot(data=data)}, today=TODAY)
    result = conformance(results)[f"conformance:config[{APP_CONF}].parsed[db.pass]"]
    assert (result.outcome, result.message) == ("failed", "approved ***, now *** (minor)")
    xml = junit_xml(results)
    assert "hmac-sha256" not in xml and SECRET not in xml and "cdcd" not in xml


def test_a_removed_service_fails_once_at_its_root(project, data):
    approved(project, data)
    del data["services"]["apache2"]
    found = conformance(run_checks(project, {"aio1": snapshot(data=data)}, today=TODAY))
    failed = [c for c, r in found.items() if r.outcome == "failed"]
    assert failed == ["conformance:services.apache2"]


def test_the_expected_state_overrides_the_approved_baseline(project, data):
    approved(project, data)
    planned = copy.deepcopy(data)
    planned["database"]["settings"]["work_mem"]["setting"] = "8192"
    results = run_checks(project, {"aio1": snapshot(data=copy.deepcopy(planned))},
                         expected={"aio1": snapshot(data=planned).baseline}, today=TODAY)
    assert {r.outcome for r in conformance(results).values()} == {"passed"}


def test_a_conformance_check_is_waived_by_its_id(project, data):
    approved(project, data)
    data["database"]["settings"]["work_mem"]["setting"] = "8192"
    (project.root / "waivers.yml").write_text(
        f"waivers: [{{host: aio1, check: '{WORK_MEM}', reason: tuning trial, expires: 2026-12-31}}]\n")
    found = conformance(run_checks(project, {"aio1": snapshot(data=data)}, today=TODAY))
    assert found[WORK_MEM].outcome == "waived"


def test_an_uncaptured_category_is_a_failure_not_a_pass(project, data):
    approved(project, data)
    broken = copy.deepcopy(data)
    del broken["database"]
    found = conformance(run_checks(project, {"aio1": snapshot(
        data=broken, incomplete={"database": "psql: connection refused"})}, today=TODAY))
    assert found["conformance:database"].outcome == "failed"
    assert "psql: connection refused" in found["conformance:database"].message
