"""A record as its events say it is: state, fields, activities and their time standards.

:meth:`Record.from_events` folds the history (the source of truth);
:meth:`Record.to_json` is what `record.yml` and `record show --json` hold.
Nothing here depends on the clock or on today's sop.yml: the record keeps
the time standards in force when it was created, so `record.yml` always
renders the same from the same events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from spse_change.records.fields import parse_window
from spse_change.records.states import (
    CONSULT_OUTCOMES,
    COVERING,
    COVERING_MAJOR,
    OBSERVED,
    next_steps,
    state_after,
)

SCHEMA = "spse-change/record/1"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def moment(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ActivityTime:
    """One activity of the record, its start, its end (None: still under way) and its standard."""

    activity: str
    start: str
    end: str | None
    hours: float

    def over(self, now: datetime) -> timedelta | None:
        """How far past its standard the activity ran (or runs, when still under way); None if not."""
        finish = moment(self.end) if self.end else now
        late = finish - moment(self.start) - timedelta(hours=self.hours)
        return late if late > timedelta(0) else None

    def to_json(self) -> dict[str, Any]:
        return {"activity": self.activity, "start": self.start, "end": self.end, "hours": self.hours}


@dataclass(frozen=True)
class Record:
    id: str
    state: str
    title: str
    requester: str  # operator id
    cls: str  # minor | major | none (no item recorded)
    priority: str
    hosts: tuple[str, ...]
    request: Mapping[str, Any]
    evaluation: Mapping[str, Any]
    defaulted: tuple[str, ...]
    approval: Mapping[str, Any] | None
    implementation: Mapping[str, Any]
    items: tuple[Mapping[str, Any], ...]  # planned (classified diff items, each with its host)
    observed: tuple[Mapping[str, Any], ...]  # what apply saw (the before → after diff), once verified
    baselines: Mapping[str, Mapping[str, str]]  # host -> {planned, before, after}
    attachments: tuple[Mapping[str, Any], ...]
    activities: tuple[ActivityTime, ...]
    standards: Mapping[str, float]
    plan: Mapping[str, Any] | None  # the planned change document, as sealed at creation
    origin: str  # planned (a change to make) | observed (already made: `record new --diff`)
    consultation: Mapping[str, Any] | None  # ITO LKPP's answer: outcome, note, who, when
    events: tuple[Mapping[str, Any], ...] = field(repr=False)

    @property
    def emergency(self) -> bool:
        return self.evaluation.get("category") == "Emergency"

    @property
    def approved(self) -> bool:
        return bool(self.approval and self.approval.get("decision") == "approved")

    @property
    def observed_change(self) -> bool:
        """A change already made (`record new --diff`): approving or closing it approves its baseline."""
        return self.origin == OBSERVED

    def next_steps(self) -> list[str]:
        return next_steps(self.state, self.emergency, self.approved, self.observed_change)

    def window(self) -> tuple[datetime, datetime] | None:
        """The maintenance window: the approval's, else the evaluation's; None when there is none."""
        text = (self.approval or {}).get("window") or self.evaluation.get("window")
        return parse_window(text) if text else None

    def in_window(self, now: datetime | None = None) -> bool | None:
        """Whether `now` is inside the maintenance window; None when the record has no window."""
        window = self.window()
        if window is None:
            return None
        now = now or datetime.now(UTC)
        return window[0] <= now <= window[1]

    def deviations(self) -> list[ActivityTime]:
        """Finished activities that ran past their standard: kept, to be accounted for."""
        return [a for a in self.activities if a.end and a.over(moment(a.end))]

    def overdue(self, now: datetime) -> list[tuple[ActivityTime, timedelta]]:
        """Every activity past its standard, finished (a kept deviation) or still under way."""
        return [(a, late) for a in self.activities if (late := a.over(now)) is not None]

    def coverage(self) -> list[Mapping[str, Any]]:
        """The host changes this record explains, by its state (drift subtracts them)."""
        if self.state in COVERING:
            return [*self.items, *self.observed]
        if self.state in COVERING_MAJOR:
            return [item for item in self.items if item.get("class") == "major"]
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "id": self.id, "title": self.title, "state": self.state,
            "next_steps": self.next_steps(), "class": self.cls, "origin": self.origin,
            "priority": self.priority,
            "hosts": list(self.hosts), "requester": self.requester,
            "request": dict(self.request), "evaluation": dict(self.evaluation),
            "defaulted": list(self.defaulted),
            "approval": dict(self.approval) if self.approval else None,
            "consultation": dict(self.consultation) if self.consultation else None,
            "implementation": dict(self.implementation),
            "items": [dict(i) for i in self.items], "observed": [dict(i) for i in self.observed],
            "baselines": {h: dict(b) for h, b in self.baselines.items()}, "plan": self.plan,
            "attachments": [dict(a) for a in self.attachments],
            "standards_hours": dict(self.standards),
            "activities": [a.to_json() for a in self.activities],
            "deviations": [a.to_json() for a in self.deviations()],
            "history": [{"seq": e["seq"], "at": e["at"], "step": e["step"], "actor": e["actor"],
                         "note": _note(e)} for e in self.events],
            "head": {"events": len(self.events), "mac": self.events[-1]["mac"] if self.events else ""},
        }

    @classmethod
    def from_events(cls, events: Sequence[Mapping[str, Any]]) -> Record:
        return _Fold(events).record()


def _note(event: Mapping[str, Any]) -> str:
    data = event["data"]
    if event["step"] == "attach":
        return f"attached {data['name']}" + (f": {data['note']}" if data.get("note") else "")
    if event["step"] == "create":
        return data["title"]
    if event["step"] == "consult":
        return f"{data['outcome']}: {data['note']}"
    return str(data.get("reason") or data.get("note") or "")


class _Fold:
    """Applies each event to the record's state, in order."""

    def __init__(self, events: Sequence[Mapping[str, Any]]) -> None:
        self.events = events
        first = events[0]
        data = first["data"]
        self.fields: dict[str, Any] = {
            "id": first["record"], "title": data["title"], "requester": first["actor"],
            "cls": data["class"], "priority": data["priority"], "hosts": tuple(data["hosts"]),
            "request": data["request"], "evaluation": data["evaluation"],
            "defaulted": tuple(data["defaulted"]), "approval": None, "implementation": {},
            "items": tuple(data["items"]), "observed": (),
            "baselines": {h: {"planned": b} for h, b in data["baselines"].items()},
            "attachments": [], "standards": data["standards"], "plan": data["plan"],
            "origin": data.get("origin", "planned"), "consultation": None,
        }
        for host, ids in data.get("observed_baselines", {}).items():
            self.fields["baselines"].setdefault(host, {}).update(ids)
        self.state = "consultation" if data["class"] == "major" else "submitted"
        self.activities: list[ActivityTime] = []
        self._start("consultation" if self.state == "consultation" else "approval", first["at"])

    def _start(self, activity: str, at: str) -> None:
        """Start an activity under the standard the record keeps (a record made before that
        activity had a standard does not time it)."""
        hours = self.fields["standards"].get(activity)
        if hours is not None:
            self.activities.append(ActivityTime(activity, at, None, hours))

    def _end(self, activity: str, at: str) -> None:
        for index, act in enumerate(self.activities):
            if act.activity == activity and act.end is None:
                self.activities[index] = ActivityTime(act.activity, act.start, at, act.hours)

    def record(self) -> Record:
        for event in self.events[1:]:
            getattr(self, "_" + event["step"].replace("-", "_"))(event)
            self.state = state_after(event["step"], self.state, event["data"].get("outcome"),
                               self.fields["origin"] == OBSERVED)
        self.fields["attachments"] = tuple(self.fields["attachments"])
        return Record(state=self.state, activities=tuple(self.activities), events=tuple(self.events),
                      **self.fields)

    def _decide(self, event: Mapping[str, Any], decision: str) -> None:
        self.fields["approval"] = {"decision": decision, "reason": event["data"]["reason"],
                                   "approver": event["actor"], "approver_name": event["actor_name"],
                                   "at": event["at"], "window": event["data"].get("window")}
        self._end("approval", event["at"])

    def _approve(self, event: Mapping[str, Any]) -> None:
        self._decide(event, "approved")
        self._approved_baselines(event)

    def _approved_baselines(self, event: Mapping[str, Any]) -> None:
        """The baselines a step made the hosts' approved ones (an observed record's approval, a close)."""
        for host, baseline_id in event["data"].get("baselines", {}).items():
            self.fields["baselines"].setdefault(host, {})["closed"] = baseline_id

    def _reject(self, event: Mapping[str, Any]) -> None:
        self._decide(event, "rejected")

    def _apply(self, event: Mapping[str, Any]) -> None:
        impl = self.fields["implementation"]
        self.fields["implementation"] = {
            "implementer": event["actor"], "implementer_name": event["actor_name"],
            "started": event["at"], "ended": None, "result": None,
            "notes": event["data"].get("reason", ""),
            "attempts": impl.get("attempts", 0) + 1,
            "outside_window": event["data"].get("outside_window"),
        }
        self._start("implementation", event["at"])

    def _finish(self, event: Mapping[str, Any], result: str) -> None:
        impl = dict(self.fields["implementation"])
        impl.update(ended=event["at"], result=result)
        if event["data"].get("reason") or event["data"].get("note"):
            impl["notes"] = event["data"].get("reason") or event["data"].get("note")
        self.fields["implementation"] = impl
        self._end("implementation", event["at"])

    def _verify(self, event: Mapping[str, Any]) -> None:
        self._finish(event, "verified")
        data = event["data"]
        for host, after in data["after"].items():
            entry = self.fields["baselines"].setdefault(host, {})
            entry["after"] = after
            if host in data.get("before", {}):
                entry["before"] = data["before"][host]
        self.fields["observed"] = tuple(data.get("observed", ()))
        self._start("closing", event["at"])

    def _roll_back(self, event: Mapping[str, Any]) -> None:
        self._finish(event, "rolled-back")
        for host, restored in event["data"].get("restored", {}).items():
            self.fields["baselines"].setdefault(host, {})["restored"] = restored
        self._end("closing", event["at"])

    def _fail(self, event: Mapping[str, Any]) -> None:
        self._finish(event, "failed")
        self._end("closing", event["at"])

    def _consult(self, event: Mapping[str, Any]) -> None:
        data = event["data"]
        self.fields["consultation"] = {"outcome": data["outcome"], "note": data["note"],
                                       "by": event["actor"], "by_name": event["actor_name"],
                                       "at": event["at"]}
        self._end("consultation", event["at"])
        follow_up = CONSULT_OUTCOMES[data["outcome"]].activity
        if follow_up is not None:
            self._start(follow_up, event["at"])

    def _close(self, event: Mapping[str, Any]) -> None:
        for activity in ("closing", *(o.activity for o in CONSULT_OUTCOMES.values() if o.activity)):
            self._end(activity, event["at"])
        self._approved_baselines(event)

    def _attach(self, event: Mapping[str, Any]) -> None:
        self.fields["attachments"].append({**event["data"], "by": event["actor"], "at": event["at"]})
