"""operators.yml: who may take which step, as data; every refusal is one line naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.records.operators import STEP_ROLES, Operators, require_operators
from tests.unit.records.conftest import OPERATORS


def test_roles_and_steps(tmp_path: Path) -> None:
    (tmp_path / "operators.yml").write_text(OPERATORS)
    operators = Operators.load(tmp_path)
    assert operators is not None
    assert operators.check("sari", "approve").name == "Sari Dewi"
    assert operators.check("budi", "create").nip == "198001012005011001"
    assert operators.check("budi", "apply").roles == ("pemohon", "pengelola")
    with pytest.raises(SpseChangeError, match=r"^sari may not apply: only pengelola may \(rule apply: "):
        operators.check("sari", "apply")
    with pytest.raises(SpseChangeError, match=r"^budi may not approve: only kepala may .* budi is "
                                              r"pemohon, pengelola$"):
        operators.check("budi", "approve")
    with pytest.raises(SpseChangeError, match=r"^unknown operator 'joko': not in .*operators.yml "
                                              r"\(known: ani, budi, sari\)$"):
        operators.check("joko", "create")
    with pytest.raises(SpseChangeError,
                       match=r"^create: say who acts with --as NAME \(or \$SPSE_CHANGE_USER\)"):
        operators.check(None, "create")


def test_every_step_has_roles_from_the_sop() -> None:
    assert set(STEP_ROLES["approve"]) == {"kepala"}
    assert all(set(roles) <= {"pemohon", "pengelola", "kepala"} for roles in STEP_ROLES.values())


def test_no_operators_file_when_a_step_needs_identity(tmp_path: Path) -> None:
    assert Operators.load(tmp_path) is None
    with pytest.raises(SpseChangeError, match=r"^approve: .*operators.yml not found; a change record "
                                              r"needs to know who acts"):
        require_operators(None, tmp_path, "approve")


@pytest.mark.parametrize(("text", "message"), [
    ("operators:\n  budi: {name: B, roles: [pemohon], email: x}\n",
     r"operators.yml: operators.budi.email: unknown field \(known: contact, name, nip, roles\)$"),
    ("operators:\n  budi: {name: B, roles: [admin]}\n",
     r"operators.yml: operators.budi.roles: must be one of pemohon, pengelola, kepala \(got 'admin'\)$"),
    ("operators:\n  budi: {roles: [kepala]}\n", r"operators.yml: operators.budi.name: missing"),
    ("staff: {}\n", r"operators.yml: staff: unknown field"),
    ("operators: [budi\n", r"operators.yml: not valid YAML at line 2"),
    ("operators:\n  ../x: {name: B, roles: [kepala]}\n", r"operators.yml: operators.../x: an operator id"),
])
def test_bad_operators_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "operators.yml").write_text(text)
    with pytest.raises(SpseChangeError, match=message):
        Operators.load(tmp_path)
