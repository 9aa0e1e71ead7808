"""A host approved under baseline schema 1 does not drift after the upgrade to schema 2."""

from __future__ import annotations

import json
from typing import Any

import pytest

from spse_change.diff import Policy, diff_baselines, render_text
from spse_change.store.baselines import checked_baseline
from tests.unit.diff.conftest import edited, load_baseline

APP_CONF = "/home/appserv/spse4/webapp/conf/application.conf"
SPSE_CONF = "/etc/httpd/conf.d/spse.conf"
MARK = "secret:hmac-sha256:" + "e" * 32
JDK8 = "/usr/lib/jvm/java-1.8.0-openjdk"


def v1(name: str) -> dict[str, Any]:
    """A recorded schema-1 baseline as the store hands it out: migrated on read."""
    return checked_baseline(load_baseline(name), name)


def as_v2(baseline: dict[str, Any], edits: dict[tuple[str, ...], Any],
          groups: list[str]) -> dict[str, Any]:
    """The same host captured again by schema 2, which records more."""
    new = edited(baseline, edits)
    del new["migrated_from"]
    new["groups"] = groups
    return new


def upgraded_app1(extra: dict[tuple[str, ...], Any] | None = None) -> dict[str, Any]:
    old = v1("app1")
    spse_conf = old["data"]["config"][SPSE_CONF]
    digest = spse_conf.get("sha256")
    edits: dict[tuple[str, ...], Any] = {
        ("spse", "jdks"): {JDK8: {"version": "1.8.0_412"}},
        ("spse", "instances", "spse4", "java_home"): JDK8,
        ("database_5433",): {"server_version_num": "130016", "settings": {}},
        ("config", SPSE_CONF): {**{k: v for k, v in spse_conf.items() if k != "sha256"},
                                "hmac": "f" * 64, "parse_error": "line 3: unexpected '<'"},
        **(extra or {}),
    }
    assert digest is not None, "fixture: spse.conf had a plain digest under schema 1"
    return as_v2(old, edits, ["spse_app"])


def test_schema_2_additions_are_not_drift(policy: Policy) -> None:
    report = diff_baselines(v1("app1"), upgraded_app1(), policy)
    assert report.items == ()
    assert report.clean, report.not_compared
    assert report.ignored == 6  # jdks, java_home, database_5433, sha256, hmac, parse_error


def test_a_real_change_across_the_upgrade_is_still_seen(policy: Policy) -> None:
    report = diff_baselines(v1("app1"), upgraded_app1(
        {("spse", "instances", "spse4", "http_port"): 9010}), policy)
    assert [(i.change.path, i.cls, i.rule_id) for i in report.items] == [
        ("spse.instances.spse4.http_port", "minor", "SPSE005")]


def test_secret_schema_1_kept_in_clear_is_redacted_not_changed(policy: Policy) -> None:
    clear = "postgres://epns:Rahasia123@db1:5432/epns_prod"
    old = edited(v1("app1"), {("config", APP_CONF, "parsed", "db.url"): clear})
    same = upgraded_app1({("config", APP_CONF, "parsed", "db.url"):
                          f"postgres://epns:{MARK}@db1:5432/epns_prod"})
    assert diff_baselines(old, same, policy).clean
    moved = upgraded_app1({("config", APP_CONF, "parsed", "db.url"):
                           f"postgres://epns:{MARK}@db2:5432/epns_prod"})
    report = diff_baselines(old, moved, policy)
    (item,) = report.items
    assert item.change.path == f"config[{APP_CONF}].parsed[db.url]"
    shown = render_text(report) + json.dumps(report.to_json())
    assert "Rahasia123" not in shown and "e" * 32 not in shown
    assert "changed: *** → postgres://epns:***@db2:5432/epns_prod" in render_text(report)


def test_same_schema_diffs_get_no_allowance(policy: Policy) -> None:
    """Between two schema-2 baselines a new JDK or cluster is a change like any other."""
    new = upgraded_app1()
    later = edited(new, {("spse", "jdks", "/opt/jdk17"): {"version": "17.0.13"}})
    (item,) = diff_baselines(new, later, policy).items
    assert (item.change.path, item.rule_id) == ("spse.jdks[/opt/jdk17]", "SPSE009")


@pytest.mark.parametrize("reverse", [False, True])
def test_either_direction(policy: Policy, reverse: bool) -> None:
    pair = (v1("app1"), upgraded_app1())
    old, new = reversed(pair) if reverse else pair
    assert diff_baselines(old, new, policy).clean


def test_app_server_without_psql_is_no_gap(policy: Policy) -> None:
    """app1's schema-1 capture says psql was missing; an app host is not asked for a database."""
    old = v1("app1")
    assert "database" in old["incomplete"] and "database" not in old["data"]
    assert diff_baselines(old, upgraded_app1(), policy).complete
    unknown_role = as_v2(old, {}, [])
    assert dict(diff_baselines(old, unknown_role, policy).not_compared) == {
        "database": "old baseline: psql not found on host; new baseline: psql not found on host"}
