"""policy.yml: merging over the defaults, path patterns, conditions, and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spse_change.diff import Change, Match, diff_baselines, load_policy
from spse_change.diff.conditions import majors
from spse_change.errors import SpseChangeError
from tests.unit.diff.conftest import edited

CONF = "/etc/postgresql/15/main/postgresql.conf"

LISTEN_MAJOR = """\
rules:
  - id: LOCAL001
    description: The database listens on another address
    match: {path: "config.**.parsed.listen_addresses"}
    class: major
    reason: "database now listens on {new}: ITO must update the firewall"
"""


def write_policy(tmp_path: Path, text: str) -> Path:
    (tmp_path / "policy.yml").write_text(text, encoding="utf-8")
    return tmp_path


def test_user_rule_changes_a_classification(tmp_path: Path, db1: dict[str, Any]) -> None:
    policy = load_policy(write_policy(tmp_path, LISTEN_MAJOR))
    new = edited(db1, {("config", CONF, "parsed", "listen_addresses"): "*"})
    (item,) = diff_baselines(db1, new, policy).items
    assert (item.cls, item.rule_id) == ("major", "LOCAL001")
    assert item.reason == "database now listens on *: ITO must update the firewall"
    assert policy.rules[0].origin == "policy.yml"


def test_user_rule_with_a_default_id_replaces_it_in_place(tmp_path: Path) -> None:
    text = """\
rules:
  - id: OS003
    description: Kernel updates are consulted here
    match: {path: os.kernel}
    class: major
    reason: kernel changes are consulted at this LPSE
