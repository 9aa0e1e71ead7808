"""Reading the host's files and process table the same way on Python 2.7 and 3.

Every reader takes ``root`` so the callers are unit-tested on directory-tree
fixtures. Text is always decoded (UTF-8, undecodable bytes replaced): Python
2's ``open`` would return bytes, which break JSON output and mix badly with text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import os


def under(root, path):
    # type: (str, str) -> str
    """``path`` (as seen on the host) inside ``root``."""
    return os.path.join(root, path.lstrip("/"))


def read_text(root, path, default=None):
    # type: (str, str, object) -> object
    """The file's whole text, or ``default`` when it cannot be read."""
    try:
        with io.open(under(root, path), encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except (IOError, OSError):
        return default


def read_value(root, path, default=None):
    # type: (str, str, object) -> object
    """A one-value file (/sys, /proc) stripped, or ``default``."""
    text = read_text(root, path)
    return default if text is None else text.strip()


def listdir(root, path):
    # type: (str, str) -> list
    try:
        return sorted(os.listdir(under(root, path)))
    except (IOError, OSError):
        return []


def processes(root="/"):
    # type: (str) -> list
    """(pid, argv) of every process whose command line can be read, by pid.

    argv comes from /proc/<pid>/cmdline (NUL-separated); processes that rewrote
    theirs into one string (PostgreSQL backends: ``postgres: checkpointer``)
    show as a one-element argv.
    """
    found = []
    for pid in listdir(root, "/proc"):
        if not pid.isdigit():
            continue
        cmdline = read_text(root, "/proc/%s/cmdline" % pid)
        if cmdline:
            found.append((int(pid), cmdline.rstrip("\x00").split("\x00")))
    return sorted(found)


def readlink(root, path):
    # type: (str, str) -> object
    """Where a /proc link (exe, cwd) points, or None; a deleted target keeps its old path."""
    try:
        target = os.readlink(under(root, path))
    except (IOError, OSError):
        return None
    return target.replace(" (deleted)", "")


def realpath(root, path):
    # type: (str, str) -> str
    """The host path with every symlink resolved, as seen on the host."""
    real = os.path.realpath(under(root, path))
    if root == "/":
        return real
    relative = os.path.relpath(real, os.path.realpath(root))
    return "/" if relative == "." else "/" + relative


def trusted(root, path):
    # type: (str, str) -> bool
    """Whether only root (or this process's own user) can change the file and its folder.

    What the capture runs (psql beside a postmaster) or follows as root (Apache's includes) must
    pass this: a user able to start a process or write a config file must not steer root into
    running their program or reading root's files.
    """
    for part in (path, os.path.dirname(path)):
        try:
            st = os.stat(under(root, part))
        except (IOError, OSError):
            return False
        if st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
            return False
    return True
