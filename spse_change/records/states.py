"""The record's life, as data: which step leads from which state to which.

    submitted ─approve→ approved ─apply→ applying ─verify→ verified ─close→ closed
        │                                   │  └─roll-back→ rolled-back ─apply→ applying (again)
        └─reject→ rejected                  └─fail→ failed (the rollback did not restore: a human looks)

A major record starts in `consultation` (ITO LKPP is consulted; it is
never applied through the minor-change loop). An *Emergency* record may be
applied before approval; its approval then follows (the state stays) and,
until it does, the record is overdue once the approval time is over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

STATES = ("submitted", "consultation", "approved", "rejected", "applying", "verified",
          "rolled-back", "failed", "closed")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    sources: tuple[str, ...]  # states the step may start from ("*": any)
    target: str | None  # the state after it (None: unchanged)
    description: str


STEPS: Mapping[str, Step] = {s.name: s for s in (
    Step("create", (), "submitted", "a new record (a major one starts in consultation)"),
    Step("approve", ("submitted",), "approved", "the head of the LPSE approves, with a reason"),
    Step("reject", ("submitted",), "rejected", "the head of the LPSE rejects, with a reason"),
    Step("apply", ("approved", "rolled-back"), "applying", "the operator starts applying"),
    Step("verify", ("applying",), "verified", "apply checked the result"),
    Step("roll-back", ("applying", "verified"), "rolled-back",
         "every touched host was restored to its before-baseline"),
    Step("fail", ("applying", "verified"), "failed", "the rollback did not restore a host"),
    Step("close", ("verified", "rolled-back", "failed"), "closed", "the head of the LPSE closes it"),
    Step("attach", ("*",), None, "evidence added to the record"),
)}

# An Emergency record may be applied before approval; approval follows while the state stays.
EMERGENCY_APPLY_FROM = ("submitted",)
LATE_APPROVAL_FROM = ("applying", "verified", "rolled-back", "failed")

# States in which a record's items explain a host's changes (drift subtracts them).
COVERING = ("applying", "verified", "closed")
COVERING_MAJOR = ("consultation",)  # a major record's items, while ITO LKPP is consulted


def allowed(step: str, state: str, emergency: bool, approved: bool) -> bool:
    """Whether `step` may be taken from `state` (the role and requester checks are apart)."""
    rule = STEPS[step]
    if "*" in rule.sources or state in rule.sources:
        return not (step == "close" and emergency and not approved)
    if emergency and step == "apply":
        return state in EMERGENCY_APPLY_FROM
    if emergency and step == "approve":
        return state in LATE_APPROVAL_FROM and not approved
    return False


def next_steps(state: str, emergency: bool, approved: bool) -> list[str]:
    """The steps allowed from `state` (attach, always allowed, left out)."""
    return [name for name in STEPS if name not in ("create", "attach")
            and allowed(name, state, emergency, approved)]
