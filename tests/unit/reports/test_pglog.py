"""The PostgreSQL part: pgBadger's numbers as they are, our checks of what pgBadger skips."""

from __future__ import annotations

import bz2
import gzip
import json
import subprocess
from pathlib import Path

import pytest

from spse_change.errors import SpseChangeError
from spse_change.reports import pglog

from .conftest import LAB_PREFIX

pytestmark = pytest.mark.usefixtures("needs_pgbadger")


@pytest.mark.parametrize(("prefix", "line", "entry"), [
    ("%m [%p] ", b"2026-11-27 08:00:01.123 UTC [42] LOG:  duration: 1 ms", True),
    ("%m [%p] ", b"2026-11-27 08:00:01.123 +07 [42] ERROR:  x", True),
    ("%t [%p]: [%l-1] ", b"2026-11-27 08:00:01 WIB [42]: [3-1] STATEMENT:  SELECT 1", True),
    (LAB_PREFIX, b"2026-11-27 08:00:01 WIB [900]: user=,db=,app=,client= LOG:  checkpoint starting", True),
    ("%m %q%u@%d ", b"2026-11-27 08:00:01.1 UTC LOG:  background", True),
    ("%m [%p] ", b"2026-11-27 08:00:01 UTC [42] LOG:  no milliseconds", False),
    ("%m [%p] ", b"2026-11-27 08:00:01.123 UTC [4", False),
    ("%m [%p] ", b"hello world", False),
])
def test_prefix_pattern(prefix: str, line: bytes, entry: bool) -> None:
    assert bool(pglog.prefix_pattern(prefix).match(line)) is entry


def pgbadger_alone(path: Path, *extra: str) -> dict:
    """pgBadger's own numbers (its pid file beside the log: the /tmp default trips over other runs)."""
    out = subprocess.run(["pgbadger", "-q", "--pid-dir", str(path.parent), *extra,
                          "--exclude-appname", "spse-change", "-x", "json", "-o", "-", str(path)],
                         check=True, capture_output=True).stdout
    return json.loads(out)


@pytest.mark.parametrize(("name", "fmt", "extra"), [
    ("pg-stderr.log", "stderr", ("-f", "stderr", "-p", LAB_PREFIX)),
    ("pg.csv", "csv", ("-f", "csv")),
    ("pg.json", "jsonlog", ("-f", "jsonlog")),
])
def test_numbers_are_pgbadgers(logs: Path, name: str, fmt: str, extra: tuple[str, ...]) -> None:
    path = logs / name
    assert pglog.detect_format(path) == fmt
    data, checks = pglog.analyse(pglog.PgBadgerRun((path,), fmt, LAB_PREFIX))
    summary = pglog.summarise(data)
    own = pgbadger_alone(path, *extra)
    expected = {q: (i["count"], i["max"]) for q, i in own["normalyzed_info"]["postgres"].items()
                if i["count"]}
    assert {q["query"]: (q["count"], f"{q['max_ms']:.3f}") for q in summary["top_queries"]} == expected
    assert {f"{e['level']}:  {e['message']}": e["count"] for e in summary["top_errors"]} == \
        {k: v["count"] for k, v in own["error_info"]["postgres"].items()}
    assert all("pg_settings" not in q["query"] for q in summary["top_queries"])  # our own left out
    assert checks[0].unreadable == 0


def test_stderr_sample_in_detail(logs: Path) -> None:
    data, _ = pglog.analyse(pglog.PgBadgerRun((logs / "pg-stderr.log",), "stderr", LAB_PREFIX))
    s = pglog.summarise(data)
    assert s["top_errors"][0]["message"] == 'relation "..." does not exist'
    assert s["top_errors"][0]["count"] == 2
    assert s["failed"] == {"rollbacks": 1, "deadlocks": 1, "lock_timeouts": 1, "statement_timeouts": 0}
    assert s["temp_files"] == {"count": 1, "bytes": 10485760, "max_bytes": 10485760}
    assert s["checkpoints"]["warnings"] == 1
    assert s["hourly"]["queries"] == {"2026-11-27 08": 2, "2026-11-27 09": 2, "2026-11-27 10": 0}


