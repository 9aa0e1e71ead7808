"""Log files as given: plain, gzip or bzip2 (told by their first bytes, not their names).

A log that ends mid-way (a torn gzip stream, a copy cut short) is read up to
where it breaks, and the break is counted, never hidden.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from spse_change.errors import SpseChangeError

MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2"}
EXTENSION = {"gzip": ".gz", "bzip2": ".bz2", "plain": ".log"}


def compression(path: Path) -> str:
    """`plain`, `gzip` or `bzip2`, from the file's first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(3)
    except IsADirectoryError:
        raise SpseChangeError(f"{path}: is a folder, not a log file") from None
    except OSError as exc:
        raise SpseChangeError(f"{path}: cannot read ({exc.strerror})") from None
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    return "plain"


def open_log(path: Path) -> BinaryIO:
    kind = compression(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


@dataclass
class LineReader:
    """Numbered lines (bytes, newline kept off) of one log, and whether it broke off."""

    path: Path
    truncated: str = ""  # why reading stopped early, when it did

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        number = 0
        with open_log(self.path) as stream:
            try:
                for number, line in enumerate(stream, 1):
                    yield number, line.rstrip(b"\r\n")
            except (EOFError, OSError, ValueError) as exc:  # torn gzip/bzip2 stream
                self.truncated = f"unreadable after line {number} ({exc})"


def first_entry(path: Path, is_entry: Callable[[bytes], object], kind: str, expected: str) -> None:
    """Refuse a file whose first non-blank line is no entry: `file:line: not KIND (expected …)`, exit 2.

    `kind` carries its article: "a PostgreSQL stderr log", "an Apache access log".
    """
    for number, line in LineReader(path):
        if not line.strip():
            continue
        if is_entry(line):
            return
        raise SpseChangeError(f"{path}:{number}: not {kind} (expected {expected})")
    # an empty log is a quiet day (or a fresh rotation), not a wrong file
