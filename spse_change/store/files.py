"""Atomic, locked writes: a killed command leaves every record whole or absent.

Every file of ours is written to a temporary file in the same folder,
fsynced, then renamed over its name; writers hold one lock per store.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spse_change.errors import SpseChangeError


def dump_json(obj: Any) -> str:
    """The one JSON form of our files: sorted keys, stable, readable, UTF-8."""
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_json(path: Path) -> Any:
    """Read one of our JSON files; a damaged one is a user-facing error naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpseChangeError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpseChangeError(f"{path}: not valid JSON ({exc})") from None


@contextlib.contextmanager
def locked(store: Path) -> Iterator[None]:
    """Hold the store's write lock (waits for another writer to finish)."""
    store.mkdir(parents=True, exist_ok=True)
    with open(store / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
