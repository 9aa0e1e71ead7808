"""The Indonesian reason (`alasan`) of each rule: checked at load, carried by each classified item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spse_change.diff import diff_baselines, load_policy
from spse_change.diff.policy import UNMATCHED_ALASAN, parse_policy
from spse_change.errors import SpseChangeError
from tests.unit.diff.conftest import edited

CONF = "/etc/postgresql/15/main/postgresql.conf"
RULE = """\
rules:
  - id: LOCAL001
    match: {path: "config.**.parsed.listen_addresses"}
    class: major
    reason: "database now listens on {new}"
"""


def test_every_shipped_rule_has_an_alasan() -> None:
    rules = load_policy(None).rules
    assert len(rules) == 50
    assert all(rule.alasan and rule.alasan != rule.reason for rule in rules)


def test_items_carry_the_alasan_with_placeholders_filled(tmp_path: Path, db1: dict[str, Any]) -> None:
    (tmp_path / "policy.yml").write_text(RULE + '    alasan: "basis data kini mendengarkan di {new}"\n')
    bigger = edited(db1, {("hardware", "memory", "total_mb"): 65536,
                          ("config", CONF, "parsed", "listen_addresses"): "*"})
    items = diff_baselines(db1, bigger, load_policy(tmp_path)).to_json()["items"]
    assert {i["rule"]: i["alasan"] for i in items} == {
        "HW002": "RAM ditambah atau dikurangi", "LOCAL001": "basis data kini mendengarkan di *"}


def test_a_project_rule_may_leave_it_out(tmp_path: Path, db1: dict[str, Any]) -> None:
    (tmp_path / "policy.yml").write_text(RULE)
    new = edited(db1, {("config", CONF, "parsed", "listen_addresses"): "*"})
    (item,) = diff_baselines(db1, new, load_policy(tmp_path)).to_json()["items"]
    assert item["rule"] == "LOCAL001" and "alasan" not in item


def test_unmatched_changes_say_why_in_indonesian(tmp_path: Path, db1: dict[str, Any]) -> None:
    (tmp_path / "policy.yml").write_text("rules: []\n")
    new = edited(db1, {("spse", "unknown_key"): 1})
    items = [i for i in diff_baselines(db1, new, load_policy(tmp_path)).to_json()["items"]
             if i["rule"] == "UNMATCHED"]
    assert items and all(i["alasan"] == UNMATCHED_ALASAN for i in items)


@pytest.mark.parametrize(("text", "origin", "message"), [
    (RULE, "default", r"^default_policy.yml: rules\[0\].alasan: missing: a shipped rule gives its "
                      r"reason in Bahasa Indonesia too$"),
    (RULE + "    alasan: ''\n", "policy.yml", r"rules\[0\].alasan"),
    (RULE + "    alasan: 'pada {host}'\n", "policy.yml", r"rules\[0\].alasan: bad placeholder \{host\}"),
    (RULE + "    alasan: [a]\n", "policy.yml", r"rules\[0\].alasan"),
])
def test_a_bad_alasan_names_the_field(text: str, origin: str, message: str) -> None:
    with pytest.raises(SpseChangeError, match=message):
        parse_policy(text, "default_policy.yml", origin)
