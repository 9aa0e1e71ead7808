"""Classification rules as data: the shipped defaults plus a project's `policy.yml`.

A rule is an id, a description, a match (path patterns, optional kinds, one
named condition, optional `where` globs on the fields of an added or removed
entry), a class, a reason and its Indonesian wording `alasan` (printed on the
documents sent to ITO LKPP and the head of the LPSE; required of every shipped
rule, optional in a project's policy.yml). The first matching rule wins.
In a path pattern `*` matches any part of one key (a bracketed key is one
key), `**` any number of keys, and everything else is literal:
`hardware.mounts.*.size_bytes`, `database*.settings.**`,
`config[/etc/postgresql/*/main/postgresql.conf].parsed.*`.
"""

from __future__ import annotations

import fnmatch
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from spse_change.diff.compare import KINDS, Change, Kind
from spse_change.diff.conditions import CONDITIONS, SCHEMES
from spse_change.diff.values import display, masked
from spse_change.errors import SpseChangeError
from spse_change.yamlfile import Reader, parse_yaml

Class = Literal["minor", "major", "ignore"]
CLASSES: tuple[Class, ...] = ("minor", "major", "ignore")
POLICY_FILE = "policy.yml"
DEFAULT_POLICY = "default_policy.yml"
PLACEHOLDERS = frozenset({"path", "old", "new"})
UNMATCHED = "UNMATCHED"
UNMATCHED_REASON = "no rule matched; unknown changes are consulted"
UNMATCHED_ALASAN = "tidak ada aturan yang cocok; perubahan yang tidak dikenal dikonsultasikan"
POLICY_SCHEMA = "spse-change/policy/1"

_KEY = r"[^/.\[\]\s]"  # a character of a key written without brackets
_IN_BRACKETS = r"(?:[^\[\]]|\[[^\[\]]*\])"  # one nested pair allowed: ports[tcp/[::]:22]
_ANY_KEY = rf"(?:\.{_KEY}+|\[{_IN_BRACKETS}*\])"
_PATTERN_TOKEN = re.compile(rf"(\.?)(?:\[({_IN_BRACKETS}*)\]|([^.\[\]\s]+))")


def _wild(text: str, star: str) -> str:
    return "".join(star if piece == "*" else re.escape(piece)
                   for piece in re.split(r"(\*)", text) if piece)


def pattern_regex(pattern: str) -> str:
    """The regex for one path pattern, matched against an `_anchored` path."""
    parts, pos = [], 0
    while pos < len(pattern):
        token = _PATTERN_TOKEN.match(pattern, pos)
        plain = token is not None and token[3] is not None
        if token is None or (token[1] and not parts) or (plain and parts and not token[1]):
            raise ValueError(f"cannot read {pattern!r} at character {pos + 1}")
        key = token[3] if plain else token[2]
        if "**" in key and (key != "**" or not plain):
            raise ValueError(f"in {pattern!r}, '**' must be a whole key")
        bracketed = r"\[" + _wild(key, _IN_BRACKETS + "*") + r"\]"
        if plain and key == "**":
            parts.append(f"{_ANY_KEY}*")
        else:
            parts.append(rf"(?:\.{_wild(key, _KEY + '*')}|{bracketed})" if plain else bracketed)
        pos = token.end()
    if not parts:
        raise ValueError("empty pattern")
    return "".join(parts)


def _anchored(path: str) -> str:
    """Give every key its separator (`.key` or `[key]`): no pattern needs a special first key."""
    return path if path.startswith("[") else "." + path


