"""`apply`'s conformance step: the host after the change against the state the record plans.

The expected state is the host's approved baseline with the planned paths
(the change's live settings and the files that carry them, plus the
values PostgreSQL derives itself) taken from the after-baseline: the
planned change applied, and nothing else allowed to move. The
after-baseline the loop has just captured is the snapshot, so no second
playbook run is made. Only the conformance checks run (`conformance:<path>`,
as `spse-change verify` judges them, waivers in force applied): the
standard hardening checks are not the change's business, and a host that
failed one before the change is not rolled back for it.

    failing = failing_checks(project, host, approved, after, prefixes, policy)
    # ["conformance:database.settings.work_mem.setting", ...]; [] when it conforms
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from spse_change.diff import Policy
from spse_change.diff.flatten import join
from spse_change.project import Project
from spse_change.verify.conformance import expected_state, host_conformance
from spse_change.verify.registry import load_registry
from spse_change.verify.waivers import load_waivers


def planned_state(approved: Mapping[str, Any], after: Mapping[str, Any],
                  prefixes: Sequence[str]) -> dict[str, Any]:
    """`approved` with the subtree at each of `prefixes` (flat paths) taken from `after`."""
    expected = copy.deepcopy(dict(approved))
    expected["data"] = _graft(expected.get("data") or {}, after.get("data") or {}, "", tuple(prefixes))
    return expected


def _graft(mine: Mapping[str, Any], theirs: Mapping[str, Any], parent: str,
           prefixes: tuple[str, ...]) -> dict[str, Any]:
    merged = dict(mine)
    for key in {*mine, *theirs}:
        path = join(parent, key)
        if path in prefixes:
            if key in theirs:
                merged[key] = copy.deepcopy(theirs[key])
            else:
                merged.pop(key, None)
        elif any(p.startswith((f"{path}.", f"{path}[")) for p in prefixes):
            inner_mine, inner_theirs = mine.get(key), theirs.get(key)
            merged[key] = _graft(inner_mine if isinstance(inner_mine, Mapping) else {},
                                 inner_theirs if isinstance(inner_theirs, Mapping) else {},
                                 path, prefixes)
    return merged


def failing_checks(project: Project, host: str, approved: Mapping[str, Any], after: Mapping[str, Any],
                   prefixes: Sequence[str], policy: Policy, today: dt.date | None = None) -> list[str]:
    """The conformance check ids the after-baseline fails against the planned state, unwaived."""
    waivers = load_waivers(project.root, load_registry(project.root))
    expectations = expected_state(planned_state(approved, after, prefixes), after, policy)
    judged = host_conformance(host, expectations, waivers, today or dt.date.today())
    return [e.check_id for e in judged.failing()]
