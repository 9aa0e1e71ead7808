"""How a diff shows a value, so that a secret marker is never shown."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "secret:"
_MAX_SHOWN = 80


def is_secret(value: Any) -> bool:
    """True when the value is, or holds, a secret marker (`secret:hmac-sha256:…`)."""
    if isinstance(value, str):
        return value.startswith(SECRET_PREFIX)
    if isinstance(value, Mapping):
        return any(is_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(is_secret(item) for item in value)
    return False


def display(value: Any) -> str:
    """One short line for a value: strings bare, anything else as compact JSON."""
    text = value if isinstance(value, str) and value else json.dumps(
        value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN - 1] + "…"
