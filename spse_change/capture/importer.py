"""Store baselines from a finished run's events: an ansible-runner artifact folder or an AWX export.

A run of playbooks/baseline.yml elsewhere (AWX, a plain ``ansible-runner run``) leaves its
job events; each host's ``runner_on_ok`` of the capture task holds the module's signed result.
The export is read whole and checked before anything is stored:

- every event parses, counters run 1..N without a gap or a clash, and the run's last event
  (``playbook_on_stats``) is there: else the export is cut;
- every host the stats name has its capture task's event, with a result (ansible-runner and
  AWX replace an event's ``res`` by ``{}`` above ``MAX_EVENT_RES``/``MAX_EVENT_RES_DATA``);
- every result's signature verifies for its host with the project's key (one edited byte fails).

Any of these refuses the whole import (one line, exit 2, nothing stored). Then each result
becomes a baseline through the capture's own ``host_baseline``: same id, same time, same file as
the capture of that run would have stored, so an import repeated, or of a run already captured
directly, stores nothing new (its hosts are reported as already stored).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spse_change.capture.baseline import CAPTURE_TASK, host_baseline
from spse_change.capture.signature import project_key
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.runner.playbook import EVENT_OUTCOME, HostResult
from spse_change.store.baselines import BaselineStore, _checked_host

STATS = "playbook_on_stats"
SIZE_LIMIT_NOTE = ("its result was dropped for size (ansible-runner drops an event's res above "
                   "MAX_EVENT_RES, AWX's setting MAX_EVENT_RES_DATA, default 700000)")


@dataclass(frozen=True)
class ImportRequest:
    project: Project
    source: Path
    label: str = ""
    key_file: Path | None = None  # the key the run signed with, when not the project's


@dataclass
class ImportResult:
    stored: dict[str, Path] = field(default_factory=dict)  # host -> new baseline file
    present: dict[str, Path] = field(default_factory=dict)  # host -> the same baseline, stored before
    failed: dict[str, str] = field(default_factory=dict)  # host -> why the run has no result for it

    def to_json(self) -> dict[str, Any]:
        return {"stored": {h: str(p) for h, p in self.stored.items()},
                "already_stored": {h: str(p) for h, p in self.present.items()},
                "failed": self.failed}


def import_baselines(request: ImportRequest) -> ImportResult:
    """Check the whole export, then store each host's baseline that is not stored yet."""
    events = read_events(request.source)
    key = _key(request)
    outcomes = host_outcomes(events, request.source)
    result = ImportResult()
    baselines = []
    for host, outcome in sorted(outcomes.items()):
        if outcome.outcome not in ("ok", "changed"):
            result.failed[host] = outcome.message or f"{outcome.outcome}, no baseline returned"
            continue
        try:
            baselines.append(host_baseline(host, outcome, request.label, key))
        except SpseChangeError as exc:
            raise SpseChangeError(f"{request.source}: host {host}: {exc.message}") from None
    store = BaselineStore(request.project.records_dir)
    for baseline in baselines:
        path = store.root / baseline["host"] / f"{baseline['id']}.json"
        if path.is_file():
            result.present[baseline["host"]] = path
        else:
            result.stored[baseline["host"]] = store.save(baseline)
    return result


def _key(request: ImportRequest) -> bytes:
    if request.key_file is not None:
        path = request.key_file
        if not path.is_file():
            raise SpseChangeError(f"key file not found: {path}")
        if path.stat().st_mode & 0o077:
            raise SpseChangeError(f"{path}: key file must not be readable by others (chmod 600)")
        return path.read_bytes().strip()
    if not (request.project.state_dir / "hmac.key").is_file():
        raise SpseChangeError(f"{request.project.state_dir / 'hmac.key'} does not exist: put the key "
                              "the job signed with there (docs/awx.md), or give --key-file")
    return project_key(request.project)


# ---- reading the export -------------------------------------------------------------------