@dataclass(frozen=True, slots=True)
class Match:
    """Which changes a rule is about; the patterns are compiled once, here."""

    paths: tuple[str, ...]
    kinds: tuple[Kind, ...] = ()  # empty: any kind
    condition: str | None = None
    scheme: str = "generic"
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (field, globs): all fields must match
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        joined = "|".join(f"(?:{pattern_regex(path)})" for path in self.paths)
        object.__setattr__(self, "regex", re.compile(joined))

    def matches(self, change: Change) -> bool:
        return ((not self.kinds or change.kind in self.kinds)
                and self.regex.fullmatch(_anchored(change.path)) is not None
                and (not self.where or self._where_matches(change))
                and (self.condition is None or CONDITIONS[self.condition](change, self.scheme)))

    def _where_matches(self, change: Change) -> bool:
        """Fields of the entry added or removed (a squashfs mount, a loop device) match their globs.

        Only an added or removed entry carries its fields; a changed leaf
        never matches a rule with `where`.
        """
        entry = change.new if change.kind == "added" else change.old if change.kind == "removed" else None
        if not isinstance(entry, Mapping):
            return False
        return all(isinstance(entry.get(name), str)
                   and any(fnmatch.fnmatchcase(entry[name], glob) for glob in globs)
                   for name, globs in self.where)

    def to_json(self) -> dict[str, Any]:
        return {"paths": list(self.paths), "kinds": list(self.kinds), "condition": self.condition,
                "scheme": self.scheme if self.condition else None,
                "where": {name: list(globs) for name, globs in self.where}}


@dataclass(frozen=True, slots=True)
class Rule:
    """One declared classification, listed by `spse-change policy list`."""

    id: str
    description: str
    match: Match
    cls: Class
    reason: str
    origin: str  # "default" or "policy.yml"
    alasan: str | None = None  # the reason in Bahasa Indonesia (None: a project rule without one)

    def explain(self, change: Change, text: str | None = None) -> str:
        """The reason (or `text`, e.g. the alasan) with `{path}`, `{old}`, `{new}` filled in;
        secret markers show as `***`."""
        return (text or self.reason).format(path=masked(change.path), old=display(change.old),
                                            new=display(change.new))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "match": self.match.to_json(),
                "class": self.cls, "reason": self.reason, "alasan": self.alasan,
                "origin": self.origin}


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[Rule, ...]

    def first_match(self, change: Change) -> Rule | None:
        return next((rule for rule in self.rules if rule.match.matches(change)), None)

    def to_json(self) -> dict[str, Any]:
        """`spse-change policy list --json`: the rules in force, first match wins."""
        return {"schema": POLICY_SCHEMA, "rules": [rule.to_json() for rule in self.rules],
                "unmatched": {"class": "major", "rule": UNMATCHED, "reason": UNMATCHED_REASON,
                              "alasan": UNMATCHED_ALASAN}}


def load_policy(project_dir: Path | None) -> Policy:
    """The default rules, with the project's `policy.yml` (if any) applied over them.

    A user rule whose id is a default's replaces it in place; other user
    rules go first, so they win over every default.
    """
    default = resources.files(__package__).joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
    rules = parse_policy(default, DEFAULT_POLICY, "default")
    user_file = project_dir / POLICY_FILE if project_dir is not None else None
    if user_file is not None and user_file.is_file():
        try:
            text = user_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpseChangeError(f"{user_file}: cannot read ({exc})") from None
        rules = _merge(rules, parse_policy(text, str(user_file), POLICY_FILE))
    return Policy(tuple(rules))


def _merge(defaults: list[Rule], user: list[Rule]) -> list[Rule]:
    replacing = {rule.id: rule for rule in user}
    default_ids = {rule.id for rule in defaults}
    return ([rule for rule in user if rule.id not in default_ids]
            + [replacing.get(rule.id, rule) for rule in defaults])


def parse_policy(text: str, source: str, origin: str) -> list[Rule]:
    """Rules from one policy document; any mistake names `source` and the field."""
    document = parse_yaml(text, source)
    if document is None:
        return []
    reader = _Reader(source)
    items = reader.mapping(document, "top level", _TOP_FIELDS).get("rules", [])
    if not isinstance(items, list):
        reader.fail("rules", "must be a list of rules")
    rules: list[Rule] = []
    for index, item in enumerate(items):
        rule = reader.rule(item, f"rules[{index}]", origin)
        if any(rule.id == seen.id for seen in rules):
            reader.fail(f"rules[{index}].id", f"duplicate id {rule.id}")
        rules.append(rule)
    return rules


