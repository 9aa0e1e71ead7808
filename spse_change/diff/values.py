"""How a diff shows a value, so that a secret marker is never shown.

The host replaces a secret, or a credential inside a value
(`postgres://epns:<marker>@db/x`), by `secret:hmac-sha256:<32 hex>`.
Equal secrets give equal markers, so the diff can tell that a secret
changed; what it prints and writes is the value with each marker as `***`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MARKER = re.compile(r"secret:hmac-sha256:[0-9a-f]{32}")
MASK = "***"
_MAX_SHOWN = 80


def is_secret(value: Any) -> bool:
    """True when the value is, or holds anywhere inside it, a secret marker."""
    if isinstance(value, str):
        return MARKER.search(value) is not None
    if isinstance(value, Mapping):
        return any(is_secret(key) or is_secret(item) for key, item in value.items())
    if isinstance(value, list):
        return any(is_secret(item) for item in value)
    return False


def masked(value: Any) -> Any:
    """The value with every marker replaced by `***` (keys too), for printing and JSON."""
    if isinstance(value, str):
        return MARKER.sub(MASK, value)
    if isinstance(value, Mapping):
        return {masked(key): masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def display(value: Any) -> str:
    """One short line for a value: strings bare, anything else as compact JSON; markers as `***`."""
    value = masked(value)
    text = value if isinstance(value, str) and value else json.dumps(
        value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN - 1] + "…"
