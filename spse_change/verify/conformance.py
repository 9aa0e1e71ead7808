"""Baseline conformance: one expectation per approved path, generated from the approved baseline.

Every leaf of the approved baseline's config, PostgreSQL (`database*`),
services, ports, OS and SPSE categories is expected to hold on the host
now; a path the policy classifies `ignore` is not asserted, and a change a
change record covers is expected (the drift rule, `drift.check.subtract_recorded`).
What the host has and the approved baseline lacks (a new listening port)
fails too, once, at the path where it appears. Values are compared as
captured, so a secret is compared by its keyed hash; messages show values
through `diff.values.display` (a marker reads `***`).

    expectations = expected_state(approved, snapshot_baseline, policy, covering)
    [e for e in expectations if e.failure]   # what does not conform, and why
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spse_change.diff import Policy, diff_baselines
from spse_change.diff.compare import Change
from spse_change.diff.flatten import flatten
from spse_change.diff.values import display
from spse_change.drift.check import subtract_recorded
from spse_change.verify.registry import CONFORMANCE
from spse_change.verify.waivers import Waiver

CATEGORIES = ("os", "services", "ports", "config", "database", "spse")


@dataclass(frozen=True)
class Expectation:
    path: str  # "" for the host as a whole (no approved baseline)
    expected: str  # as displayed (secrets masked)
    failure: str = ""  # why the host does not conform; "" when it does

    @property
    def check_id(self) -> str:
        return f"{CONFORMANCE}:{self.path}" if self.path else CONFORMANCE


@dataclass(frozen=True)
class HostConformance:
    """One host's expectations, and which of their check ids a waiver in force covers."""

    host: str
    expectations: tuple[Expectation, ...]
    waived: frozenset[str] = frozenset()

    def failing(self) -> list[Expectation]:
        """What does not conform and no waiver in force covers."""
        return [e for e in self.expectations if e.failure and e.check_id not in self.waived]


def host_conformance(host: str, expectations: Sequence[Expectation],
                     waivers: Mapping[tuple[str, str], Waiver], today: dt.date) -> HostConformance:
    """The host's expectations, with the check ids a waiver in force on `today` covers."""
    waived = frozenset(e.check_id for e in expectations
                       if (w := waivers.get((host, e.check_id))) and w.active(today))
    return HostConformance(host, tuple(expectations), waived)


def expected_state(expected: Mapping[str, Any], actual: Mapping[str, Any], policy: Policy,
                   covering: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> list[Expectation]:
    """Expectations for one host: `expected` is its approved baseline (or the state a change
    plans), `actual` the snapshot's baseline, `covering` what change records explain."""
    categories = [c for c in sorted(expected.get("data", {}))
                  if c in CATEGORIES or c.startswith("database_")]
    report = diff_baselines(expected, actual, policy, categories)
    report, _recorded = subtract_recorded(report, covering)
    failures: dict[str, str] = {}
    for item in report.items:
        change = item.change
        if change.kind == "added":
            failures[change.path] = f"not in the approved baseline: {display(change.new)} ({item.cls})"
        elif change.kind == "removed":
            failures[change.path] = f"approved {display(change.old)}, now absent ({item.cls})"
        else:
            failures[change.path] = f"approved {display(change.old)}, now {display(change.new)} ({item.cls})"
    for path, why in report.not_compared.items():
        failures[path] = f"not compared: {why}"
    found = [Expectation(path, "", why) for path, why in failures.items()]
    for category in categories:
        tree = expected["data"].get(category)
        if not isinstance(tree, Mapping):
            continue
        flat = flatten(tree, category)
        for path, value in flat.values.items():
            if isinstance(value, Mapping) or _under(path, failures):
                continue
            change = Change(path, "changed", value, value, category)
            rule = policy.first_match(change)
            if rule is not None and rule.cls == "ignore":
                continue
            found.append(Expectation(path, display(value)))
    return sorted(found, key=lambda e: e.path)


def _under(path: str, failures: Mapping[str, str]) -> bool:
    """The path or a parent of it already fails (a removed subtree fails once, at its root)."""
    if path in failures:
        return True
    return any(path.startswith(root) and path[len(root)] in ".[" for root in failures
               if len(path) > len(root))
