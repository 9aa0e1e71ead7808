"""Atomic, locked, private writes: a killed command leaves every record whole or absent.

Every file of ours is written to a temporary file in the same folder,
fsynced, then renamed over its name; writers hold one lock per store.
Records describe servers (and where their secrets are), so files are 0600
and the folders we create 0700, whatever the umask.
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

MAX_DEPTH = 100  # deeper than any record of ours; a deeper file is damaged or hostile


def dump_json(obj: Any) -> str:
    """The one JSON form of our files: sorted keys, stable, readable, UTF-8."""
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def private_dir(path: Path, tighten: bool = False) -> None:
    """Create `path` and its missing parents as 0700 (whatever the umask).

    With `tighten`, an existing `path` others can read (a store written by
    an older version) is made 0700 too.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    if tighten and not missing and path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)


def write_atomic(path: Path, text: str | bytes, mode: int = 0o600) -> None:
    """Text is written as UTF-8, bytes as they are."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8")) as fh:
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


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a failed write (read-only project, full disk, no permission) into one line."""
    try:
        yield
    except OSError as exc:
        raise SpseChangeError(f"{exc.filename or path}: cannot write ({exc.strerror or exc})") from None


def read_json(path: Path) -> Any:
    """Read one of our JSON files; a damaged one is a user-facing error naming it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpseChangeError(f"{path}: no such file") from None
    except RecursionError:
        raise SpseChangeError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpseChangeError(f"{path}: not valid JSON ({exc})") from None
    if too_deep(document, MAX_DEPTH):
        raise SpseChangeError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    return document


def too_deep(value: Any, limit: int) -> bool:
    """Whether lists and mappings nest more than `limit` levels (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


@contextlib.contextmanager
def locked(store: Path) -> Iterator[None]:
    """Hold the store's write lock (waits for another writer to finish)."""
    private_dir(store)
    fd = os.open(store / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
