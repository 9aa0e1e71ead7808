"""`consult check`: does a consultation package still hold what its SHA256SUMS says?

    result = check_package(Path("CR-2026-0001-3f9f-konsultasi-v1.zip"))
    result.ok, result.problems      # (("formulir-konsultasi.pdf", "does not match"), …)

Read in memory, never unpacked: a hostile zip cannot write anywhere. A
file that is no zip, or a zip without a readable SHA256SUMS, is one line
(exit 2); a file that differs, is missing or is not listed is named (exit 1).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from spse_change.consult.package import SUMS
from spse_change.errors import SpseChangeError
from spse_change.store.files import not_a_file

MAX_SUMS = 1 << 20  # a package lists a handful of files
_LINE = re.compile(r"(?P<sha>[0-9a-f]{64}) [ *](?P<name>.+)")


@dataclass(frozen=True, slots=True)
class CheckResult:
    path: Path
    checked: int  # files listed in SHA256SUMS
    problems: tuple[tuple[str, str], ...]  # (file, "does not match" | "missing" | "not listed")

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {"package": str(self.path), "ok": self.ok, "checked": self.checked,
                "problems": [{"file": f, "problem": p} for f, p in self.problems]}


def check_package(path: Path) -> CheckResult:
    not_a_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {i.filename: i for i in archive.infolist() if not i.is_dir()}
            folder = _folder(path, members)
            listed = _sums(path, archive, members, folder)
            problems = []
            for name, digest in sorted(listed.items()):
                member = members.get(f"{folder}{name}")
                if member is None:
                    problems.append((name, "missing"))
                elif _digest(archive, member) != digest:
                    problems.append((name, "does not match"))
            problems += [(_inside(m, folder), "not listed") for m in sorted(members)
                         if _inside(m, folder) not in listed and m != f"{folder}{SUMS}"]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, RuntimeError,
            NotImplementedError) as exc:  # RuntimeError: encrypted; NotImplementedError: compression
        raise SpseChangeError(f"{path}: not a readable zip ({exc})") from None
    except OSError as exc:
        raise SpseChangeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return CheckResult(path, len(listed), tuple(problems))


def _inside(member: str, folder: str) -> str:
    """A member's name within the package folder; one outside it keeps its full name (from the
    zip's root: `/`-prefixed), so a file slipped in beside the folder is named, never hidden."""
    return member[len(folder):] if member.startswith(folder) else f"/{member}"


def _digest(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str | None:
    """The member's sha256, read in chunks (a huge member never sits in memory whole); None when its
    bytes in the zip are damaged (bad CRC, broken deflate)."""
    digest = hashlib.sha256()
    try:
        with archive.open(member) as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError):
        return None  # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
    return digest.hexdigest()


def _folder(path: Path, members: dict[str, zipfile.ZipInfo]) -> str:
    """The package's one top folder (`CR-…-konsultasi/`), where SHA256SUMS is."""
    sums = [m for m in members if PurePosixPath(m).name == SUMS and m.count("/") <= 1]
    if len(sums) != 1:
        raise SpseChangeError(f"{path}: no {SUMS} in the package's top folder: not a consultation package")
    return sums[0][: -len(SUMS)]


def _sums(path: Path, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
          folder: str) -> dict[str, str]:
    if members[f"{folder}{SUMS}"].file_size > MAX_SUMS:
        raise SpseChangeError(f"{path}: {SUMS} is larger than {MAX_SUMS} bytes: not a consultation package")
    try:
        text = archive.read(members[f"{folder}{SUMS}"]).decode("utf-8")
    except UnicodeDecodeError:
        raise SpseChangeError(f"{path}: {SUMS} is not text") from None
    listed = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _LINE.fullmatch(line)
        if match is None:
            raise SpseChangeError(f"{path}: {SUMS} line {number} is not '<sha256>  <file>'")
        listed[match["name"]] = match["sha"]
    return listed
