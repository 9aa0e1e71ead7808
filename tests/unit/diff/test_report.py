"""What an admin reads and what tools read: grouped text, versioned JSON, secrets hidden."""

from __future__ import annotations

import json
from typing import Any

import pytest

from spse_change.diff import DiffReport, Policy, diff_baselines, render_text
from spse_change.diff.classify import Classified
from spse_change.diff.compare import Change
from spse_change.diff.report import BaselineRef
from spse_change.diff.values import is_secret
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
    assert f"  minor  config[{APP_CONF}].parsed[db.pass] secret changed   (CFG001)" in text
    document = json.dumps(report.to_json())
    for shown in (text, document, item.reason):
        assert "secret:" not in shown
        assert old_secret not in shown
    (entry,) = report.to_json()["items"]
    assert (entry["old"], entry["new"], entry["secret"]) == ("***", "***", True)
    assert entry["summary"] == "secret changed"


URL = "postgres://epns:{}@db:5432/epns_prod"
MARK_A = "secret:hmac-sha256:" + "a" * 32
MARK_B = "secret:hmac-sha256:" + "b" * 32


@pytest.mark.parametrize(("old", "new", "summary"), [
    (URL.format(MARK_A), URL.format(MARK_B), "secret changed"),
    (URL.format(MARK_A), URL.format(MARK_A).replace("db:5432", "db2:5432"),
     "changed: postgres://epns:***@db:5432/epns_prod → postgres://epns:***@db2:5432/epns_prod"),
    (["--password=" + MARK_A, "-v"], ["--password=" + MARK_B, "-v"], "secret changed"),
    ("plain", URL.format(MARK_A), "changed: plain → postgres://epns:***@db:5432/epns_prod"),
])
def test_embedded_marker_is_masked(old: Any, new: Any, summary: str) -> None:
    item = Classified(Change("config[/etc/x.conf].parsed.url", "changed", old, new, "config"),
                      "minor", "CFG001", "r")
    report = DiffReport(REF, REF, (item,), ignored=0, not_compared={}, categories=None)
    text, document = render_text(report), json.dumps(report.to_json())
    assert f"config[/etc/x.conf].parsed.url {summary}   (CFG001)" in text
    assert report.to_json()["items"][0]["summary"] == summary
    for shown in (text, document):
        assert "a" * 32 not in shown and "b" * 32 not in shown
        assert "secret:hmac" not in shown


@pytest.mark.parametrize("value", [
    "secret:hmac-sha256:" + "0" * 32, "x=secret:hmac-sha256:" + "f" * 32 + ";",
    ["a", {"b": "postgres://u:secret:hmac-sha256:" + "1" * 32 + "@h/d"}],
    {"user:secret:hmac-sha256:" + "2" * 32: "x"},
])
def test_is_secret_finds_a_marker_anywhere(value: Any) -> None:
    assert is_secret(value)


@pytest.mark.parametrize("value", [
    "secret:", "secret:hmac-sha256:xyz", "secret:hmac-sha256:" + "0" * 31, 5, None, ["secret"],
])
def test_is_secret_needs_a_whole_marker(value: Any) -> None:
    assert not is_secret(value)


@pytest.mark.parametrize("field", ["sha256", "hmac"])
def test_file_digest_reads_content_changed(db1: dict[str, Any], policy: Policy,
                                           field: str) -> None:
    conf = "/etc/postgresql/15/main/postgresql.conf"
    old = edited(db1, {("config", conf, field): "1" * 64})
    report = diff_baselines(old, edited(db1, {("config", conf, field): "2" * 64}), policy)
    text = render_text(report)
    assert f"  minor  config[{conf}].{field} content changed   (CFG001)" in text.splitlines()
    assert "1" * 64 not in text and "2" * 64 not in text


