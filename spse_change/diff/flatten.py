"""Baseline `data` as flat paths, the language diffs and policy rules speak.

A key holding `/`, `.`, `[`, `]` or whitespace (or an empty key) is written
in brackets, so a path reads one way only:
`config[/etc/ssh/sshd_config].parsed.port`, `packages[python3.11]`.
Lists are leaves: their order is data, not structure.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NEEDS_BRACKETS = re.compile(r"[/.\[\]\s]")


@functools.lru_cache(maxsize=1 << 16)
def _suffix(key: str) -> str:
    """What a key adds to its parent's path; cached because keys repeat in every host."""
    return f"[{key}]" if not key or _NEEDS_BRACKETS.search(key) else "." + key


def join(parent: str, key: str) -> str:
    """The path of `key` under `parent` ("" for the top of `data`).

    >>> join(join("", "packages"), "python3.11")
    'packages[python3.11]'
    """
    suffix = _suffix(key)
    return parent + suffix if parent or suffix[0] == "[" else suffix[1:]


@dataclass(frozen=True, slots=True)
class Flat:
    """Every path of one tree: leaves and the mappings above them.

    Mappings are kept (not only leaves) so a diff can report an added or
    removed subtree once, at its root, instead of once per leaf.
    """

    values: dict[str, Any]  # path -> leaf value, or the mapping at that path
    parents: dict[str, str]  # path -> its parent's path (absent for the root)


def flatten(tree: Mapping[str, Any], root: str) -> Flat:
    """Flatten the mapping found at path `root` (e.g. `hardware`)."""
    values: dict[str, Any] = {root: tree}
    parents: dict[str, str] = {}
    stack = [(root, tree)]
    while stack:
        path, node = stack.pop()
        for key, value in node.items():
            child = path + _suffix(key)
            values[child] = value
            parents[child] = path
            if isinstance(value, Mapping):
                stack.append((child, value))
    return Flat(values, parents)
