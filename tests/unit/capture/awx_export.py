"""An ansible-runner artifact folder's job events in the shape AWX's job-events API returns.

`/api/v2/jobs/N/job_events/` pages: ``{"count", "next", "previous", "results": [...]}``, each
result a JobEventSerializer object (awx/api/serializers.py: id, type, url, related, created,
job, event, counter, event_display, event_data, event_level, failed, changed, uuid,
parent_uuid, host, host_name, playbook, play, task, role, stdout, start_line, end_line,
verbosity). Used by the unit tests and the lab test to make the AWX export of a real run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

JOB = 42
FAILED = ("runner_on_failed", "runner_on_unreachable")


def runner_events(artifact: Path) -> list[dict[str, Any]]:
    """The folder's events, in counter order."""
    events = [json.loads(p.read_text()) for p in (artifact / "job_events").glob("*.json")]
    return sorted(events, key=lambda e: e["counter"])


def awx_event(event: dict[str, Any], number: int) -> dict[str, Any]:
    data = event.get("event_data", {})
    return {
        "id": 1000 + number, "type": "job_event",
        "url": f"/api/v2/job_events/{1000 + number}/", "related": {}, "summary_fields": {},
        "created": event.get("created"), "modified": event.get("created"), "job": JOB,
        "event": event["event"], "counter": event["counter"], "event_display": event["event"],
        "event_data": data, "event_level": 3 if "host" in data else 1,
        "failed": event["event"] in FAILED, "changed": bool(data.get("res", {}).get("changed")),
        "uuid": event["uuid"], "parent_uuid": event.get("parent_uuid", ""), "host": None,
        "host_name": data.get("host", ""), "playbook": data.get("playbook", ""),
        "play": data.get("play", ""), "task": data.get("task", ""), "role": data.get("role", ""),
        "stdout": event.get("stdout", ""), "start_line": event.get("start_line", 0),
        "end_line": event.get("end_line", 0), "verbosity": 0,
    }


def awx_pages(artifact: Path, page_size: int = 2) -> list[dict[str, Any]]:
    """The API's pages for this run, `page_size` events each."""
    events = [awx_event(e, n) for n, e in enumerate(runner_events(artifact))]
    pages = []
    for start in range(0, len(events), page_size):
        page = start // page_size + 1
        more = start + page_size < len(events)
        pages.append({"count": len(events),
                      "next": f"/api/v2/jobs/{JOB}/job_events/?page={page + 1}" if more else None,
                      "previous": f"/api/v2/jobs/{JOB}/job_events/?page={page - 1}" if page > 1 else None,
                      "results": events[start:start + page_size]})
    return pages


def write_pages(pages: list[dict[str, Any]], path: Path) -> Path:
    """The pages one after another in one file, as `for p in ...; curl ...; done > file` makes."""
    path.write_text("\n".join(json.dumps(page) for page in pages) + "\n")
    return path
