"""`spse-change plan | apply | rollback`: what is refused before any host is reached."""

from __future__ import annotations

import pytest
import yaml

from spse_change.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.fixture
def project(tmp_path):
    (tmp_path / "operators.yml").write_text(yaml.safe_dump(
        {"operators": {"budi": {"name": "Budi", "roles": ["pemohon", "pengelola"]}}}))
    return tmp_path


@pytest.mark.parametrize(("argv", "says"), [
    (["apply", "../x"], "bad record id '../x'"),
    (["rollback", "../x", "--reason", "r"], "bad record id '../x'"),
    (["apply", "CR-2026-0001-abcd", "--now"], "--now needs --reason TEXT"),
    (["apply", "CR-2026-0001-abcd", "--reason", "r"], "--reason goes with --now"),
    (["apply", "CR-2026-0001-abcd", "--serial", "0"], "--serial must be 1 or more"),
    (["apply", "CR-2026-0001-abcd"], "no record CR-2026-0001-abcd"),
])
def test_apply_refusals_are_one_line(capsys, project, argv, says):
    code, err = run(capsys, "--project", str(project), *argv, "--as", "budi")
    assert code == 2 and says in err and err.count("\n") == 1
