"""Planned PostgreSQL values against pg_settings rows (spse_change/apply/pg_values.py)."""

from __future__ import annotations

import pytest

from spse_change.apply.pg_values import check_value, to_setting


def row(vartype, unit=None, low=None, high=None, enumvals=None, context="user",
        source="default", later_file=None):
    return {"setting": "0", "unit": unit, "vartype": vartype, "min_val": low, "max_val": high,
            "enumvals": enumvals, "context": context, "source": source, "sourcefile": None,
            "pending_restart": False, "later_file": later_file}


WORK_MEM = row("integer", "kB", "64", "2147483647")
SHARED_BUFFERS = row("integer", "8kB", "16", "1073741823", context="postmaster")
STATEMENT_TIMEOUT = row("integer", "ms", "0", "2147483647")
TARGET = row("real", None, "0", "1", context="sighup")
WAL_LEVEL = row("enum", enumvals=["minimal", "replica", "logical"], context="postmaster")
FSYNC = row("bool", context="sighup")


@pytest.mark.parametrize(("value", "the_row", "setting"), [
    ("16MB", WORK_MEM, "16384"),
    ("4096", WORK_MEM, "4096"),
    ("1GB", WORK_MEM, "1048576"),
    ("256MB", SHARED_BUFFERS, "32768"),
    ("128kB", SHARED_BUFFERS, "16"),
    ("30s", STATEMENT_TIMEOUT, "30000"),
    ("2min", STATEMENT_TIMEOUT, "120000"),
    ("0.9", TARGET, "0.9"),
    ("Replica", WAL_LEVEL, "replica"),
    ("off", FSYNC, "off"),
    ("true", FSYNC, "on"),
])
def test_accepted_values_in_base_units(value, the_row, setting):
    assert to_setting(value, the_row) == setting
    assert check_value("x", value, the_row) is None


@pytest.mark.parametrize(("value", "the_row", "problem"), [
    ("32kB", WORK_MEM, "out of range (64 kB .. 2147483647 kB)"),
    ("lots", WORK_MEM, "not a number (with a unit like 16MB)"),
    ("16 parsecs", WORK_MEM, "unit 'parsecs' does not fit"),
    ("30s", WORK_MEM, "unit 's' does not fit"),
    ("1.5", WORK_MEM, "not a whole number"),
    ("100000GB", SHARED_BUFFERS, "out of range"),
    ("1.5", TARGET, "out of range (0 .. 1)"),
    ("archive", WAL_LEVEL, "not one of minimal, replica, logical"),
    ("maybe", FSYNC, "not a boolean"),
])
def test_refused_values_say_why(value, the_row, problem):
    assert problem in check_value("x", value, the_row)


def test_settings_alter_system_cannot_change():
    assert check_value("nosuch", "1", None) == "nosuch is not a setting of this server"
    internal = row("integer", context="internal", low="1", high="9")
    assert "fixed when PostgreSQL is built" in check_value("block_size", "1", internal)
    later = row("integer", "kB", "64", "2147483647", later_file="/etc/postgresql/15/main/conf.d/late.conf")
    assert check_value("work_mem", "16MB", later) == (
        "work_mem is also set in /etc/postgresql/15/main/conf.d/late.conf, read after "
        "postgresql.auto.conf: change it there")
    argv = row("integer", "kB", "64", "2147483647", source="command line")
    assert "comes from the server's command line" in check_value("work_mem", "16MB", argv)
