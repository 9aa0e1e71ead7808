"""Check a capture result's signature before anything of it is stored.

The module signs the exact ``spse_baseline_json`` string it returns, bound to the host's
inventory name, the capture time and a nonce (the scheme, stated once, is
roles/spse_baseline/module_utils/spse_signature.py; this module loads that same file). A result
that does not verify is never stored: in a capture it is that host's failure, in an import the
whole export is refused.
"""

from __future__ import annotations

import hmac
import importlib.util
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from spse_change.errors import SpseChangeError
from spse_change.project import CODE_ROOT, Project

SIGNATURE_KEY = "spse_baseline_signature"


def _load_scheme() -> ModuleType:
    path = CODE_ROOT / "roles" / "spse_baseline" / "module_utils" / "spse_signature.py"
    spec = importlib.util.spec_from_file_location("spse_change._result_signature", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCHEME = _load_scheme()


@dataclass(frozen=True)
class Signed:
    """What a verified signature vouches for besides the payload."""

    signed_at: datetime
    nonce: str


def project_key(project: Project) -> bytes:
    """The key the results of spse-change's own runs are signed with (its key file)."""
    return project.hmac_key_file().read_bytes().strip()


def verify(key: bytes, host: str, payload: str, signature: Any) -> Signed:
    """The signed time and nonce of a result that verifies for ``host``; else one line why not."""
    if not isinstance(signature, dict):
        raise SpseChangeError("the result is not signed (no spse_baseline_signature): "
                              "captured by an older spse-change, or edited")
    fields = {name: signature.get(name) for name in ("scheme", "host", "signed_at", "nonce", "hmac")}
    if not all(isinstance(value, str) for value in fields.values()):
        raise SpseChangeError("the result's signature lacks a field (scheme, host, signed_at, "
                              "nonce, hmac)")
    if fields["scheme"] != SCHEME.SCHEME:
        raise SpseChangeError(f"the result's signature scheme '{fields['scheme']}' is not "
                              f"'{SCHEME.SCHEME}'")
    if fields["host"] != host:
        raise SpseChangeError(f"the result was signed for host '{fields['host']}', not '{host}'")
    try:
        expected = SCHEME.digest(key, host, fields["signed_at"], fields["nonce"], payload)
    except ValueError as exc:
        raise SpseChangeError(f"the result's signature is malformed ({exc})") from None
    if not hmac.compare_digest(expected, fields["hmac"]):
        raise SpseChangeError("the result's signature does not match: it was changed after "
                              "capture, or signed with another key than this project's")
    when = datetime.strptime(fields["signed_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return Signed(when, fields["nonce"])
