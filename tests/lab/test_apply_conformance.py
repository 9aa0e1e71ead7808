"""apply's conformance step on the lab: a verified change passes `verify`'s conformance on its host.

Run under the lab lock:
    flock /tmp/spse-lab.lock .venv/bin/pytest tests/lab/test_apply_conformance.py -s
A conformance failure that rolls back cannot be provoked honestly here (what
moves besides the plan is caught first by the exactly-planned check); the
decision is unit-tested in tests/unit/apply/test_conformance.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from spse_change.apply.conformance import failing_checks
from spse_change.apply.plan_file import Settings
from spse_change.apply.targets import planned_prefixes
from spse_change.diff import load_policy
from spse_change.project import Project
from spse_change.store.baselines import BaselineStore
from tests.lab.test_apply import (  # settings_restored: autouse, puts the db hosts' settings back
    OPERATORS,
    apply,
    approve,
    cli,
    ok,
    plan,
    said,
    settings_restored,  # noqa: F401
    show,
    write_plan,
)

pytestmark = pytest.mark.lab


def test_an_applied_change_passes_conformance_on_its_host(lab: Any, tmp_path: Path) -> None:
    host = next(h for h in lab.hosts.values() if h.kind == "bookworm" and "spse_db" in h.groups)
    (tmp_path / "operators.yml").write_text(yaml.safe_dump(OPERATORS))
    ok(cli(tmp_path, "baseline", "capture", "-i", str(lab.inventory), "-l", host.name))
    ok(cli(tmp_path, "baseline", "approve", f"{host.name}@latest", "--reason", "lab", "--as", "sari"))
    created = plan(tmp_path, lab, write_plan(tmp_path, "conform", [host.name],
                                             {"postgresql": {"work_mem": "12MB"}}))
    approve(tmp_path, created["id"])
    started = time.monotonic()
    proc = apply(tmp_path, lab, created["id"])
    took = time.monotonic() - started
    assert proc.returncode == 0, said(proc)
    assert json.loads(proc.stdout)["state"] == "verified"
    assert show(host, "work_mem") == "12MB"

    verify = cli(tmp_path, "verify", "-i", str(lab.inventory), "-l", host.name, "--json")
    checks = json.loads(verify.stdout)["hosts"][host.name]["checks"]
    conformance = [c for c in checks if c["check"].startswith("conformance")]
    assert conformance
    assert [c for c in conformance if c["outcome"] != "passed"] == []
    assert verify.returncode == 0, said(verify)

    # the step apply added, timed in process on the same baselines
    kept = json.loads(ok(cli(tmp_path, "record", "show", created["id"], "--json")))
    store, project = BaselineStore(Project(tmp_path).records_dir), Project(tmp_path)
    approved = store.load(kept["baselines"][host.name]["planned"])
    after = store.load(kept["baselines"][host.name]["after"])
    prefixes = planned_prefixes(approved, Settings(postgresql={"work_mem": "12MB"}))
    t0 = time.monotonic()
    assert failing_checks(project, host.name, approved, after, prefixes, load_policy(tmp_path)) == []
    print(f"\napply took {took:.1f} s; its conformance step {time.monotonic() - t0:.3f} s on {host.name}")
