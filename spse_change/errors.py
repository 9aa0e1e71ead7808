"""One family of user-facing errors; anything else escaping the CLI is a bug.

The CLI catches :class:`SpseChangeError`, prints its one-line message and
exits with its code. Services raise it and never print or exit themselves.
"""

from __future__ import annotations


class RC:
    """Exit codes, in one place (diff(1) style for read commands)."""

    OK = 0
    CHANGES = 1  # differences found, drift, or some hosts failed
    USER_ERROR = 2  # bad input: file, field, host, reference; nothing to check; unwritable folder
    BUG = 3
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # 128 + SIGTERM
    BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE), said nowhere


class SpseChangeError(Exception):
    """An error the user can act on: one clear line, exit code 2 by default."""

    def __init__(self, message: str, code: int = RC.USER_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
