"""CLI contract: user errors are one line and exit 2; read commands speak JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spse_change.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        rc = main(list(args))
    except SystemExit as exc:  # argparse
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def test_bad_reference_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "--project", str(tmp_path), "baseline", "show", "db1@latest")
    assert rc == 2 and out == ""
    assert err.strip().splitlines() == [
        f"spse-change: no baselines for host 'db1' in {tmp_path}/change_records/baselines"]


def test_unknown_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "baseline", "capture", "--bogus")
    assert rc == 2 and "unrecognized arguments: --bogus" in err


def test_empty_store_lists_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--project", str(tmp_path), "baseline", "list", "--json")
    assert rc == 0 and json.loads(out) == []


def test_missing_project_folder(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--project", "/no/such/dir", "baseline", "list")
    assert rc == 2 and "project folder not found: /no/such/dir" in err
