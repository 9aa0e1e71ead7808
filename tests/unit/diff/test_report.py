"""What an admin reads and what tools read: grouped text, versioned JSON, secrets hidden."""

from __future__ import annotations

import json
from typing import Any

import pytest

from spse_change.diff import DiffReport, Policy, diff_baselines, render_text
from spse_change.diff.classify import Classified
from spse_change.diff.compare import Change
from spse_change.diff.report import BaselineRef
from tests.unit.diff.conftest import edited, load_baseline

APP_CONF = "/home/appserv/spse4/webapp/conf/application.conf"
NEW_SECRET = "secret:hmac-sha256:00000000000000000000000000000001"


def test_secret_change_is_minor_and_never_shown(app1: dict[str, Any], policy: Policy) -> None:
    old_secret = app1["data"]["config"][APP_CONF]["parsed"]["db.pass"]
    report = diff_baselines(app1, edited(app1, {
        ("config", APP_CONF, "parsed", "db.pass"): NEW_SECRET}), policy)
    (item,) = report.items
    assert (item.change.path, item.cls) == (f"config[{APP_CONF}].parsed[db.pass]", "minor")
    text = render_text(report)
    assert f"config[{APP_CONF}].parsed[db.pass] secret changed" in text
    document = json.dumps(report.to_json())
    for shown in (text, document, item.reason):
        assert "secret:" not in shown
        assert old_secret not in shown
    (entry,) = report.to_json()["items"]
    assert (entry["old"], entry["new"], entry["secret"]) == (None, None, True)


def test_added_subtree_holding_a_secret_is_hidden(app1: dict[str, Any], policy: Policy) -> None:
    pgpass = {"kind": "pgpass", "hmac": NEW_SECRET, "parsed": {"*:*:*:epns": NEW_SECRET}}
    report = diff_baselines(app1, edited(app1, {("config", "/root/.pgpass"): pgpass}), policy)
    assert "config[/root/.pgpass] secret added" in render_text(report)
    assert report.to_json()["items"][0]["new"] is None


def test_secret_list_is_secret_bearing() -> None:
    assert Change("x.y", "changed", ["a", NEW_SECRET], ["a"], "x").secret


def test_text_groups_by_category_and_ends_with_one_summary(policy: Policy) -> None:
    report = diff_baselines(load_baseline("db1"), load_baseline("db1-upgraded"), policy)
    lines = render_text(report).splitlines()
    assert lines[-1] == "22 changes: 15 minor, 7 major → MAJOR: consult ITO LKPP"
    assert sum("change" in line and "→ M" in line for line in lines) == 1
    headers = [line for line in lines if line.endswith(":") and not line.startswith(" ")]
    assert headers == ["config:", "database:", "os:", "packages:", "services:"]
    assert "  major  os.major_version changed: 12 → 13" in lines
    assert "         OS001: OS release upgrade (os.major_version: 12 → 13)" in lines


def test_color_marks_classes_only_when_asked(policy: Policy) -> None:
    report = diff_baselines(load_baseline("db1"), load_baseline("db1-upgraded"), policy)
    assert "\033[" not in render_text(report)
    assert "\033[1;31mmajor" in render_text(report, color=True)


def report_of(*classes: str) -> DiffReport:
    ref = BaselineRef("h-1", "h", "2026-11-28T06:24:00Z")
    items = tuple(Classified(Change(f"os.x{n}", "changed", 1, 2, "os"), cls, "R", "why")  # type: ignore[arg-type]
                  for n, cls in enumerate(classes))
    return DiffReport(ref, ref, items, ignored=0, not_compared={}, categories=None)


@pytest.mark.parametrize(("classes", "summary", "verdict"), [
    (("minor", "minor", "major", "minor", "minor"),
     "5 changes: 4 minor, 1 major → MAJOR: consult ITO LKPP", "major"),
    (("minor",) * 3, "3 changes: 3 minor → MINOR: LPSE handles it internally", "minor"),
    (("major",), "1 change: 1 major → MAJOR: consult ITO LKPP", "major"),
    ((), "no changes", "none"),
])
def test_summary_line(classes: tuple[str, ...], summary: str, verdict: str) -> None:
    report = report_of(*classes)
    assert (report.summary_line(), report.verdict) == (summary, verdict)
    assert render_text(report).splitlines()[-1] == summary


def test_json_document(db1: dict[str, Any], policy: Policy) -> None:
    new = edited(db1, {("hardware", "memory", "total_mb"): 65536})
    document = diff_baselines(db1, new, policy).to_json()
    assert document == {
        "schema": "spse-change/diff/1",
        "old": {"id": db1["id"], "host": "db1", "captured_at": db1["captured_at"]},
        "new": {"id": new["id"], "host": "db1", "captured_at": db1["captured_at"]},
        "categories": None,
        "items": [{"category": "hardware", "path": "hardware.memory.total_mb",
                   "kind": "changed", "old": 32768, "new": 65536, "class": "major",
                   "rule": "HW002",
                   "reason": "memory changed (hardware.memory.total_mb): RAM added or removed",
                   "secret": False}],
        "not_compared": {},
        "counts": {"total": 1, "minor": 0, "major": 1, "ignored": 0},
        "verdict": "major",
    }
    assert json.loads(json.dumps(document)) == document
