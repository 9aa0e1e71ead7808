"""The record's life, as data: which step leads from which state to which.

    submitted ─approve→ approved ─apply→ applying ─verify→ verified ─close→ closed
        │                                   │  └─roll-back→ rolled-back ─apply→ applying (again)
        └─reject→ rejected                  └─fail→ failed (the rollback did not restore: a human looks)

    consultation ─consult→ assistance-requested | proposal-submitted | internal ─close→ closed
                     └───→ rejected

A major record starts in `consultation` (ITO LKPP is consulted; it is
never applied through the minor-change loop); the consultation's outcome
(:data:`CONSULT_OUTCOMES`) picks the next state and the SOP activity that
follows it. An *Emergency* record may be applied before approval; its
approval then follows (the state stays) and, until it does, the record is
overdue once the approval time is over. A record of a change already made
(`record new --diff`, origin `observed`) is closed by its approval: there
is nothing left to apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

STATES = ("submitted", "consultation", "assistance-requested", "proposal-submitted", "internal",
          "approved", "rejected", "applying", "verified", "rolled-back", "failed", "closed")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One answer of the consultation with ITO LKPP (SOP activities 5 and 6)."""

    name: str
    state: str  # the record's state after it
    activity: str | None  # the record activity it starts (ends at close); None: the record ends
    description: str


CONSULT_OUTCOMES: Mapping[str, Outcome] = {o.name: o for o in (
    Outcome("lkpp", "assistance-requested", "assistance",
            "LKPP's technical help is needed: the LPSE files a permohonan bantuan teknis"),
    Outcome("vendor", "proposal-submitted", "proposal",
            "a vendor is needed: the LPSE files an usulan kegiatan to the head of the LPSE"),
    Outcome("internal", "internal", "internal", "the LPSE makes the change itself"),
    Outcome("rejected", "rejected", None, "the change is not to be made: the record ends"),
)}


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    sources: tuple[str, ...]  # states the step may start from ("*": any)
    target: str | None  # the state after it (None: unchanged, or set by the step's outcome)
    description: str
    targets: tuple[str, ...] = ()  # the states a step with outcomes may lead to


STEPS: Mapping[str, Step] = {s.name: s for s in (
    Step("create", (), "submitted", "a new record (a major one starts in consultation)"),
    Step("approve", ("submitted",), "approved", "the head of the LPSE approves, with a reason"),
    Step("reject", ("submitted",), "rejected", "the head of the LPSE rejects, with a reason"),
    Step("apply", ("approved", "rolled-back"), "applying", "the operator starts applying"),
    Step("verify", ("applying",), "verified", "apply checked the result"),
    Step("roll-back", ("applying", "verified"), "rolled-back",
         "every touched host was restored to its before-baseline"),
    Step("fail", ("applying", "verified"), "failed", "the rollback did not restore a host"),
    Step("consult", ("consultation",), None, "the consultation's outcome is recorded (who, when, why)",
         tuple(o.state for o in CONSULT_OUTCOMES.values())),
    Step("close", ("verified", "rolled-back", "failed", "assistance-requested", "proposal-submitted",
                   "internal"), "closed", "the head of the LPSE closes it"),
    Step("attach", ("*",), None, "evidence added to the record"),
)}

# An Emergency record may be applied before approval; approval follows while the state stays.
EMERGENCY_APPLY_FROM = ("submitted",)
LATE_APPROVAL_FROM = ("applying", "verified", "rolled-back", "failed")

# States in which a record's items explain a host's changes (drift subtracts them).
COVERING = ("applying", "verified", "closed")
# A major record's items, while ITO LKPP is consulted and while its outcome is carried out.
COVERING_MAJOR = ("consultation", "assistance-requested", "proposal-submitted", "internal")
# Closing one of these makes a baseline of each host the approved one (`record close --baseline`).
CLOSE_WITH_BASELINE = ("assistance-requested", "proposal-submitted", "internal")
# A record of a change already made (`record new --diff`) is closed by its approval.
OBSERVED = "observed"


def allowed(step: str, state: str, emergency: bool, approved: bool, observed: bool = False) -> bool:
    """Whether `step` may be taken from `state` (the role and requester checks are apart)."""
    rule = STEPS[step]
    if observed and step == "apply":
        return False  # already made: nothing to apply
    if "*" in rule.sources or state in rule.sources:
        return not (step == "close" and emergency and not approved)
    if emergency and step == "apply":
        return state in EMERGENCY_APPLY_FROM
    if emergency and step == "approve":
        return state in LATE_APPROVAL_FROM and not approved
    return False


def next_steps(state: str, emergency: bool, approved: bool, observed: bool = False) -> list[str]:
    """The steps allowed from `state` (attach, always allowed, left out)."""
    return [name for name in STEPS if name not in ("create", "attach")
            and allowed(name, state, emergency, approved, observed)]


def state_after(step: str, state: str, outcome: str | None = None, observed: bool = False) -> str:
    """The state after `step` taken from `state`: the step's target, its outcome's, or unchanged.

    A late approval (an Emergency record already applied) keeps the state;
    an observed record's approval closes it.
    """
    if step == "consult":
        return CONSULT_OUTCOMES[outcome or ""].state
    if step == "approve":
        return ("closed" if observed else "approved") if state == "submitted" else state
    return STEPS[step].target or state
