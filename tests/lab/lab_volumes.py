"""SPSE test lab, volumes: ext4 images on loop devices, and finding the ones left behind."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from lab_base import comm, run

PG_VOLUME_MB = 512
FILE_VOLUME_MB = 128


def make_volume(image_file: Path, size_mb: int, label: str, source: Path | None = None,
                owner: tuple[int, int] = (0, 0)) -> None:
    """A sparse ext4 image, optionally filled from a folder (no mount needed)."""
    with open(image_file, "wb") as fh:
        fh.truncate(size_mb * 1024 * 1024)
    cmd = ["mkfs.ext4", "-q", "-F", "-L", label, "-E", f"root_owner={owner[0]}:{owner[1]}"]
    if source is not None:
        cmd += ["-d", str(source)]
    run([*cmd, str(image_file)])


def loop_table(prefix: str) -> dict[str, tuple[str, bool]]:
    """Loop devices backed by files under prefix: device -> (backing file, deleted)."""
    out = run(["losetup", "--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"],
              check=False).stdout
    table = {}
    for line in out.splitlines():
        name, _, back = line.partition(" ")
        back = back.replace("\\x20", " ")
        deleted = back.endswith(" (deleted)")
        back = back.removesuffix(" (deleted)")
        if back.startswith(prefix):
            table[name] = (back, deleted)
    return table

def loops(prefix: str) -> dict[str, str]:
    """Loop devices backed by files under prefix: device -> backing file."""
    return {dev: back for dev, (back, _) in loop_table(prefix).items()}


def release_loops(prefix: str, timeout: float = 5.0) -> list[str]:
    """Wait for the kernel to free auto-clear loop devices; return those it did not.

    A loop device of a host goes away by itself when the last mount of its
    file system does (the host's mount namespace ends with its processes).
    One still there after that is detached by hand; if that does not free
    it, its file system is still mounted somewhere and it is returned.
    A loop whose file is already deleted is a leak of an earlier lab: no
    waiting for those.
    """
    deadline = time.monotonic() + timeout
    detached = False
    while True:
        table = loop_table(prefix)
        left = list(table)
        if not left:
            return []
        if detached or time.monotonic() > deadline or all(table[d][1] for d in left):
            if detached:
                return [f"{dev} ({table[dev][0]}{' (deleted)' if table[dev][1] else ''})"
                        for dev in left]
            for dev in left:
                run(["losetup", "-d", dev], check=False)
            detached = True
            deadline = time.monotonic() + 1.0
            time.sleep(0.2)
            continue
        time.sleep(0.05)

def leak_report(leaked: list[str]) -> str:
    """Say what is left and which processes may pin it."""
    devices = {entry.split()[0] for entry in leaked}
    holders, detached = [], []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if not Path(f"/proc/{entry}/cmdline").read_bytes():
                continue  # kernel thread or zombie
            mountinfo = Path(f"/proc/{entry}/mountinfo").read_text()
            if not mountinfo:
                detached.append(f"{entry} ({comm(int(entry))})")
            elif any(line.split(" - ")[-1].split()[1:2] == [dev]
                     for line in mountinfo.splitlines() for dev in devices):
                holders.append(f"{entry} ({comm(int(entry))})")
    if holders:
        hint = f"mounted in the mount namespace of: {', '.join(holders)}"
    elif detached:
        hint = f"maybe by a process with a detached root (empty mountinfo): {', '.join(detached)}"
    else:
        hint = ("no process shows it: look for a mount namespace kept by an nsfs bind mount "
                "or an open /proc/PID/ns/mnt")
    return (f"loop devices still in use after the lab went down: {', '.join(leaked)}; "
            f"their file systems are still mounted ({hint})")
