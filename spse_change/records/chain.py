"""The event history's keyed hash chain: each event's MAC covers itself and the MAC before it.

The key is the installation's HMAC key (`.spse-change/hmac.key`), so
someone editing `events.jsonl` cannot recompute the chain. Control machines
that share records through git share that key too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

EVENT_FIELDS = frozenset({"record", "seq", "at", "step", "actor", "actor_name", "data", "prev", "mac"})


def canonical(event: Mapping[str, Any]) -> bytes:
    """The bytes the MAC covers: every field but `mac`, keys sorted, no spaces."""
    body = {key: value for key, value in event.items() if key != "mac"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal(event: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    return {**event, "mac": hmac.new(key, canonical(event), hashlib.sha256).hexdigest()}


def line(event: Mapping[str, Any]) -> str:
    """One event as one line of `events.jsonl`."""
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def parse(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The events of an `events.jsonl`, and a problem for each line that is not one."""
    events, problems = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            problems.append(f"events.jsonl line {number}: not a JSON event")
            continue
        if not isinstance(event, dict) or set(event) != EVENT_FIELDS:
            problems.append(f"events.jsonl line {number}: not an event (fields changed)")
            continue
        events.append(event)
    return events, problems


def verify(events: Sequence[Mapping[str, Any]], key: bytes, record_id: str) -> list[str]:
    """Every break in the chain, named: an edited, removed, reordered or foreign event."""
    problems = []
    prev = ""
    for index, event in enumerate(events):
        seq, step = event.get("seq"), event.get("step")
        name = f"event {seq} ({step})"
        expected = hmac.new(key, canonical(event), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(event.get("mac")), expected):
            problems.append(f"{name}: edited (its MAC does not match its content)")
        elif event.get("record") != record_id:
            problems.append(f"{name}: belongs to record {event.get('record')}, not {record_id}")
        if seq != index + 1:
            what = "reordered" if isinstance(seq, int) and seq <= index else "removed before it"
            problems.append(f"{name} at position {index + 1}: events {what}")
        elif event.get("prev") != prev:
            problems.append(f"{name}: does not follow the event before it (removed or reordered)")
        prev = str(event.get("mac"))
    return problems
