"""Where an installation keeps its things, decided once.

The *project* is the folder an LPSE works in (the clone, or
`$SPSE_CHANGE_PROJECT`): `change_records/` holds the SOP's records and
baselines, `.spse-change/` the private state (HMAC key, runner artifacts).
Playbooks and roles always come from this package's own checkout.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from spse_change.errors import SpseChangeError
from spse_change.store.files import locked, write_atomic, writing

CODE_ROOT = Path(__file__).resolve().parent.parent
KEY_FILE_ENV = "SPSE_CHANGE_HMAC_KEY_FILE"


def role_code(relative: str, name: str) -> ModuleType:
    """A Python file under roles/ (it runs on the hosts), loaded so that the control machine uses the
    very same code: ``role_code("roles/spse_baseline/module_utils/spse_signature.py", "sig")``.
    A file missing from the checkout is a broken install, so a plain ImportError."""
    path = CODE_ROOT / relative
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def discover(cls, root: str | None = None) -> Project:
        path = Path(root or os.environ.get("SPSE_CHANGE_PROJECT") or os.getcwd()).resolve()
        if not path.is_dir():
            raise SpseChangeError(f"project folder not found: {path}")
        return cls(path)

    @property
    def records_dir(self) -> Path:
        return self.root / "change_records"

    @property
    def state_dir(self) -> Path:
        return self.root / ".spse-change"

    @property
    def ansible_cfg(self) -> Path:
        """The project's own ansible.cfg wins over the one shipped with the code."""
        own = self.root / "ansible.cfg"
        return own if own.is_file() else CODE_ROOT / "ansible.cfg"

    def playbook(self, name: str) -> Path:
        return CODE_ROOT / "playbooks" / name

    def hmac_key_file(self) -> Path:
        """The per-installation key for secret hashes: created once, mode 0600, never printed.

        Created under the state folder's lock: two captures starting at once
        end with one key, not two hosts hashed with different keys.

        Only its path travels (as an environment variable); Ansible reads it
        on the controller and hands it to the module as a no_log argument.
        An inventory may instead supply a vaulted `spse_change_hmac_key`.
        """
        path = self.state_dir / "hmac.key"
        if not path.exists():
            with writing(path), locked(self.state_dir):
                if not path.exists():  # another process may have made it while we waited
                    write_atomic(path, secrets.token_hex(32), mode=0o600)
        if path.stat().st_mode & 0o077:
            raise SpseChangeError(f"{path}: key file must not be readable by others (chmod 600)")
        return path