def read_events(source: Path) -> list[dict[str, Any]]:
    """The run's events in counter order, checked whole: parsed, 1..N without gaps, ended."""
    if source.is_dir():
        events, expected = _artifact_events(source), None
    elif source.is_file():
        events, expected = _export_events(source)
    else:
        raise SpseChangeError(f"{source}: no such file or folder")
    by_counter: dict[int, dict[str, Any]] = {}
    for event in events:
        _check_event(event, source)
        seen = by_counter.setdefault(event["counter"], event)
        if seen.get("uuid") != event.get("uuid"):
            raise SpseChangeError(f"{source}: two events with counter {event['counter']} "
                                  "(the events of two runs mixed?)")
    if not by_counter:
        raise SpseChangeError(f"{source}: holds no job events")
    last = max(by_counter)
    missing = [n for n in range(1, last + 1) if n not in by_counter]
    if missing:
        raise SpseChangeError(f"{source}: is cut: {len(missing)} of {last} events missing "
                              f"(counter {missing[0]} first); export every event, unfiltered")
    if expected is not None and expected != last:
        raise SpseChangeError(f"{source}: is cut: its pages say {expected} events, it holds {last}")
    if by_counter[last]["event"] != STATS:
        raise SpseChangeError(f"{source}: is cut: it does not end with the run's {STATS} event "
                              "(the run did not finish, or the export stops early)")
    return [by_counter[n] for n in range(1, last + 1)]


def _check_event(event: Any, source: Path) -> None:
    """An event has ``event`` and ``counter``; ``event_data`` too, except ansible-runner's
    ``verbose`` events (AWX gives them ``{}``), which get ``{}`` here."""
    if isinstance(event, dict):
        event.setdefault("event_data", {})
    if not (isinstance(event, dict) and isinstance(event.get("event"), str)
            and isinstance(event["event_data"], dict)
            and isinstance(event.get("counter"), int) and event["counter"] > 0):
        raise SpseChangeError(f"{source}: not a job event (an object with 'event', 'counter' "
                              f"and 'event_data'): {json.dumps(event)[:80]}")


def _artifact_events(folder: Path) -> list[Any]:
    """``artifacts/<ident>/job_events/<counter>-<uuid>.json`` (the folder or its job_events)."""
    events_dir = folder / "job_events" if (folder / "job_events").is_dir() else folder
    files = sorted(events_dir.glob("*.json"))
    if events_dir.name != "job_events" or not files:
        raise SpseChangeError(f"{folder}: not an ansible-runner artifact folder (no job_events/*.json)")
    events = []
    for path in files:
        try:
            events.append(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SpseChangeError(f"{path}: is cut or damaged: not JSON ({exc})") from None
    return events


def _export_events(path: Path) -> tuple[list[Any], int | None]:
    """Events from AWX's job-events API: one array, or pages (``{"count", "results"}``), as one
    JSON document or several written one after another. Also says the count the pages name."""
    events: list[Any] = []
    counts: set[int] = set()
    for value in _json_values(path):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "results" in item and "event" not in item:
                if not isinstance(item["results"], list):
                    raise SpseChangeError(f"{path}: a page's 'results' is not a list")
                events.extend(item["results"])
                if isinstance(item.get("count"), int):
                    counts.add(item["count"])
            else:
                events.append(item)
    if len(counts) > 1:
        raise SpseChangeError(f"{path}: pages of different jobs (counts {sorted(counts)})")
    return events, next(iter(counts), None)


def _json_values(path: Path) -> Iterator[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpseChangeError(f"{path}: not UTF-8 text ({exc})") from None
    decoder = json.JSONDecoder()
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return
        try:
            value, at = decoder.raw_decode(text, at)
        except ValueError as exc:
            raise SpseChangeError(f"{path}: is cut or damaged: not JSON ({exc})") from None
        yield value


# ---- what each host's capture returned ----------------------------------------------------


def host_outcomes(events: list[dict[str, Any]], source: Path) -> dict[str, HostResult]:
    """Each host's capture-task result, as a capture run folds it; every host the run's stats
    name must have one."""
    hosts: dict[str, HostResult] = {}
    for event in events:
        data = event["event_data"]
        if event["event"] not in EVENT_OUTCOME or data.get("task") != CAPTURE_TASK:
            continue
        try:
            host = _checked_host(str(data.get("host", "")))
        except SpseChangeError as exc:
            raise SpseChangeError(f"{source}: {exc.message}") from None
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        if event["event"] == "runner_on_ok" and not res:
            raise SpseChangeError(f"{source}: host {host}: {SIZE_LIMIT_NOTE}")
        hosts.setdefault(host, HostResult(host)).record(EVENT_OUTCOME[event["event"]], CAPTURE_TASK, res)
    if not hosts:
        raise SpseChangeError(f"{source}: no result of the task '{CAPTURE_TASK}' in these events "
                              "(not a run of playbooks/baseline.yml)")
    stats = events[-1]["event_data"]
    processed = stats.get("processed") if isinstance(stats.get("processed"), dict) else {}
    absent = sorted(set(processed) - set(hosts))
    if absent:
        raise SpseChangeError(f"{source}: is cut: no capture result for host(s) "
                              f"{', '.join(absent)}, which the run's stats name")
    return hosts
