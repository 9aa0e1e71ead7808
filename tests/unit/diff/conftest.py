"""Recorded baselines (fixtures/*.json) and a way to derive a changed copy of one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from spse_change.diff import Policy, load_policy

FIXTURES = Path(__file__).with_name("fixtures")
DELETE = object()


def load_baseline(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def edited(baseline: dict[str, Any], edits: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """A copy of `baseline` with keys under `data` set (or removed with DELETE).

    >>> edited(db1, {("hardware", "memory", "total_mb"): 65536})
    """
    changed = copy.deepcopy(baseline)
    changed["id"] = baseline["id"] + "-edited"
    for (*parents, last), value in edits.items():
        node = changed["data"]
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return changed


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(None)


@pytest.fixture
def db1() -> dict[str, Any]:
    return load_baseline("db1")


@pytest.fixture
def app1() -> dict[str, Any]:
    return load_baseline("app1")
