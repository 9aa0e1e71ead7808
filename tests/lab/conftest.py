"""pytest fixtures for the SPSE test lab (see tests/lab/README.md).

The session-scoped ``lab`` fixture starts the lab (``SPSE_LAB_HOSTS`` hosts,
default 3, plus ``SPSE_LAB_LEGACY`` legacy hosts, default 1) and always tears
it down at the end, unless it found a healthy lab of the same sizes and
recipe already up (a developer's ``tests/lab/lab up 3 --legacy 1``), which it
reuses and leaves running.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import labctl


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that selects (or deselects) the lab tests."""
    config.addinivalue_line(
        "markers", "lab: needs the SPSE test lab (root, Linux namespaces; tests/lab/lab)")


LAST = "test_down_leaves_nothing_even_after_a_killed_up"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The test that takes the session's lab down runs after every other test of the session."""
    items.sort(key=lambda item: item.name == LAST)


@pytest.fixture(scope="session")
def lab() -> Iterator[labctl.Lab]:
    """A running lab: `.inventory`, `.hosts`, `.legacy_hosts`, `.stop()`, `.start()`, ..."""
    problem = labctl.namespace_problem()
    if problem:
        pytest.skip(problem)
    try:
        count, legacy = labctl.env_sizes()
    except labctl.LabError as exc:
        pytest.fail(f"lab: {exc}", pytrace=False)
    the_lab = labctl.Lab()
    the_lab.reused = the_lab.healthy(count, legacy)
    try:
        if not the_lab.reused:
            the_lab.up(count, legacy)
        yield the_lab
    except labctl.LabError as exc:
        pytest.fail(f"lab: {exc}", pytrace=False)
    finally:
        if not the_lab.reused:
            the_lab.down()
