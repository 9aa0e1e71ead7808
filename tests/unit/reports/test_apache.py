"""Apache access logs: the LogFormat decides what can be read, 5xx and slow requests counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.reports.apache import format_pattern, read_access_logs, request_path

from .conftest import ACCESS_FORMAT

LINE = '1.2.3.4 - - [27/Nov/2026:08:00:01 +0700] "GET /eproc4/x HTTP/1.1" 500 12 "-" "a \\"b\\" c"'


@pytest.mark.parametrize(("fmt", "suffix", "unit"), [
    ("combined", "", None),
    (ACCESS_FORMAT, " 1234", "us"),
    ('%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %T', " 2", "s"),
    ('%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %{ms}T', " 2", "ms"),
])
def test_format_pattern(fmt: str, suffix: str, unit: str | None) -> None:
    pattern, found = format_pattern(fmt)
    assert found == unit
    match = pattern.match(LINE + suffix)
    assert match and match.group("status") == "500"


def test_sample_log(logs: Path) -> None:
    web = read_access_logs([logs / "access.log"], ACCESS_FORMAT, "2026-11-27")
    assert web["requests"] == 6  # the 28th's line is another day
    assert web["days"] == {"2026-11-27": 6, "2026-11-28": 1}
    assert web["errors_5xx"] == 2
    assert web["top_5xx"] == [{"request": "500 GET /eproc4/error", "count": 2}]
    assert web["slow_requests"] == 2
    assert web["top_slow"] == [{"request": "GET /eproc4/lelang/N", "count": 2, "avg_ms": 4250.1,
                                "max_ms": 5100.0}]
    assert web["unreadable"] == 1 and web["files"][0]["unreadable_lines"] == [7]


def test_without_response_time_slow_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text(LINE + "\n")
    web = read_access_logs([path], "combined", None)
    assert web["response_time"] is False and web["slow_requests"] is None


def test_a_file_that_is_no_access_log_names_file_and_line(logs: Path) -> None:
    with pytest.raises(SpseChangeError, match=r"pg-stderr.log:1: not an Apache access log"):
        read_access_logs([logs / "pg-stderr.log"], "combined", None)


def test_request_path() -> None:
    assert request_path("GET /eproc4/lelang/123/peserta?x=1 HTTP/1.1") == "GET /eproc4/lelang/N/peserta"
