"""SPSE test lab, shared plumbing: errors, logging, commands, the lab folder.

Python 3 standard library only, like every lab module (they never import spse_change).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAB_COMMAND = HERE / "lab"  # also what a host's boot and an image build run, as hidden verbs
DEFAULT_LAB_DIR = "/var/tmp/spse-lab"
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
}


class LabError(Exception):
    """A failure to report as one line; ``code`` 2 means bad input."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def log(message: str) -> None:
    """Progress goes to stderr: stdout of `lab up` is only the inventory path."""
    print(f"lab: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, check: bool = True, capture: bool = True,
        **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command from an argument list; turn its failure into one LabError line."""
    if not capture:
        kwargs.setdefault("stdout", sys.stderr)
    try:
        return subprocess.run(cmd, check=check, text=True, capture_output=capture, **kwargs)
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {exc.returncode}"
        raise LabError(f"{' '.join(cmd[:4])}: {detail}") from None
    except FileNotFoundError:
        raise LabError(f"{cmd[0]}: command not found") from None


def lab_dir() -> Path:
    """The lab's folder: short, because SSH control sockets live in it."""
    return Path(os.environ.get("SPSE_LAB_DIR", DEFAULT_LAB_DIR))


def namespace_problem() -> str | None:
    """Why lab hosts cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "the SPSE lab needs root (it creates namespaces, mounts and a bridge)"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"the SPSE lab needs Linux namespaces, but `{tool}` is missing"
    probe = subprocess.run(["unshare", "--mount", "--uts", "--ipc", "--pid", "--net", "--fork",
                            "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"Linux namespaces are unavailable: {probe.stderr.strip() or 'unshare failed'}"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"network namespaces are unavailable: {probe.stderr.strip() or 'ip netns failed'}"
    return None


def require_tools(*tools: str) -> None:
    """Fail early, in one line, when the machine lacks a tool the lab calls."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise LabError(f"missing tools: {', '.join(missing)} (apt-get install them)")


def digest(parts: list[bytes]) -> str:
    """A short, stable hash of byte strings (their lengths included, so no two lists collide)."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return sha.hexdigest()[:16]


def remove_tree(path: Path) -> None:
    """rmtree that refuses to descend into anything still mounted (e.g. a bound /dev)."""
    prefix = str(path) + "/"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].replace("\\040", " ")
        if target == str(path) or target.startswith(prefix):
            raise LabError(f"{target} is still mounted; not removing {path}")
    shutil.rmtree(path, ignore_errors=True)


def comm(pid: int) -> str:
    """A process's name for messages ('?' once it is gone)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return "?"
