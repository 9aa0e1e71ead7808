"""`spse-change verify`: bad input is exit 2 before any host is reached; the check list is the registry."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from spse_change.cli.main import main
from spse_change.verify.registry import CONFORMANCE, load_registry
from spse_change.verify.service import CHECKS


def run(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str, str]:
    rc = main(["--project", str(project), *args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(("name", "text", "says"), [
    ("waivers.yml", "waivers: [{host: db1, check: nope, reason: x, expires: 2027-01-01}]",
     "waivers[0].check: unknown check id 'nope'"),
    ("verify.yml", "settings: {cert_min_days: thirty}", "settings.cert_min_days: must be a int"),
    ("verify.yml", "checks: []", "unknown key(s) checks"),
])
def test_bad_input_is_one_line_and_exit_2_before_any_host(capsys, tmp_path, name, text, says):
    (tmp_path / name).write_text(text)
    rc, out, err = run(capsys, tmp_path, "verify", "-i", str(tmp_path / "no-such-inventory"))
    assert rc == 2 and out == ""
    errors = [line for line in err.splitlines() if line.startswith("spse-change:")]
    assert len(errors) == 1 and says in errors[0] and name in errors[0]


def test_a_missing_inventory_is_exit_2(capsys, tmp_path):
    rc, _out, err = run(capsys, tmp_path, "verify", "-i", str(tmp_path / "nope.yml"))
    assert rc == 2 and "inventory not found" in err


def test_list_checks_is_the_registry(capsys, tmp_path):
    (tmp_path / "verify.yml").write_text("settings: {cert_min_days: 45}\n")
    rc, out, _err = run(capsys, tmp_path, "verify", "--list-checks", "--json")
    listed = json.loads(out)
    assert rc == 0 and listed["settings"]["cert_min_days"] == 45
    assert [c["id"] for c in listed["checks"]] == list(load_registry(None).checks)


def test_every_standard_check_has_exactly_one_test_and_every_test_a_check():
    tree = ast.parse((CHECKS / "test_standard.py").read_text())
    marked = [d.args[0].value for node in tree.body if isinstance(node, ast.FunctionDef)
              for d in node.decorator_list
              if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "spse_check"]
    tests = [node.name for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    assert len(marked) == len(tests)
    assert sorted(marked) == sorted(c for c in load_registry(None).checks if c != CONFORMANCE)
