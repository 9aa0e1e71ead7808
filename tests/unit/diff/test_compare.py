"""The flat-path diff gives DeepDiff's answer, one item per added or removed subtree."""

from __future__ import annotations

from functools import reduce
from typing import Any

import pytest
from deepdiff import DeepDiff

from spse_change.diff.compare import diff_data
from spse_change.diff.flatten import flatten, join
from tests.unit.diff.conftest import DELETE, edited, load_baseline

ADDED_OR_REMOVED = {"dictionary_item_added": "added", "dictionary_item_removed": "removed"}


def path_of(keys: list[str]) -> str:
    return reduce(join, keys, "")


def deepdiff_changes(old: dict[str, Any], new: dict[str, Any]) -> set[tuple[str, str]]:
    """DeepDiff's report as (our path, kind); a list is one leaf, so cut at its first index.

    threshold_to_diff_deeper=0: by default DeepDiff ≥ 8 reports a mapping whose
    keys mostly differ as one changed value instead of descending into it.
    """
    found = set()
    for report_type, items in DeepDiff(old, new, view="tree", threshold_to_diff_deeper=0).items():
        for item in items:
            keys = item.path(output_format="list")
            cut = next((i for i, key in enumerate(keys) if isinstance(key, int)), len(keys))
            kind = ADDED_OR_REMOVED.get(report_type, "changed") if cut == len(keys) else "changed"
            found.add((path_of(keys[:cut]), kind))
    return found


def our_changes(old: dict[str, Any], new: dict[str, Any]) -> set[tuple[str, str]]:
    changes = diff_data(old, new, sorted(old.keys() | new.keys()))
    assert len(changes) == len({change.path for change in changes}), "one item per path"
    return {(change.path, change.kind) for change in changes}


def app1_reworked() -> dict[str, Any]:
    """Every kind of difference DeepDiff distinguishes, on one recorded baseline."""
    app1 = load_baseline("app1")
    return edited(app1, {
        ("spse", "instances", "spse4", "http_port"): "9009",  # type change int → str
        ("hardware", "block_devices", "sda", "rotational"): 0,  # bool → int
        ("hardware", "interfaces", "ens1f0", "ipv4"): ["10.10.1.11/24", "10.10.1.12/24"],
        ("hardware", "interfaces", "ens1f0", "ipv6"): ["fe80::1/64"],  # list item added
        ("hardware", "interfaces", "ens1f1"): {"mac": "94:40:c9:aa:bb:02", "ipv4": []},
        ("hardware", "virtualization"): "none",  # mapping → leaf
        ("os", "time_sync"): DELETE,
        ("packages", "postgresql"): DELETE,
        ("packages", "java-11-openjdk"): "1:11.0.22.0.7-1.el7_9",
        ("config", "/etc/httpd/conf.d/spse.conf", "parsed", "DOSPageCount"): "20",
        ("config", "/etc/httpd/conf.d/ssl.conf"): {"kind": "unparsed", "size": 1, "parsed": {}},
        ("spse", "file_stores", "/home/file/file_prod", "mount"): "/home",
        ("spse", "extra"): {},  # empty mapping added
        ("newcategory",): {"x": {"y": 1}},
    })


@pytest.mark.parametrize(("old_name", "new"), [
    ("db1", lambda: load_baseline("db1-upgraded")),
    ("db1", lambda: load_baseline("app1")),
    ("app1", app1_reworked),
    ("db1", lambda: load_baseline("db1")),
])
def test_same_answer_as_deepdiff(old_name: str, new: Any) -> None:
    old_data, new_data = load_baseline(old_name)["data"], new()["data"]
    assert our_changes(old_data, new_data) == deepdiff_changes(old_data, new_data)
    assert our_changes(new_data, old_data) == deepdiff_changes(new_data, old_data)


def test_added_subtree_is_one_item_holding_the_subtree() -> None:
    nic = {"mac": "52:54:00:ab:cd:ef", "ipv4": ["10.0.0.2/24"]}
    (change,) = diff_data({"hardware": {"interfaces": {}}},
                          {"hardware": {"interfaces": {"eth1": nic}}}, ["hardware"])
    assert (change.path, change.kind, change.old, change.new) == (
        "hardware.interfaces.eth1", "added", None, nic)


@pytest.mark.parametrize(("old", "new"), [(1, 1.0), (True, 1), (0, False), (["1"], [1])])
def test_values_of_another_type_differ(old: Any, new: Any) -> None:
    (change,) = diff_data({"os": {"x": old}}, {"os": {"x": new}}, ["os"])
    assert change.kind == "changed"


def test_flatten_brackets_keys_that_need_it() -> None:
    tree = {"python3.11": "3.11.2", "a b": 1, "x[y]": 2, "": 3, "apache2": "2.4",
            "/etc/ssh/sshd_config": 4, "tcp/[::]:22": 5}
    leaves = {path for path, value in flatten(tree, "packages").values.items()
              if not isinstance(value, dict)}
    assert leaves == {"packages[python3.11]", "packages[a b]", "packages[x[y]]",
                      "packages[]", "packages.apache2", "packages[/etc/ssh/sshd_config]",
                      "packages[tcp/[::]:22]"}
    assert join("", "a.b") == "[a.b]"


def test_empty_category_and_missing_category_are_the_same() -> None:
    assert diff_data({"database": {}}, {}, ["database"]) == []
    assert diff_data({}, {"database": {}}, ["database"]) == []
    (change,) = diff_data({"database": {}}, {"database": {"x": 1}}, ["database"])
    assert (change.path, change.kind) == ("database.x", "added")
