"""Minor or major, and why: each change goes to the first policy rule that matches it.

A change no rule matches is major: the SOP consults ITO LKPP on anything
it cannot call a mere setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from spse_change.diff.compare import Change
from spse_change.diff.policy import UNMATCHED, UNMATCHED_REASON, Class, Policy


@dataclass(frozen=True, slots=True)
class Classified:
    change: Change
    cls: Class
    rule_id: str
    reason: str


def classify(change: Change, policy: Policy) -> Classified:
    rule = policy.first_match(change)
    if rule is None:
        return Classified(change, "major", UNMATCHED, UNMATCHED_REASON)
    return Classified(change, rule.cls, rule.id, rule.explain(change))
