"""Which leaves differ between two baselines' `data`, computed on flat paths.

Set operations over path keys plus a strict value comparison give the same
answer as `deepdiff.DeepDiff` (lists compared as whole leaves) at a fraction
of its cost, which matters when a whole fleet is diffed at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from spse_change.diff.flatten import Flat, flatten, join
from spse_change.diff.values import is_secret

Kind = Literal["added", "removed", "changed"]
KINDS: tuple[Kind, ...] = ("added", "removed", "changed")
_MISSING: Any = object()
DIGEST_FIELDS = (".sha256", ".hmac")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: a changed leaf, or an added/removed subtree at its root."""

    path: str
    kind: Kind
    old: Any  # None when added
    new: Any  # None when removed
    category: str

    @property
    def secret(self) -> bool:
        return is_secret(self.old) or is_secret(self.new)

    @property
    def digest(self) -> bool:
        """A file's content digest (`sha256`, or `hmac` for files that may hold secrets)."""
        return self.category == "config" and self.path.endswith(DIGEST_FIELDS)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same type: DeepDiff reports `1` → `1.0` or `1` → `true`."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    return bool(a == b)


def diff_data(old: Mapping[str, Any], new: Mapping[str, Any],
              categories: Iterable[str]) -> list[Change]:
    """Every change in the given top-level categories of two `data` mappings."""
    changes: list[Change] = []
    for category in categories:
        path = join("", category)
        before, after = old.get(category), new.get(category)
        if before in (None, {}) and after in (None, {}):
            continue  # nothing recorded on either side, whether as {} or not at all
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            changes += compare(flatten(before, path), flatten(after, path), category)
        elif before is None and after is not None:
            changes.append(Change(path, "added", None, after, category))
        elif after is None and before is not None:
            changes.append(Change(path, "removed", before, None, category))
        elif not same(before, after):
            changes.append(Change(path, "changed", before, after, category))
    return changes


def compare(old: Flat, new: Flat, category: str) -> list[Change]:
    """Changes between two flattenings of the same category.

    A path present on one side only is reported when its parent is a mapping
    on the other side, i.e. once at the root of an added or removed subtree.
    """
    before, after = old.values, new.values
    changes = [Change(path, "added", None, after[path], category)
               for path in after.keys() - before.keys()
               if isinstance(before.get(new.parents[path]), Mapping)]
    changes += [Change(path, "removed", before[path], None, category)
                for path in before.keys() - after.keys()
                if isinstance(after.get(old.parents[path]), Mapping)]
    for path, value in before.items():
        other = after.get(path, _MISSING)
        if other is _MISSING or (isinstance(value, Mapping) and isinstance(other, Mapping)):
            continue
        if not same(value, other):
            changes.append(Change(path, "changed", value, other, category))
    return changes

