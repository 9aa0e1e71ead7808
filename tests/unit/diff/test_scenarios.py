"""Recorded baselines changed the way real servers change, classified end to end."""

from __future__ import annotations

from typing import Any

import pytest

from spse_change.diff import DiffReport, Policy, diff_baselines, render_text
from spse_change.errors import SpseChangeError
from tests.unit.diff.conftest import DELETE, edited, load_baseline

NEW_NIC = {"mac": "52:54:00:ab:cd:ef", "type": "ether", "mtu": 1500, "speed": 10000,
           "ipv4": ["10.10.2.21/24"], "ipv6": []}
NEW_VOLUME = {"device": "/dev/sdc1", "fstype": "xfs", "size_bytes": 999653638144,
              "options": "rw,noatime"}
CONF = "/etc/postgresql/15/main/postgresql.conf"


def only_item(report: DiffReport) -> tuple[str, str, str, str]:
    """(path, kind, class, rule) of the report's single item."""
    assert len(report.items) == 1, [item.change.path for item in report.items]
    item = report.items[0]
    return item.change.path, item.change.kind, item.cls, item.rule_id


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param({("hardware", "memory", "total_mb"): 65536},
                 ("hardware.memory.total_mb", "changed", "major", "HW002"), id="memory upgrade"),
    pytest.param({("hardware", "cpu", "model"): "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"},
                 ("hardware.cpu.model", "changed", "major", "HW001"), id="CPU replaced"),
    pytest.param({("hardware", "dmi", "serial"): "9ZZ8Q21"},
                 ("hardware.dmi.serial", "changed", "major", "HW012"), id="server replaced"),
    pytest.param({("database", "server_version_num"): "160004"},
                 ("database.server_version_num", "changed", "major", "DB001"), id="PG major"),
    pytest.param({("database", "server_version_num"): "150014"},
                 ("database.server_version_num", "changed", "minor", "DB003"), id="PG minor"),
    pytest.param({("packages", "openssl"): "3.0.16-1~deb12u1"},
                 ("packages.openssl", "changed", "minor", "PKG003"), id="package patch"),
    pytest.param({("config", CONF, "parsed", "work_mem"): "32MB"},
                 (f"config[{CONF}].parsed.work_mem", "changed", "minor", "CFG001"),
                 id="postgresql.conf setting"),
    pytest.param({("hardware", "interfaces", "eth1"): NEW_NIC},
                 ("hardware.interfaces.eth1", "added", "major", "HW008"), id="NIC added"),
    pytest.param({("hardware", "interfaces", "eth0", "mac"): "52:54:00:99:88:77"},
                 ("hardware.interfaces.eth0.mac", "changed", "major", "HW009"), id="MAC changed"),
    pytest.param({("hardware", "mounts", "/srv/backup"): NEW_VOLUME},
                 ("hardware.mounts[/srv/backup]", "added", "major", "HW005"), id="volume added"),
    pytest.param({("hardware", "block_devices", "sdb"): DELETE},
                 ("hardware.block_devices.sdb", "removed", "major", "HW003"), id="disk removed"),
    pytest.param({("hardware", "interfaces", "tun0"): {**NEW_NIC, "type": "tunnel"},
                  ("os", "newfact"): "x"},
                 ("os.newfact", "added", "major", "UNMATCHED"), id="VPN up is ignored"),
    pytest.param({("os", "newfact"): "x"},
                 ("os.newfact", "added", "major", "UNMATCHED"), id="unmatched path"),
])
def test_one_change_is_one_classified_item(db1: dict[str, Any], policy: Policy,
                                          edit: dict[tuple[str, ...], Any],
                                          expected: tuple[str, str, str, str]) -> None:
    report = diff_baselines(db1, edited(db1, edit), policy)
    assert only_item(report) == expected
    assert report.verdict == expected[2]


def test_unmatched_change_says_it_is_consulted(db1: dict[str, Any], policy: Policy) -> None:
    report = diff_baselines(db1, edited(db1, {("os", "newfact"): 1}), policy)
    assert report.items[0].reason == "no rule matched; unknown changes are consulted"


def test_os_release_upgrade_bookworm_to_trixie_is_major(db1: dict[str, Any],
                                                         policy: Policy) -> None:
    report = diff_baselines(db1, load_baseline("db1-upgraded"), policy)
    by_path = {item.change.path: (item.cls, item.rule_id) for item in report.items}
    assert by_path["os.major_version"] == ("major", "OS001")
    assert by_path["os.version"] == ("minor", "OS002")
    assert by_path["os.kernel"] == ("minor", "OS003")
    assert by_path["database.server_version_num"] == ("major", "DB001")
    assert by_path["database.server_version"] == ("major", "DB002")
    assert by_path["packages.postgresql-16"] == ("major", "PKG001")
    assert by_path["packages.postgresql-common"] == ("minor", "PKG000")
    assert report.verdict == "major"