def test_added_subtree_holding_a_secret_is_hidden(app1: dict[str, Any], policy: Policy) -> None:
    pgpass = {"kind": "pgpass", "hmac": "c" * 64, "parsed": {"*:*:*:epns": NEW_SECRET}}
    report = diff_baselines(app1, edited(app1, {("config", "/root/.pgpass"): pgpass}), policy)
    assert ('config[/root/.pgpass] added: {"hmac": "' in render_text(report)
            and '"parsed": {"*:*:*:epns": "***"}' in json.dumps(report.to_json()))
    assert NEW_SECRET not in render_text(report) + json.dumps(report.to_json())
    assert report.to_json()["items"][0]["secret"] is True


def test_secret_list_is_secret_bearing() -> None:
    assert Change("x.y", "changed", ["a", NEW_SECRET], ["a"], "x").secret


def test_reason_printed_only_for_major_and_unmatched(db1: dict[str, Any], policy: Policy) -> None:
    """A minor item's reason only restates its line; a major one is what ITO LKPP is told."""
    new = edited(db1, {("hardware", "memory", "total_mb"): 65536, ("os", "kernel"): "6.1.0-28",
                       ("os", "newfact"): "x"})
    lines = render_text(diff_baselines(db1, new, policy)).splitlines()
    at = lines.index("  major  hardware.memory.total_mb changed: 32768 → 65536   (HW002)")
    assert lines[at + 1] == "         RAM added or removed"
    at = lines.index("  minor  os.kernel changed: 6.1.0-27-amd64 → 6.1.0-28   (OS003)")
    assert lines[at + 1].startswith("  major  os.newfact added: x   (UNMATCHED)")
    assert lines[at + 2] == "         no rule matched; unknown changes are consulted"


def test_text_groups_by_category_and_ends_with_one_summary(policy: Policy) -> None:
    report = diff_baselines(load_baseline("db1"), load_baseline("db1-upgraded"), policy)
    lines = render_text(report).splitlines()
    assert lines[-1] == "22 changes: 15 minor, 7 major → MAJOR: consult ITO LKPP"
    assert sum("change" in line and "→ M" in line for line in lines) == 1
    headers = [line for line in lines if line.endswith(":") and not line.startswith(" ")]
    assert headers == ["config:", "database:", "os:", "packages:", "services:"]
    assert "  major  os.major_version changed: 12 → 13   (OS001)" in lines
    assert "         OS release upgrade" in lines
    assert len(lines) == 1 + 5 * 2 + 22 + 7 + 2  # title, headers and gaps, items, major reasons


def test_color_marks_classes_only_when_asked(policy: Policy) -> None:
    report = diff_baselines(load_baseline("db1"), load_baseline("db1-upgraded"), policy)
    assert "\033[" not in render_text(report)
    assert "\033[1;31mmajor" in render_text(report, color=True)


REF = BaselineRef("h-1", "h", "2026-11-28T06:24:00Z")


def report_of(*classes: str) -> DiffReport:
    ref = REF
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
        "schema": "spse-change/diff/2",
        "old": {"id": db1["id"], "host": "db1", "captured_at": db1["captured_at"]},
        "new": {"id": new["id"], "host": "db1", "captured_at": db1["captured_at"]},
        "categories": None,
        "items": [{"category": "hardware", "path": "hardware.memory.total_mb",
                   "kind": "changed", "old": 32768, "new": 65536,
                   "summary": "changed: 32768 → 65536", "class": "major", "rule": "HW002",
                   "reason": "RAM added or removed", "secret": False,
                   "alasan": "RAM ditambah atau dikurangi"}],
        "not_compared": {},
        "complete": True,
        "counts": {"total": 1, "minor": 0, "major": 1, "ignored": 0},
        "verdict": "major",
    }
    assert json.loads(json.dumps(document)) == document


def test_not_compared_is_never_clean() -> None:
    report = DiffReport(REF, REF, (), ignored=0, not_compared={"database": "absent from the new "
                                                                          "baseline"},
                        categories=None)
    assert (report.complete, report.clean, report.verdict) == (False, False, "none")
    assert report.summary_line() == "no changes; not compared: database"
    assert report.to_json()["complete"] is False
    assert report_of().clean and not report_of("minor").clean
