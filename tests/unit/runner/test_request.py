"""A bad request fails before Ansible starts, with a line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.runner.playbook import HostResult, PlaybookRequest

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "baseline.yml"


@pytest.mark.parametrize("field, value, words", [
    ("playbook", Path("/nope.yml"), "playbook not found: /nope.yml"),
    ("inventory", (Path("/no/inv.yml"),), "inventory not found: /no/inv.yml"),
    ("vault_password_file", Path("/no/vault"), "vault password file not found: /no/vault"),
    ("vault_password_file", Path("/tmp"), "/tmp: cannot read \\(not a regular file\\)"),
])
def test_bad_settings_are_refused_up_front(tmp_path: Path, field: str, value: object,
                                           words: str) -> None:
    kwargs = {"playbook": PLAYBOOK, "state_dir": tmp_path, field: value}
    with pytest.raises(SpseChangeError, match=words):
        PlaybookRequest(**kwargs)  # type: ignore[arg-type]


def test_worst_outcome_wins_and_keeps_first_failure_reason() -> None:
    host = HostResult("db1")
    host.record("ok", "a", {"x": 1})
    host.record("failed", "b", {"msg": "psql: connection refused"})
    host.record("ok", "c", {})
    host.record("unreachable", "d", {"msg": "ssh: timeout"})
    assert host.outcome == "unreachable"
    assert host.message == "psql: connection refused"
    assert set(host.results) == {"a", "c"}
