"""The form's words for a moment: Indonesia's zones by their own names."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from spse_change.consult.form import schedule, shown, zone_name


@pytest.mark.parametrize(("offset", "name"), [("+07:00", "WIB"), ("+08:00", "WITA"), ("+09:00", "WIT"),
                                              ("+00:00", "UTC+00:00"), ("+05:30", "UTC+05:30"),
                                              ("-03:00", "UTC-03:00")])
def test_zone_names(offset: str, name: str) -> None:
    assert zone_name(datetime.fromisoformat(f"2026-12-05T22:00{offset}")) == name


JAKARTA = ZoneInfo("Asia/Jakarta")


def test_schedule_across_midnight_in_wita() -> None:
    window = "2026-12-05T23:00+08:00/2026-12-06T01:00+08:00"
    assert schedule({"window": window}, JAKARTA) == ("5 Desember 2026 pukul 23:00 s.d. "
                                                     "6 Desember 2026 01:00 WITA")


def test_a_window_without_offset_is_the_lpses_time_on_any_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The record keeps the window as typed; a form built on a UTC machine said 22:00 UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert schedule({"window": "2026-12-05T22:00/2026-12-05T23:00"}, JAKARTA) == (
            "5 Desember 2026 pukul 22:00 s.d. 23:00 WIB")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_yes_no_value_is_shown_in_indonesian() -> None:
    assert (shown(True), shown(False), shown({"enabled": True})) == ("ya", "tidak", "enabled: ya")
