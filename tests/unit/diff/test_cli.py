"""`spse-change diff` and `policy list`: exit codes, one-line errors, JSON from the services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spse_change.cli.main import main
from spse_change.diff import load_policy
from spse_change.store.baselines import BaselineStore, new_baseline
from tests.unit.diff.conftest import load_baseline

BAD_REASON = """\
rules:
  - id: LOCAL1
    match: {path: os.kernel}
    class: major
    reason: "kernel {path!x}"
"""


def run(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str, str]:
    rc = main(["--project", str(project), *args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    store = BaselineStore(tmp_path / "change_records")
    data = load_baseline("db1")["data"]
    store.save(new_baseline("db1", {"data": data, "groups": ["spse_db"]}))
    changed = json.loads(json.dumps(data))
    changed["os"]["kernel"] = "6.1.0-28-amd64"
    store.save(new_baseline("db1", {"data": changed, "groups": ["spse_db"]}))
    broken = {k: v for k, v in changed.items() if k != "database"}
    store.save(new_baseline("db1", {"data": broken, "groups": ["spse_db"],
                                    "incomplete": {"database": "psql: connection refused"}}))
    return tmp_path


@pytest.mark.parametrize(("old", "new", "rc", "last"), [
    ("db1@-2", "db1@-2", 0, "no changes"),
    ("db1@-2", "db1@-1", 1, "1 change: 1 minor → MINOR: LPSE handles it internally"),
    ("db1@-1", "db1@latest", 1, "no changes; not compared: database"),
])
def test_diff_exit_code_says_whether_everything_compared_clean(
        capsys: pytest.CaptureFixture[str], project: Path, old: str, new: str, rc: int,
        last: str) -> None:
    code, out, _ = run(capsys, project, "diff", old, new)
    assert (code, out.splitlines()[-1]) == (rc, last)
    code, out, _ = run(capsys, project, "diff", old, new, "--json")
    assert code == rc and json.loads(out)["complete"] is (last != "no changes; not compared: database")


@pytest.mark.parametrize("command", [["policy", "list"], ["diff", "db1@-2", "db1@-1"]])
def test_bad_reason_is_refused_when_the_policy_loads(capsys: pytest.CaptureFixture[str],
                                                     project: Path, command: list[str]) -> None:
    (project / "policy.yml").write_text(BAD_REASON)
    code, out, err = run(capsys, project, *command)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"spse-change: {project / 'policy.yml'}: rules[0].reason: bad "
                                "placeholder {path!x} (use {path}, {old} or {new} as they are; "
                                "write {{ and }} for literal braces)"]


def test_deep_policy_is_one_line(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / "policy.yml").write_text("rules: " + "[" * 10_000 + "]" * 10_000 + "\n")
    code, _, err = run(capsys, project, "policy", "list")
    assert code == 2
    assert err == f"spse-change: {project / 'policy.yml'}: nested too deeply\n"


def test_policy_list_json_is_the_services_document(capsys: pytest.CaptureFixture[str],
                                                   project: Path) -> None:
    code, out, _ = run(capsys, project, "policy", "list", "--json")
    assert code == 0 and json.loads(out) == load_policy(project).to_json()


def test_policy_list_text_shows_where(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    _, out, _ = run(capsys, project, "policy", "list")
    assert "HW017    ignore hardware.mounts.* [added, removed] where fstype is squashfs" in out


def test_diff_of_a_relative_file_and_an_id(capsys: pytest.CaptureFixture[str], project: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store = BaselineStore(project / "change_records")
    path: Any = store.resolve("db1@-2")
    monkeypatch.chdir(project)
    code, out, _ = run(capsys, project, "diff", str(path.relative_to(project)), path.stem)
    assert (code, out.splitlines()[-1]) == (0, "no changes")
