"""Progress of the snapshot run: one line per host, though two tasks run on each."""

from __future__ import annotations

from spse_change.verify.snapshot import _per_host


def test_one_progress_line_per_host_its_failure_or_its_end():
    lines: list[tuple[str, str, str]] = []
    report = _per_host(lambda *line: lines.append(line))
    for event in [("db1", "ok", ""), ("app1", "failed", "no python"), ("db1", "ok", ""),
                  ("legacy1", "ok", ""), ("legacy1", "failed", "sshd -T"), ("app1", "ok", "")]:
        report(*event)
    assert lines == [("app1", "failed", "no python"), ("db1", "ok", ""),
                     ("legacy1", "failed", "sshd -T")]


def test_no_handler_no_wrapper():
    assert _per_host(None) is None
