"""The diff service: two baselines and a policy in, a classified report out.

Services return data and never print; the CLI renders the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spse_change.diff.classify import classify
from spse_change.diff.compare import DIGEST_FIELDS as CONTENT_DIGESTS
from spse_change.diff.compare import Change, diff_data
from spse_change.diff.flatten import join
from spse_change.diff.migration import SchemaBridge, schema_bridge
from spse_change.diff.policy import Policy
from spse_change.diff.report import BaselineRef, DiffReport
from spse_change.errors import SpseChangeError

CATEGORIES = ("hardware", "os", "packages", "services", "ports", "config", "database", "spse")
# A category only hosts of this inventory group have: its absence there is no gap.
GROUP_OF = {"database": "spse_db", "spse": "spse_app"}


def diff_baselines(old: Mapping[str, Any], new: Mapping[str, Any], policy: Policy,
                   categories: Sequence[str] | None = None) -> DiffReport:
    """Compare `old` → `new` (baseline documents), optionally only some categories.

    What a baseline marks `incomplete`, or lacks while the other side has
    it, is left out on both sides and listed as not compared: an unreadable
    category must not look like a removal, nor a clean host.
    """
    old_data, new_data = _data(old), _data(new)
    chosen = _categories(categories, old_data.keys() | new_data.keys())
    bridge = schema_bridge(old, new)
    not_compared = _not_compared(old, new, chosen)
    not_compared.update(_absent(old, new, chosen, not_compared, bridge))
    for keys in not_compared:
        old_data, new_data = _without(old_data, keys), _without(new_data, keys)
    changes = _without_explained_digests(diff_data(old_data, new_data, chosen))
    if bridge is not None:
        policy = bridge.policy(policy)
        classified = [classify(change, policy, bridge.withhold(change)) for change in changes]
    else:
        classified = [classify(change, policy) for change in changes]
    items = sorted((item for item in classified if item.cls != "ignore"),
                   key=lambda item: (item.change.category, item.change.path))
    return DiffReport(
        old=BaselineRef.of(old), new=BaselineRef.of(new), items=tuple(items),
        ignored=len(classified) - len(items),
        not_compared={_path(keys): why for keys, why in sorted(not_compared.items())},
        categories=tuple(categories) if categories is not None else None,
    )


DIGEST_FIELDS = (*CONTENT_DIGESTS, ".size")


def _without_explained_digests(changes: Sequence[Change]) -> list[Change]:
    """A file whose parsed keys changed has a new digest (and maybe size) too: one fact, said once.

    A digest change is kept when no parsed key explains it (comments,
    unparsed text, a file we only hash).
    """
    explained = {c.path.partition("].parsed")[0] + "]" for c in changes
                 if c.category == "config" and "].parsed" in c.path}
    return [c for c in changes if not (
        c.category == "config" and c.path.endswith(DIGEST_FIELDS)
        and c.path.rpartition(".")[0] in explained)]


def _data(baseline: Mapping[str, Any]) -> Mapping[str, Any]:
    data = baseline.get("data")
    if not isinstance(data, Mapping):
        raise SpseChangeError(f"baseline {baseline.get('id', '(no id)')}: 'data' is not a mapping")
    return data


def _categories(asked: Sequence[str] | None, present: set[str]) -> list[str]:
    known = set(CATEGORIES) | present
    if asked is None:
        return sorted(known)
    for category in asked:
        if category not in known:
            raise SpseChangeError(f"unknown category '{category}' "
                                  f"(known: {', '.join(sorted(known))})")
    return sorted(set(asked))


def _not_compared(old: Mapping[str, Any], new: Mapping[str, Any],
                  chosen: list[str]) -> dict[tuple[str, ...], str]:
    """Keys (`("database",)`, `("config", "/etc/x")`) that either side could not read, and why.

    A whole category neither side holds data for is left out when the
    host's groups do not call for it: psql missing on an app server is no gap.
    """
    reasons: dict[tuple[str, ...], list[str]] = {}
    groups = new.get("groups") or old.get("groups") or []
    for side, baseline in (("old", old), ("new", new)):
        for entry, why in (baseline.get("incomplete") or {}).items():
            category, _, sub = entry.partition(":")
            if category not in chosen:
                continue
            if not sub and not _called_for(category, groups) and not any(
                    b["data"].get(category) for b in (old, new)):
                continue
            keys = (category, sub) if sub else (category,)
            reasons.setdefault(keys, []).append(f"{side} baseline: {why}")
    return {keys: "; ".join(why) for keys, why in reasons.items()}


def _called_for(category: str, groups: Sequence[str]) -> bool:
    """Whether a host of these inventory groups should have this category (unknown groups: yes)."""
    group = GROUP_OF.get(category.partition("_")[0])
    return group is None or not groups or group in groups


def _absent(old: Mapping[str, Any], new: Mapping[str, Any], chosen: list[str],
            known: Mapping[tuple[str, ...], str],
            bridge: SchemaBridge | None) -> dict[tuple[str, ...], str]:
    """Categories one side lacks while the other has them: not compared, unless that is explained.

    Explained: the lacking host is not in the inventory group the category
    belongs to (no `spse_db`: no `database`), then the diff shows it
    removed or added; or the lacking side is an older schema that never
    recorded it (`database_5433` before schema 2), then it is ignored.
    """
    found: dict[tuple[str, ...], str] = {}
    for category in chosen:
        if (category,) in known:
            continue
        has_old, has_new = (b["data"].get(category) not in (None, {}) for b in (old, new))
        if has_old == has_new:
            continue
        side, lacking = ("new", new) if has_old else ("old", old)
        if not _called_for(category, lacking.get("groups") or []):
            continue
        if bridge is not None and bridge.lacks_by_schema(lacking, category):
            continue
        found[(category,)] = f"absent from the {side} baseline"
    return found


def _path(keys: tuple[str, ...]) -> str:
    path = ""
    for key in keys:
        path = join(path, key)
    return path


def _without(tree: Mapping[str, Any], keys: tuple[str, ...]) -> Mapping[str, Any]:
    """`tree` minus the entry at `keys`, copying only the mappings on the way down."""
    head, rest = keys[0], keys[1:]
    child = tree.get(head)
    if child is None or (rest and not isinstance(child, Mapping)):
        return tree
    copy = dict(tree)
    if rest:
        copy[head] = _without(child, rest)
    else:
        del copy[head]
    return copy
