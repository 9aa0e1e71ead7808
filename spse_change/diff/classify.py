"""Minor or major, and why: each change goes to the first policy rule that matches it.

A change no rule matches is major: the SOP consults ITO LKPP on anything
it cannot call a mere setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from spse_change.diff.compare import Change
from spse_change.diff.policy import UNMATCHED, UNMATCHED_ALASAN, UNMATCHED_REASON, Class, Policy


@dataclass(frozen=True, slots=True)
class Classified:
    change: Change
    cls: Class
    rule_id: str
    reason: str
    alasan: str | None = None  # the reason in Bahasa Indonesia, when the rule gives one


def classify(change: Change, policy: Policy, shown: Change | None = None) -> Classified:
    """The first matching rule's class and reason; `shown` is what the report says (default `change`).

    A diff across baseline schemas matches rules on the real values but
    shows a schema-1 value withheld where it may be a secret in clear.
    """
    shown = shown or change
    rule = policy.first_match(change)
    if rule is None:
        return Classified(shown, "major", UNMATCHED, UNMATCHED_REASON, UNMATCHED_ALASAN)
    alasan = rule.explain(shown, rule.alasan) if rule.alasan else None
    return Classified(shown, rule.cls, rule.id, rule.explain(shown), alasan)
