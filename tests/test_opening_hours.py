"""Opening hours: weekly ranges, holidays, overnight ranges, DST edges, working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counsel_bot.core.clock import NaiveTimeError
from counsel_bot.core.opening_hours import OpeningHours, OpeningHoursError

BERLIN = ZoneInfo("Europe/Berlin")
CONFIG: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "weekly": {
        "mon": ["14:00-20:00"],
        "tue": ["14:00-20:00"],
        "wed": ["10:00-12:00", "14:00-20:00"],
        "thu": ["14:00-20:00"],
        "fri": ["20:00-02:00"],
        "sun": ["01:00-04:00"],
    },
    "holidays": ["2026-12-24", date(2026, 12, 25)],
}
HOURS = OpeningHours.from_dict(CONFIG)


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (berlin(2026, 3, 2, 13, 59), False),  # Monday
        (berlin(2026, 3, 2, 14, 0), True),
        (berlin(2026, 3, 2, 19, 59), True),
        (berlin(2026, 3, 2, 20, 0), False),
        (berlin(2026, 3, 4, 11, 0), True),  # Wednesday, two ranges
        (berlin(2026, 3, 4, 13, 0), False),
        (berlin(2026, 3, 6, 23, 30), True),  # Friday night...
        (berlin(2026, 3, 7, 1, 59), True),  # ...runs into Saturday
        (berlin(2026, 3, 7, 2, 0), False),
        (berlin(2026, 12, 24, 15, 0), False),  # holiday (Thursday)
        (berlin(2026, 12, 25, 21, 0), False),  # holiday Friday: no night shift
        (berlin(2026, 12, 26, 1, 0), False),  # ...nor its tail after midnight
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert HOURS.is_open(at) is expected
    assert HOURS.is_open(at.astimezone(UTC)) is expected


def test_next_opening() -> None:
    assert HOURS.next_opening(berlin(2026, 3, 2, 9, 0)) == berlin(2026, 3, 2, 14, 0)
    now_open = berlin(2026, 3, 2, 15, 0)
    assert HOURS.next_opening(now_open) == now_open
    # Thursday evening after closing -> Friday 20:00.
    assert HOURS.next_opening(berlin(2026, 3, 5, 21, 0)) == berlin(2026, 3, 6, 20, 0)
    # Christmas Eve and Day are closed -> Sunday 01:00 on the 27th.
    assert HOURS.next_opening(berlin(2026, 12, 24, 9, 0)) == berlin(2026, 12, 27, 1, 0)
    closed = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {}})
    assert closed.next_opening(berlin(2026, 3, 2, 9, 0)) is None


def test_next_opening_after_a_break_of_several_weeks_of_an_office_open_one_day_a_week() -> None:
    """A small office's Wednesday evening chat, with six Wednesdays of summer break: the
    search looked 8 days past the holidays' count of days, not of weeks, and a youth was
    told it opens again "-" (never)."""
    break_days = [f"2026-07-{d:02d}" for d in (1, 8, 15, 22, 29)] + ["2026-08-05"]
    hours = OpeningHours.from_dict({"timezone": "Europe/Berlin",
                                    "weekly": {"wed": ["17:00-20:00"]},
                                    "holidays": break_days})
    assert hours.next_opening(berlin(2026, 6, 30, 12, 0)) == berlin(2026, 8, 12, 17, 0)


def test_spring_forward_range_keeps_real_length() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST. Sunday 01:00-04:00 lasts two real hours.
    start = HOURS.next_opening(berlin(2026, 3, 28, 12, 0))
    assert start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert HOURS.is_open(datetime(2026, 3, 29, 1, 59, tzinfo=UTC))
    assert not HOURS.is_open(datetime(2026, 3, 29, 2, 0, tzinfo=UTC))


def test_fall_back_range_keeps_real_length() -> None:
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET. Sunday 01:00-04:00 lasts four hours.
    assert HOURS.is_open(datetime(2026, 10, 24, 23, 0, tzinfo=UTC))
    assert HOURS.is_open(datetime(2026, 10, 25, 2, 59, tzinfo=UTC))
    assert not HOURS.is_open(datetime(2026, 10, 25, 3, 0, tzinfo=UTC))


def test_range_inside_the_gap_starts_after_it() -> None:
    hours = OpeningHours.from_dict(
        {"timezone": "Europe/Berlin", "weekly": {"sun": ["02:30-05:00"]}}
    )
    opening = hours.next_opening(berlin(2026, 3, 28, 12, 0))
    assert opening == berlin(2026, 3, 29, 3, 30)
    assert opening is not None
    assert not hours.is_open(opening - timedelta(minutes=1))
    assert hours.is_open(opening)


def test_add_working_days() -> None:
    friday_evening = berlin(2026, 3, 6, 18, 0)
    # Working days are dates with their own opening: Sun, Mon...
    assert HOURS.add_working_days(friday_evening, 1) == berlin(2026, 3, 8, 4, 0)
    assert HOURS.add_working_days(friday_evening, 2) == berlin(2026, 3, 9, 20, 0)
    # A Friday range ending after midnight is due when it ends.
    assert HOURS.add_working_days(berlin(2026, 3, 5, 9, 0), 1) == berlin(2026, 3, 7, 2, 0)
    # Holidays are skipped: Wed 23rd + 1 -> Sun 27th (24th/25th holidays, no Sat hours).
    assert HOURS.add_working_days(berlin(2026, 12, 23, 9, 0), 1) == berlin(2026, 12, 27, 4, 0)
    with pytest.raises(OpeningHoursError, match="at least 1"):
        HOURS.add_working_days(friday_evening, 0)
    closed = OpeningHours.from_dict({"timezone": "UTC"})
    with pytest.raises(OpeningHoursError, match="no weekly opening hours"):
        closed.add_working_days(friday_evening, 1)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(NaiveTimeError):
        HOURS.is_open(datetime(2026, 3, 2, 15, 0))


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"weekly": {}}, "opening_hours.timezone"),
        ({"timezone": "Mars/Olympus"}, "'Mars/Olympus'"),
        ({"timezone": "UTC", "weekly": {"funday": []}}, "opening_hours.weekly.funday"),
        ({"timezone": "UTC", "weekly": {"mon": "14-20"}}, "opening_hours.weekly.mon"),
        ({"timezone": "UTC", "weekly": {"mon": ["14-20"]}}, "opening_hours.weekly.mon[0]"),
        ({"timezone": "UTC", "weekly": {"mon": ["25:00-26:00"]}}, "'25:00-26:00'"),
        ({"timezone": "UTC", "weekly": {"mon": ["10:00-24:30"]}}, "'10:00-24:30'"),
        ({"timezone": "UTC", "weekly": {"mon": ["10:00-10:00"]}}, "'10:00-10:00'"),
        ({"timezone": "UTC", "weekly": {"mon": ["10:00-14:00", "13:00-15:00"]}}, "overlap"),
        ({"timezone": "UTC", "weekly": {"mon": ["22:00-03:00"], "tue": ["02:00-05:00"]}}, "tue"),
        ({"timezone": "UTC", "holidays": ["24.12.2026"]}, "opening_hours.holidays[0]"),
        ({"timezone": "UTC", "holidays": "2026-12-24"}, "opening_hours.holidays"),
        ({"timezone": "UTC", "hollidays": []}, "opening_hours.hollidays"),
    ],
)
def test_bad_configuration_names_the_key_and_value(data: dict[str, Any], names: str) -> None:
    with pytest.raises(OpeningHoursError) as info:
        OpeningHours.from_dict(data)
    assert names in str(info.value)


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_next_opening_is_open_and_nothing_earlier_is(at: datetime) -> None:
    opening = HOURS.next_opening(at)
    assert opening is not None
    assert opening >= at
    assert HOURS.is_open(opening)
    if opening > at:
        assert not HOURS.is_open(opening - timedelta(minutes=1))
        assert not HOURS.is_open(at)


def test_opened_at_is_the_start_of_the_opening_now() -> None:
    assert HOURS.opened_at(berlin(2026, 3, 2, 15, 30)) == berlin(2026, 3, 2, 14, 0)
    assert HOURS.opened_at(berlin(2026, 3, 2, 14, 0)) == berlin(2026, 3, 2, 14, 0)
    assert HOURS.opened_at(berlin(2026, 3, 2, 20, 0)) is None
    # Wednesday's second range is an opening of its own.
    assert HOURS.opened_at(berlin(2026, 3, 4, 15, 0)) == berlin(2026, 3, 4, 14, 0)
    # Friday's night shift over midnight is one opening.
    assert HOURS.opened_at(berlin(2026, 3, 7, 1, 0)) == berlin(2026, 3, 6, 20, 0)
    # Ranges that meet are one opening too.
    joined = OpeningHours.from_dict({"timezone": "Europe/Berlin",
                                     "weekly": {"mon": ["08:00-12:00", "12:00-18:00"]}})
    assert joined.opened_at(berlin(2026, 3, 2, 13, 0)) == berlin(2026, 3, 2, 8, 0)
    # Open round the clock: it never opened within reach, so no time is named.
    always = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {
        day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    assert always.opened_at(berlin(2026, 3, 2, 13, 0)) is None


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_opened_at_was_open_since_and_closed_just_before(at: datetime) -> None:
    opened = HOURS.opened_at(at)
    assert (opened is not None) is HOURS.is_open(at)
    if opened is not None:
        assert opened <= at
        assert HOURS.is_open(opened)
        assert not HOURS.is_open(opened - timedelta(minutes=1))
        assert HOURS.next_opening(opened - timedelta(minutes=1)) == opened