_TOP_FIELDS = frozenset({"rules", "anchors"})  # anchors: YAML anchors that rules share
_RULE_FIELDS = frozenset({"id", "description", "match", "class", "reason", "alasan"})
_MATCH_FIELDS = frozenset({"path", "kind", "condition", "scheme", "where"})
_RULE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class _Reader(Reader):
    """The shared typed reads, plus a policy's own parts: rules, matches, reasons."""

    def rule(self, raw: Any, where: str, origin: str) -> Rule:
        raw = self.mapping(raw, where, _RULE_FIELDS)
        rule_id = self.text(raw.get("id"), f"{where}.id")
        if not _RULE_ID.fullmatch(rule_id) or rule_id == UNMATCHED:
            self.fail(f"{where}.id", f"{rule_id!r} is not a rule id (letters, digits, '-', '_'; "
                                     f"not {UNMATCHED})")
        match = self.mapping(raw.get("match"), f"{where}.match", _MATCH_FIELDS)
        return Rule(
            id=rule_id,
            description=self.text(raw.get("description", rule_id), f"{where}.description"),
            match=self.match(match, f"{where}.match"),
            cls=self.text(raw.get("class"), f"{where}.class", CLASSES),  # type: ignore[arg-type]
            reason=self.reason(raw.get("reason"), f"{where}.reason"),
            origin=origin,
            alasan=self.alasan(raw, f"{where}.alasan", origin),
        )

    def alasan(self, raw: Mapping[str, Any], where: str, origin: str) -> str | None:
        """The Indonesian reason: checked like `reason`; every shipped rule has one."""
        if "alasan" in raw:
            return self.reason(raw["alasan"], where)
        if origin == "default":
            self.fail(where, "missing: a shipped rule gives its reason in Bahasa Indonesia too")
        return None

    def match(self, raw: Mapping[str, Any], where: str) -> Match:
        paths = self.texts(raw.get("path"), f"{where}.path")
        for path in paths:
            try:
                pattern_regex(path)
            except ValueError as exc:
                self.fail(f"{where}.path", str(exc))
        condition = raw.get("condition")
        if condition is not None:
            self.text(condition, f"{where}.condition", tuple(CONDITIONS))
        elif "scheme" in raw:
            self.fail(f"{where}.scheme", "only used with a condition")
        return Match(
            paths=paths,
            kinds=self.texts(raw["kind"], f"{where}.kind", KINDS) if "kind" in raw else (),  # type: ignore[arg-type]
            condition=condition,
            scheme=self.text(raw.get("scheme", "generic"), f"{where}.scheme", tuple(SCHEMES)),
            where=self.globs(raw["where"], f"{where}.where") if "where" in raw else (),
        )

    def globs(self, raw: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """`where: {fstype: squashfs, device: [/dev/loop*]}`: each field a glob or list of globs."""
        if not isinstance(raw, Mapping) or not raw:
            self.fail(where, "must be a mapping of field names to globs")
        return tuple((self.text(name, f"{where} key"), self.texts(globs, f"{where}.{name}"))
                     for name, globs in sorted(raw.items(), key=lambda item: str(item[0])))

    def reason(self, value: Any, where: str) -> str:
        """A reason is filled in at diff time: every mistake in it is caught here, at load."""
        reason = self.text(value, where)
        try:
            fields = [(name, spec, conversion) for _, name, spec, conversion
                      in string.Formatter().parse(reason) if name is not None]
        except ValueError as exc:
            self.fail(where, f"bad braces ({exc}); write {{{{ and }}}} for literal braces")
        for name, spec, conversion in fields:
            if name not in PLACEHOLDERS or spec or conversion:
                shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                self.fail(where, f"bad placeholder {{{shown}}} (use {{path}}, {{old}} or {{new}} "
                                 "as they are; write {{ and }} for literal braces)")
        return reason