"""
    default_ids = [rule.id for rule in load_policy(None).rules]
    policy = load_policy(write_policy(tmp_path, text))
    assert [rule.id for rule in policy.rules] == default_ids
    replaced = policy.rules[default_ids.index("OS003")]
    assert (replaced.cls, replaced.origin) == ("major", "policy.yml")


def test_without_policy_file_only_defaults(tmp_path: Path) -> None:
    assert {rule.origin for rule in load_policy(tmp_path).rules} == {"default"}


@pytest.mark.parametrize(("text", "field", "problem"), [
    ("rules: [\n  - id: X\n", "not valid YAML at line", ""),
    ("rules:\n  - id: X1\n    match: {path: os.kernel}\n    reason: r\n", "rules[0].class", "missing"),
    ("rules:\n  - id: X1\n    match: {path: os.kernel}\n    class: huge\n    reason: r\n",
     "rules[0].class", "must be one of minor, major, ignore (got 'huge')"),
    ("rules:\n  - id: X1\n    match: {path: os.kernel, condition: kernel_newer}\n"
     "    class: major\n    reason: r\n", "rules[0].match.condition", "must be one of"),
    ("rules:\n  - id: X1\n    match: {path: 'os.[kernel'}\n    class: major\n    reason: r\n",
     "rules[0].match.path", "cannot read"),
    ("rules:\n  - id: X1\n    match: {path: os.k**}\n    class: major\n    reason: r\n",
     "rules[0].match.path", "'**' must be a whole key"),
    ("rules:\n  - id: X1\n    match: {path: os.kernel, kind: [renamed]}\n    class: major\n"
     "    reason: r\n", "rules[0].match.kind", "must be one of added, removed, changed"),
    ("rules:\n  - id: X1\n    match: {path: os.kernel}\n    class: major\n    reason: '{value}'\n",
     "rules[0].reason", "bad placeholder {value}"),
    *[(f"rules:\n  - id: X1\n    match: {{path: os.kernel}}\n    class: major\n"
       f"    reason: '{reason}'\n", "rules[0].reason", f"bad placeholder {shown}")
      for reason, shown in [("{path!x}", "{path!x}"), ("{old.attr}", "{old.attr}"), ("{0}", "{0}"),
                            ("{new[0]}", "{new[0]}"), ("{}", "{}"), ("{path:d}", "{path:d}"),
                            ("{old!r}", "{old!r}")]],
    ("rules:\n  - id: X1\n    match: {path: os.kernel}\n    class: major\n    reason: 'a {b'\n",
     "rules[0].reason", "bad braces"),
    ("rules:\n  - id: X1\n    match: {path: hardware.mounts.*, where: squashfs}\n"
     "    class: ignore\n    reason: r\n", "rules[0].match.where", "must be a mapping"),
    ("rules:\n  - id: X1\n    match: {path: hardware.mounts.*, where: {fstype: 3}}\n"
     "    class: ignore\n    reason: r\n", "rules[0].match.where.fstype", "non-empty string"),
    ("rules:" + " [" * 10000 + "]" * 10000 + "\n", "nested too deeply", ""),
    ("rules:" + " {a:" * 10000 + " 1" + "}" * 10000 + "\n", "nested too deeply", ""),
    ("rules:\n  - id: X1\n    match: {path: os.kernel}\n    clas: major\n    reason: r\n",
     "rules[0].clas", "unknown field"),
    ("rules:\n  - id: X1\n    match: {path: os.kernel, scheme: java}\n    class: major\n"
     "    reason: r\n", "rules[0].match.scheme", "only used with a condition"),
    ("rules:\n  - id: UNMATCHED\n    match: {path: os.kernel}\n    class: major\n    reason: r\n",
     "rules[0].id", "is not a rule id"),
    ("rules:\n  - {id: A, match: {path: a}, class: minor, reason: r}\n"
     "  - {id: A, match: {path: b}, class: minor, reason: r}\n", "rules[1].id", "duplicate id A"),
    ("rules: {id: A}\n", "rules", "must be a list"),
])
def test_bad_policy_names_file_and_field(tmp_path: Path, text: str, field: str,
                                         problem: str) -> None:
    with pytest.raises(SpseChangeError) as caught:
        load_policy(write_policy(tmp_path, text))
    message = caught.value.message
    assert message.startswith(f"{tmp_path / 'policy.yml'}: {field}")
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("hardware.cpu.**", "hardware.cpu.model", True),
    ("hardware.cpu.**", "hardware.cpu", True),
    ("hardware.cpu.**", "hardware.cpus.model", False),
    ("hardware.mounts.*", "hardware.mounts[/home/file]", True),
    ("hardware.mounts./home/file", "hardware.mounts[/home/file]", True),
    ("hardware.mounts[/snap/*]", "hardware.mounts[/snap/core20/2379]", True),
    ("hardware.mounts[/snap/*]", "hardware.mounts[/srv/snap]", False),
    ("hardware.interfaces.br-*", "hardware.interfaces.br-5e2c9a", True),
    ("hardware.interfaces.br-*", "hardware.interfaces.br0", False),
    ("database*.settings.**", "database_5433.settings.work_mem.setting", True),
    ("database*.settings.**", "database.settings.work_mem.setting", True),
    ("database*.settings.**", "os.settings.x", False),
    ("ports.**", "ports[tcp/[::]:22]", True),
    ("ports[tcp/[::]:*]", "ports[tcp/[::]:22]", True),
    ("config[/etc/ssh/sshd_config].parsed.port", "config[/etc/ssh/sshd_config].parsed.port", True),
    ("hardware.mounts.*", "hardware.mounts[/mnt/a b]", True),
    ("hardware.mounts.*", "hardware.mounts./home.size_bytes", False),
    ("hardware.mounts.*.size_bytes", "hardware.mounts[/srv/v1.0].size_bytes", True),
    ("packages.postgresql*", "packages.postgresql-16", True),
    ("packages.postgresql*", "packages.postgresql10-server", True),
    ("packages.postgresql*", "packages.libpostgresql", False),
    ("packages.python3*", "packages[python3.11]", True),
    ("config.**.parsed.listen_addresses", f"config[{CONF}].parsed.listen_addresses", True),
    ("config[/etc/postgresql/*/main/postgresql.conf].parsed.*",
     f"config[{CONF}].parsed.port", True),
    ("config[/etc/x.conf].parsed.*", "config[/etc/xyconf].parsed.port", False),
    ("**.mac", "hardware.interfaces.eth0.mac", True),
    ("[a.b].c", "[a.b].c", True),
])
def test_path_patterns(pattern: str, path: str, matches: bool) -> None:
    match = Match(paths=(pattern,))
    assert match.matches(Change(path, "changed", 1, 2, "x")) is matches


@pytest.mark.parametrize(("value", "scheme", "major"), [
    ("15+248", "generic", {"15"}),
    ("2.4.62-1~deb12u2", "generic", {"2"}),
    ("1:2.4.6-99.el7", "generic", {"2"}),
    ("1.8.0_202", "generic", {"1"}),
    ("15.5-1, 16.1-1", "generic", {"15", "16"}),
    ("1.8.0_202", "java", {"8"}),
    ("11.0.2", "java", {"11"}),
    ("17", "java", {"17"}),
    (150013, "pg_num", {"15"}),
    ("90624", "pg_num", {"9.6"}),
    ("9.6.24", "pg", {"9.6"}),
    ("16.9 (Debian 16.9-1)", "pg", {"16"}),
    ("unknown", "generic", None),
    (None, "generic", None),
])
def test_major_versions(value: Any, scheme: str, major: set[str] | None) -> None:
    assert majors(value, scheme) == major


@pytest.mark.parametrize(("old", "new", "changed"), [
    ("15.13", "16.1", True), ("15.13", "15.14", False), ("15.13", "devel", True),
])
def test_version_conditions(old: str, new: str, changed: bool) -> None:
    change = Change("packages.postgresql-15", "changed", old, new, "packages")
    major = Match(paths=("packages.*",), condition="major_version_changed")
    minor = Match(paths=("packages.*",), condition="minor_version_only")
    assert (major.matches(change), minor.matches(change)) == (changed, not changed)


@pytest.mark.parametrize(("where", "kind", "value", "matches"), [
    ({"fstype": ("squashfs",)}, "added", {"fstype": "squashfs"}, True),
    ({"fstype": ("squashfs",)}, "removed", {"fstype": "squashfs"}, True),
    ({"fstype": ("squashfs",)}, "added", {"fstype": "xfs"}, False),
    ({"fstype": ("squashfs",)}, "added", {"device": "/dev/sdc1"}, False),
    ({"fstype": ("squashfs",)}, "changed", "squashfs", False),
    ({"device": ("/dev/loop*", "/dev/ram*")}, "added", {"device": "/dev/loop12"}, True),
    ({"dm_name": ("*-cow",), "fstype": ("xfs",)}, "added", {"dm_name": "vg-snap-cow"}, False),
])
def test_where_globs_look_at_the_added_or_removed_entry(where: dict[str, tuple[str, ...]],
                                                       kind: str, value: Any,
                                                       matches: bool) -> None:
    match = Match(paths=("hardware.mounts.*",), where=tuple(where.items()))
    old, new = (value, None) if kind == "removed" else (None, value)
    if kind == "changed":
        old = "xfs"
    change = Change("hardware.mounts[/x]", kind, old, new, "hardware")  # type: ignore[arg-type]
    assert match.matches(change) is matches


def test_policy_json_lists_rules_in_order(tmp_path: Path) -> None:
    policy = load_policy(write_policy(tmp_path, LISTEN_MAJOR))
    document = policy.to_json()
    assert document["schema"] == "spse-change/policy/1"
    assert [rule["id"] for rule in document["rules"]] == [rule.id for rule in policy.rules]
    first = document["rules"][0]
    assert first == {"id": "LOCAL001", "description": "The database listens on another address",
                     "match": {"paths": ["config.**.parsed.listen_addresses"], "kinds": [],
                               "condition": None, "scheme": None, "where": {}},
                     "class": "major",
                     "reason": "database now listens on {new}: ITO must update the firewall",
                     "alasan": None, "origin": "policy.yml"}
    squashfs = next(rule for rule in document["rules"] if rule["id"] == "HW017")
    assert squashfs["match"]["where"] == {"fstype": ["squashfs"]}
    assert document["unmatched"]["class"] == "major"
