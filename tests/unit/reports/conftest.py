"""Fixtures of the report tests: the shipped sample logs, copied where a test may change them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).with_name("fixtures")
LAB_PREFIX = "%t [%p]: user=%u,db=%d,app=%a,client=%h "
ACCESS_FORMAT = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %D'


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    shutil.copytree(FIXTURES, folder)
    return folder


@pytest.fixture
def needs_pgbadger() -> None:
    if not shutil.which("pgbadger"):
        pytest.skip("pgbadger not installed (sh scripts/install installs it)")
