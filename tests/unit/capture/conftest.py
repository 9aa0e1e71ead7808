"""Make the role's module_utils importable as ``ansible.module_utils.<name>``, as on the host.

AnsiballZ ships them under that package; the modules import each other by
those names, so the tests load them the same way.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

MODULE_UTILS = Path(__file__).resolve().parents[3] / "roles" / "spse_baseline" / "module_utils"
PREFIX = "ansible.module_utils."


class _RoleModuleUtils(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        name = fullname[len(PREFIX):] if fullname.startswith(PREFIX) else ""
        source = MODULE_UTILS / f"{name}.py"
        if name.startswith("spse_") and source.is_file():
            return importlib.util.spec_from_file_location(fullname, source)
        return None


if not any(isinstance(finder, _RoleModuleUtils) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RoleModuleUtils())
