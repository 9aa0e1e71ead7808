"""Who acts: the project's `operators.yml`, the SOP's three roles and what each may do.

The table :data:`STEP_ROLES` is the rule, as data: `docs/records.md` lists
it and `spse-change record roles` prints it. Reading needs no identity;
every step that writes a record does.

    operators = Operators.load(project.root)      # None when there is no operators.yml
    actor = require_operators(operators, "approve").check("sari", "approve")
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from spse_change.errors import SpseChangeError
from spse_change.yamlfile import Reader, load_yaml

OPERATORS_FILE = "operators.yml"
USER_ENV = "SPSE_CHANGE_USER"

ROLES: Mapping[str, str] = {
    "pemohon": "requester: creates change records and attaches evidence",
    "pengelola": "operator: applies, rolls back, records consultation outcomes, attaches evidence",
    "kepala": "head of the LPSE: approves, rejects and closes; approves baselines",
}

# step -> the roles that may take it (SOP "Pelaksana": Pemohon, Pengelola, Kepala LPSE)
STEP_ROLES: Mapping[str, tuple[str, ...]] = {
    "create": ("pemohon",),
    "attach": ("pemohon", "pengelola", "kepala"),
    "approve": ("kepala",),
    "reject": ("kepala",),
    "apply": ("pengelola",),
    "verify": ("pengelola",),
    "roll-back": ("pengelola",),
    "fail": ("pengelola",),
    "consult": ("pengelola",),
    "close": ("kepala",),
    "baseline-approve": ("kepala",),
}

STEP_TEXT: Mapping[str, str] = {
    "create": "create a change record (record new, plan)",
    "attach": "attach evidence to a record (record attach)",
    "approve": "approve a record (record approve); never the record's requester",
    "reject": "reject a record (record reject); never the record's requester",
    "apply": "start applying a record (apply; an Emergency record also before approval)",
    "verify": "mark an applied record verified (apply, after checking the result)",
    "roll-back": "mark a record rolled back (apply on failure, rollback)",
    "fail": "mark a record failed: the rollback did not restore the host (apply, rollback)",
    "consult": "record a consultation outcome for a major record (consult)",
    "close": "close a record (record close)",
    "baseline-approve": "approve a host's baseline (baseline approve)",
}

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_FIELDS = frozenset({"name", "nip", "contact", "roles"})


@dataclass(frozen=True, slots=True)
class Operator:
    id: str
    name: str
    roles: tuple[str, ...]
    nip: str = ""
    contact: str = ""


@dataclass(frozen=True, slots=True)
class Operators:
    by_id: Mapping[str, Operator]
    source: str

    @classmethod
    def load(cls, project_root: Path) -> Operators | None:
        """The project's operators, or None when it has no operators.yml (a file with errors is one line)."""
        path = project_root / OPERATORS_FILE
        if not path.is_file():
            return None
        return cls.parse(load_yaml(path), str(path))

    @classmethod
    def parse(cls, document: object, source: str) -> Operators:
        reader = Reader(source)
        top = reader.mapping(document, "top level", frozenset({"operators"}))
        entries = reader.mapping(top.get("operators"), "operators")
        if not entries:
            reader.fail("operators", "must name at least one operator")
        found = {}
        for key, raw in entries.items():
            where = f"operators.{key}"
            if not _ID.fullmatch(key):
                reader.fail(where, "an operator id is letters, digits, '_', '-' or '.'")
            raw = reader.mapping(raw, where, _FIELDS)
            roles = reader.texts(raw.get("roles"), f"{where}.roles", tuple(ROLES))
            found[key] = Operator(
                id=key, name=reader.text(raw.get("name"), f"{where}.name"), roles=roles,
                nip=str(raw["nip"]) if raw.get("nip") is not None else "",
                contact=reader.text(raw.get("contact", ""), f"{where}.contact", empty=True))
        return cls(found, source)

    def check(self, name: str | None, step: str, command: str = "") -> Operator:
        """The operator taking `step`, or one line naming the rule that refuses them. `command` names
        the command in the message when it is not the step's own name (consult build is an attach)."""
        if not name:
            raise SpseChangeError(f"{command or step}: say who acts with --as NAME (or ${USER_ENV}); "
                                  f"names come from {self.source}")
        operator = self.by_id.get(name)
        if operator is None:
            raise SpseChangeError(f"unknown operator '{name}': not in {self.source} "
                                  f"(known: {', '.join(sorted(self.by_id))})")
        allowed = STEP_ROLES[step]
        if not set(operator.roles) & set(allowed):
            raise SpseChangeError(f"{name} may not {step}: only {' or '.join(allowed)} may "
                                  f"(rule {step}: {STEP_TEXT[step]}); {name} is "
                                  f"{', '.join(operator.roles)}")
        return operator


def require_operators(operators: Operators | None, project_root: Path, step: str) -> Operators:
    """Steps that write records need to know who acts: no operators.yml is one line."""
    if operators is None:
        raise SpseChangeError(f"{step}: {project_root / OPERATORS_FILE} not found; a change record "
                              "needs to know who acts (format: docs/records.md)")
    return operators


def acting_name(given: str | None) -> str | None:
    """`--as NAME`, else `$SPSE_CHANGE_USER`."""
    return given or os.environ.get(USER_ENV) or None
