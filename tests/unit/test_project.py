"""role_code: the control machine runs the very file the hosts run, not a copy."""

from __future__ import annotations

from spse_change.apply import plan_file
from spse_change.capture import signature
from spse_change.project import CODE_ROOT, role_code


def test_role_code_loads_the_file_under_roles() -> None:
    module = role_code("roles/spse_baseline/module_utils/spse_secrets.py", "spse_secrets_test")
    assert module.__file__ == str(CODE_ROOT / "roles/spse_baseline/module_utils/spse_secrets.py")
    assert module.__name__ == "spse_secrets_test" and hasattr(module, "SecretScrubber")


def test_its_users_load_the_shipped_files() -> None:
    assert signature.SCHEME.__file__ == str(CODE_ROOT / "roles/spse_baseline/module_utils/spse_signature.py")
    assert type(plan_file._scrubber()).__module__ == "spse_secrets"
