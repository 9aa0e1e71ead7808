"""The SPSE application log: entries, traces grouped, exceptions by class, Caused by kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.reports.applog import normalise, read_app_logs


def test_sample_log(logs: Path) -> None:
    app = read_app_logs([logs / "spse4.log"])
    assert app["levels"] == {"ERROR": 4, "INFO": 5, "WARN": 1}
    first, second = app["top_errors"]
    assert first["message"] == "Database error on /eproc4/error"
    assert first["count"] == 2
    assert first["exception"] == "play.exceptions.JavaExecutionException"
    assert first["causes"] == ["org.hibernate.exception.SQLGrammarException",
                               "org.postgresql.util.PSQLException"]
    assert first["root_cause"] == "org.postgresql.util.PSQLException"
    assert "Caused by: org.hibernate" in first["sample"]
    assert second["message"] == "Gagal mengirim email ke '…'"  # two addresses, one problem
    assert second["exception"] == "javax.mail.MessagingException"
    assert app["exceptions"] == {"play.exceptions.JavaExecutionException": 2,
                                 "javax.mail.MessagingException": 2}
    assert app["root_causes"] == {"org.postgresql.util.PSQLException": 2, "java.net.ConnectException": 2}
    assert app["http_500"] == 2
    assert app["hourly_errors"] == {"08": 1, "09": 3}
    assert app["top_warnings"][0]["message"] == "Slow request GET /eproc4/lelang/N took N ms"
    assert app["files"][0]["unreadable"] == 1 and app["files"][0]["unreadable_lines"] == [34]  # "09:21:0"


def test_undecodable_continuation_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "spse4.log"
    path.write_bytes(b"08:00:00,000 ERROR ~ boom\njava.lang.IllegalStateException: x\n\xff\xfe\x00\n")
    app = read_app_logs([path])
    assert app["unreadable"] == 1
    assert app["top_errors"][0]["exception"] == "java.lang.IllegalStateException"


@pytest.mark.parametrize(("content", "line"), [
    (b"2026-11-27 08:00:01 WIB [1]: LOG:  x\n", 1),
    (b"\n   \n<html>\n", 3),
])
def test_a_file_that_is_no_application_log_names_file_and_line(tmp_path: Path, content: bytes,
                                                                 line: int) -> None:
    path = tmp_path / "spse4.log"
    path.write_bytes(content)
    with pytest.raises(SpseChangeError, match=rf"^{path}:{line}: not an SPSE application log"):
        read_app_logs([path])


def test_normalise() -> None:
    assert normalise("user 'budi' id 1234 at @7h3k2m1 on eproc4") == "user '…' id N at @… on eproc4"
