"""Reading the admin's YAML files (policy.yml, operators.yml, sop.yml, plans): one line per mistake.

Every error names the file and the field, so a typo never silently becomes
a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from spse_change.errors import SpseChangeError
from spse_change.store.files import not_a_file


def load_yaml(path: Path) -> Any:
    """The parsed document, or one line naming the file (and line) that could not be read.

    Only a regular file is opened: a fifo given by mistake would block the command forever.
    """
    not_a_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpseChangeError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpseChangeError(f"{source}: not valid YAML{where}: "
                              f"{getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise SpseChangeError(f"{source}: nested too deeply") from None


TOP = "top level"  # `where` of a whole document


@dataclass(frozen=True, slots=True)
class Reader:
    """Typed reads from parsed YAML; each error is one line naming the source and the field."""

    source: str

    def fail(self, where: str, problem: str) -> NoReturn:
        raise SpseChangeError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str, known: frozenset[str] | None = None) -> Mapping[str, Any]:
        if value is None:
            if where == TOP:
                raise SpseChangeError(f"{self.source}: empty")
            self.fail(where, "missing")
        if not isinstance(value, Mapping):
            self.fail(where, "must be a mapping")
        for key in value:
            field = key if where == TOP else f"{where}.{key}"  # 'title', not 'top level.title'
            if not isinstance(key, str):
                self.fail(str(field), "field names must be strings")
            if known is not None and key not in known:
                self.fail(field, f"unknown field (known: {', '.join(sorted(known))})")
        return value

    def text(self, value: Any, where: str, choices: tuple[str, ...] | None = None,
             empty: bool = False) -> str:
        if value is None:
            self.fail(where, "missing")
        if not isinstance(value, str) or not (empty or value.strip()):
            self.fail(where, "must be a non-empty string" if not empty else "must be a string")
        if choices is not None and value not in choices:
            self.fail(where, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def texts(self, value: Any, where: str, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """A string or a list of strings."""
        values = value if isinstance(value, list) else [value]
        return tuple(self.text(item, where, choices) for item in values)

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(where, "must be a positive number")
        return float(value)
