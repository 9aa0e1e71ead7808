"""What `lab up N --legacy M` plans and caches, checked without root or a running lab."""

from __future__ import annotations

import shutil
from pathlib import Path

import lab_image
import labctl
import pytest
from lab_hosts import plan_hosts


def test_legacy_hosts_come_after_the_others_in_both_groups() -> None:
    hosts = plan_hosts(3, 2)
    assert [(h["name"], h["ip"], h["kind"], h["db_host"]) for h in hosts] == [
        ("app1", "198.18.0.11", "bookworm", "db1"),
        ("db1", "198.18.0.12", "bookworm", None),
        ("aio1", "198.18.0.13", "bookworm", "aio1"),
        ("legacy1", "198.18.0.14", "legacy", "legacy1"),
        ("legacy2", "198.18.0.15", "legacy", "legacy2"),
    ]
    assert {h["name"]: h["groups"] for h in hosts if h["kind"] == "legacy"} == {
        "legacy1": ["spse_app", "spse_db"], "legacy2": ["spse_app", "spse_db"]}
    assert [h["name"] for h in plan_hosts(0, 1)] == ["legacy1"]


@pytest.mark.parametrize(("count", "legacy"), [(0, 0), (1, -1), (150, 51)])
def test_bad_host_counts_are_refused_before_anything_starts(tmp_path: Path, count: int,
                                                            legacy: int) -> None:
    with pytest.raises(labctl.LabError, match="hosts in all") as raised:
        labctl.Lab(tmp_path / "lab").up(count, legacy)
    assert raised.value.code == 2
    assert not (tmp_path / "lab").exists()


def test_each_kind_has_its_own_image_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing a legacy recipe file rebuilds only the legacy image; a common one, both."""
    recipe = tmp_path / "image"
    shutil.copytree(lab_image.RECIPE_DIR, recipe)
    monkeypatch.setattr(lab_image, "RECIPE_DIR", recipe)
    bookworm, legacy = lab_image.KINDS["bookworm"], lab_image.KINDS["legacy"]
    before = lab_image.recipe_hash(bookworm), lab_image.recipe_hash(legacy)
    assert before[0] != before[1]
    with open(recipe / "legacy" / "httpd.conf", "a") as fh:
        fh.write("# changed\n")
    middle = lab_image.recipe_hash(bookworm), lab_image.recipe_hash(legacy)
    assert middle[0] == before[0] and middle[1] != before[1]
    with open(recipe / "common" / "init", "a") as fh:
        fh.write("# changed\n")
    after = lab_image.recipe_hash(bookworm), lab_image.recipe_hash(legacy)
    assert after[0] != middle[0] and after[1] != middle[1]
    assert lab_image.base_hash(bookworm) != lab_image.base_hash(legacy)


def test_the_fixture_wants_three_hosts_and_one_legacy_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPSE_LAB_HOSTS", raising=False)
    monkeypatch.delenv("SPSE_LAB_LEGACY", raising=False)
    assert labctl.env_sizes() == (3, 1)
    monkeypatch.setenv("SPSE_LAB_HOSTS", "5")
    monkeypatch.setenv("SPSE_LAB_LEGACY", "0")
    assert labctl.env_sizes() == (5, 0)
    monkeypatch.setenv("SPSE_LAB_LEGACY", "one")
    with pytest.raises(labctl.LabError, match="whole numbers") as raised:
        labctl.env_sizes()
    assert raised.value.code == 2