def test_identical_baselines_have_no_items(db1: dict[str, Any], policy: Policy) -> None:
    report = diff_baselines(db1, load_baseline("db1"), policy)
    assert (report.items, report.verdict, report.summary_line()) == ((), "none", "no changes")


def test_ignored_volatile_path_is_counted_not_listed(db1: dict[str, Any],
                                                      policy: Policy) -> None:
    report = diff_baselines(db1, edited(db1, {("os", "time_sync", "synchronized"): False}), policy)
    assert report.items == ()
    assert report.ignored == 1
    assert report.summary_line() == "no changes (1 ignored)"


def test_category_filter_keeps_only_those_categories(db1: dict[str, Any],
                                                      policy: Policy) -> None:
    report = diff_baselines(db1, load_baseline("db1-upgraded"), policy, ["os", "database"])
    assert {item.change.category for item in report.items} == {"os", "database"}
    assert report.to_json()["categories"] == ["os", "database"]


def test_unknown_category_is_a_user_error(db1: dict[str, Any], policy: Policy) -> None:
    with pytest.raises(SpseChangeError, match="unknown category 'hardwar'"):
        diff_baselines(db1, db1, policy, ["hardwar"])


def test_incomplete_category_is_not_compared_rather_than_removed(db1: dict[str, Any],
                                                                   policy: Policy) -> None:
    broken = edited(db1, {("database",): {}})
    broken["incomplete"] = {"database": "psql not found on host", f"config:{CONF}": "unreadable"}
    report = diff_baselines(db1, broken, policy)
    assert report.items == ()
    assert report.not_compared == {
        "database": "new baseline: psql not found on host",
        f"config[{CONF}]": "new baseline: unreadable",
    }


def test_items_sorted_by_category_then_path(db1: dict[str, Any], policy: Policy) -> None:
    report = diff_baselines(db1, load_baseline("db1-upgraded"), policy)
    keys = [(item.change.category, item.change.path) for item in report.items]
    assert keys == sorted(keys)


def test_missing_data_is_a_user_error(db1: dict[str, Any], policy: Policy) -> None:
    with pytest.raises(SpseChangeError, match="'data' is not a mapping"):
        diff_baselines(db1, {"id": "x"}, policy)


def test_category_one_side_could_not_read_is_listed(app1: dict[str, Any], policy: Policy) -> None:
    report = diff_baselines(app1, load_baseline("app1"), policy)
    assert report.not_compared == {"database": "old baseline: psql not found on host; "
                                               "new baseline: psql not found on host"}
    assert "not compared: database (old baseline: psql not found" in render_text(report)


def test_digest_change_explained_by_a_parsed_key_is_said_once(db1: dict[str, Any],
                                                              policy: Policy) -> None:
    both = edited(db1, {("config", CONF, "parsed", "work_mem"): "32MB",
                        ("config", CONF, "sha256"): "0" * 64, ("config", CONF, "size"): 1})
    assert only_item(diff_baselines(db1, both, policy))[0] == f"config[{CONF}].parsed.work_mem"
    comment_only = edited(db1, {("config", CONF, "sha256"): "0" * 64})
    assert only_item(diff_baselines(db1, comment_only, policy))[0] == f"config[{CONF}].sha256"


@pytest.mark.parametrize(("old_groups", "new_groups", "not_compared", "items"), [
    pytest.param([], [], {"database": "absent from the new baseline"}, [],
                 id="no groups: a missing category is a gap"),
    pytest.param(["spse_db"], ["spse_db"], {"database": "absent from the new baseline"}, [],
                 id="db host lost its database"),
    pytest.param(["spse_db"], ["spse_app"], {}, [("database", "removed", "major")],
                 id="no longer a db host: the removal is a change"),
])
def test_category_absent_on_one_side(db1: dict[str, Any], policy: Policy, old_groups: list[str],
                                     new_groups: list[str], not_compared: dict[str, str],
                                     items: list[tuple[str, str, str]]) -> None:
    old, new = dict(db1, groups=old_groups), edited(db1, {("database",): DELETE})
    new["groups"] = new_groups
    report = diff_baselines(old, new, policy)
    assert dict(report.not_compared) == not_compared
    assert [(i.change.path, i.change.kind, i.cls) for i in report.items] == items
    assert report.clean is False


def test_category_absent_on_both_sides_is_fine(db1: dict[str, Any], policy: Policy) -> None:
    without = edited(db1, {("database",): DELETE})
    report = diff_baselines(without, edited(without, {}), policy)
    assert report.complete and report.clean


def test_further_cluster_is_classified_like_the_first(db1: dict[str, Any],
                                                      policy: Policy) -> None:
    second = {**db1["data"]["database"]}
    old = edited(db1, {("database_5433",): second})
    new = edited(old, {("database_5433", "server_version_num"): "160004"})
    assert only_item(diff_baselines(old, new, policy)) == (
        "database_5433.server_version_num", "changed", "major", "DB001")
