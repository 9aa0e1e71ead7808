"""Named conditions a policy rule may add to its path match.

A registry rather than free expressions: an LPSE admin picks a name, and
every name is tested. Versions that cannot be read make
`major_version_changed` true, because an unknown change is consulted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from spse_change.diff.compare import Change
from spse_change.diff.values import MARKER, is_secret

_LEADING = re.compile(r"(?:\d+:)?(\d+)(?:\.(\d+))?")  # optional Debian epoch, then N[.M]


def _generic(text: str) -> str | None:
    """`1:2.4.62-1~deb12u2` → 2, `15+248` → 15, `1.8.0_202` → 1."""
    match = _LEADING.match(text)
    return match[1] if match else None


def _java(text: str) -> str | None:
    """`1.8.0_202` → 8 (the old 1.x numbering), `11.0.2` → 11, `17` → 17."""
    match = _LEADING.match(text)
    if not match:
        return None
    return match[2] if match[1] == "1" and match[2] else match[1]


def _pg(text: str) -> str | None:
    """`15.4 (Debian 15.4-1)` → 15; before version 10 a major had two numbers: `9.6.24` → 9.6."""
    match = _LEADING.match(text)
    if not match:
        return None
    return f"{match[1]}.{match[2]}" if int(match[1]) < 10 and match[2] else match[1]


def _pg_num(text: str) -> str | None:
    """server_version_num: `150013` → 15, `90624` → 9.6."""
    if not text.isdigit():
        return None
    number = int(text)
    return str(number // 10000) if number >= 100000 else f"{number // 10000}.{number // 100 % 100}"


SCHEMES: dict[str, Callable[[str], str | None]] = {
    "generic": _generic, "java": _java, "pg": _pg, "pg_num": _pg_num}


def majors(value: Any, scheme: str) -> frozenset[str] | None:
    """The major versions in a value (packages list several as `a, b`), or None if unreadable."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    found = {SCHEMES[scheme](part.strip()) for part in str(value).split(",")}
    return None if None in found else frozenset(found)  # type: ignore[arg-type]


def major_version_changed(change: Change, scheme: str) -> bool:
    """True for a major upgrade or downgrade; also for anything but a readable change."""
    if change.kind != "changed":
        return True
    old, new = majors(change.old, scheme), majors(change.new, scheme)
    return old is None or new is None or old != new


def minor_version_only(change: Change, scheme: str) -> bool:
    """True only when both versions are readable and share their major version."""
    return not major_version_changed(change, scheme)


def _redacts(plain: Any, redacted: Any) -> bool:
    """`redacted` is `plain` with some secrets replaced by markers (and nothing else changed)."""
    if isinstance(plain, str) and isinstance(redacted, str):
        if is_secret(plain) or not is_secret(redacted):
            return plain == redacted
        pattern = ".+".join(re.escape(part) for part in MARKER.split(redacted))
        return re.fullmatch(pattern, plain, re.S) is not None
    if isinstance(plain, list) and isinstance(redacted, list):
        return len(plain) == len(redacted) and all(map(_redacts, plain, redacted))
    if isinstance(plain, dict) and isinstance(redacted, dict):
        return plain.keys() == redacted.keys() and all(_redacts(plain[k], redacted[k]) for k in plain)
    return False


def only_redaction_differs(change: Change, scheme: str) -> bool:
    """True when one side is the other with secrets redacted: a baseline from before schema 2."""
    return change.kind == "changed" and (
        _redacts(change.old, change.new) or _redacts(change.new, change.old))


CONDITIONS: dict[str, Callable[[Change, str], bool]] = {
    "major_version_changed": major_version_changed,
    "minor_version_only": minor_version_only,
    "only_redaction_differs": only_redaction_differs,
}