def test_torn_lines_counted_and_compressed_by_content(logs: Path) -> None:
    text = (logs / "pg-stderr.log").read_bytes()
    lines = text.splitlines(keepends=True)
    torn = b"".join(lines[:3]) + b"2026-11-27 08:00:0\x00\x00garbage\n" + b"".join(lines[3:])
    for name, data in (("a.gz", gzip.compress(torn)), ("no-suffix", bz2.compress(torn)),
                       ("b.log", gzip.compress(torn))):  # the name says plain, the bytes say gzip
        path = logs / name
        path.write_bytes(data)
        data_json, checks = pglog.analyse(pglog.PgBadgerRun((path,), "stderr", LAB_PREFIX))
        assert checks[0].unreadable == 1 and checks[0].examples == [4], name
        assert pglog.summarise(data_json)["top_errors"][0]["count"] == 2, name


def test_cut_gzip_is_counted_as_truncated(logs: Path) -> None:
    data = gzip.compress((logs / "pg-stderr.log").read_bytes() * 50)
    path = logs / "cut.log.gz"
    path.write_bytes(data[: len(data) // 2])
    check = pglog.count_lines(path, "stderr", LAB_PREFIX)
    assert check.truncated.startswith("unreadable after line")


@pytest.mark.parametrize(("content", "line"), [
    (b"hello, this is a README\n", 1),
    (b"\n\n08:00:01,123 INFO  ~ an application log\n", 3),
])
def test_a_file_that_is_no_postgresql_log_names_file_and_line(tmp_path: Path, content: bytes,
                                                               line: int) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(content)
    with pytest.raises(SpseChangeError, match=rf"^{path}:{line}: not a PostgreSQL stderr log"):
        pglog.analyse(pglog.PgBadgerRun((path,), "stderr", LAB_PREFIX))


def test_csv_torn_row_counted(logs: Path) -> None:
    path = logs / "pg.csv"
    path.write_bytes(path.read_bytes() + b'2026-11-27 10:00:00.000 WIB,"epns","epns_prod",12\n')
    assert pglog.count_lines(path, "csv", LAB_PREFIX).unreadable == 1


def test_jsonlog_torn_line_counted(logs: Path) -> None:
    path = logs / "pg.json"
    path.write_bytes(path.read_bytes() + b'{"timestamp":"2026-11-27 10:00:00.000 WIB","us\n')
    assert pglog.count_lines(path, "jsonlog", LAB_PREFIX).examples == [5]


def test_argv_is_a_list_with_the_day_and_no_shell() -> None:
    run = pglog.PgBadgerRun((Path("/l/a.log"),), "stderr", "%m [%p] ; rm -rf /", "2026-11-27", 4)
    argv = run.argv([Path("/t/000.log")], Path("/t/out.json"))
    assert argv[:2] == ["pgbadger", "--quiet"]
    assert argv[argv.index("--prefix") + 1] == "%m [%p] ; rm -rf /"
    assert argv[argv.index("--begin") + 1] == "2026-11-27 00:00:00"
    assert argv[argv.index("--exclude-appname") + 1] == "spse-change"
    assert "--jobs" not in pglog.PgBadgerRun((), "csv", "", None, 4).argv([], Path("o"))


@pytest.mark.parametrize("block", [5, 64, 1 << 20])
def test_counting_by_blocks_keeps_line_numbers(tmp_path: Path, block: int) -> None:
    good = b"2026-11-27 08:00:01 WIB [1]: user=a,db=b,app=c,client=d LOG:  x\n"
    path = tmp_path / "p.log"
    path.write_bytes(good + b"\tcontinued\n" + b"torn\n" + good * 3 + b"\n" + good + b"last torn")
    check = pglog.count_lines(path, "stderr", LAB_PREFIX, block=block)
    assert (check.lines, check.unreadable, check.examples) == (9, 3, [3, 7, 9])


def test_reports_at_once_do_not_trip_over_pgbadgers_pid_file(logs: Path) -> None:
    """pgBadger refuses to start while a pid file sits in its pid folder (by default /tmp, shared
    by every run and left behind by a killed one): each run keeps its own."""
    from concurrent.futures import ThreadPoolExecutor

    run = pglog.PgBadgerRun((logs / "pg-stderr.log",), "stderr", LAB_PREFIX, jobs=2)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: pglog.analyse(run)[0], range(4)))
    assert len(results) == 4 and all(results)  # each run answered; none refused to start
