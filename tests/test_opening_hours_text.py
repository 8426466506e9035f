"""Opening hours rendered into the short lines the entry page shows."""

from __future__ import annotations

import itertools
import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from counsel_bot.core.opening_hours import DAYS, OpeningHours
from counsel_bot.core.opening_hours_text import opening_hours_lines


def hours(weekly: dict[str, list[str]], holidays: list[str] | None = None) -> OpeningHours:
    return OpeningHours.from_dict(
        {"timezone": "Europe/Berlin", "weekly": weekly, "holidays": holidays or []}
    )


WEEKDAYS = {day: ["14:00-20:00"] for day in DAYS[:5]}


def test_equal_weekdays_merge_and_the_closed_weekend_shares_a_line() -> None:
    assert opening_hours_lines(hours(WEEKDAYS)) == {
        "de": ["Mo–Fr 14:00–20:00", "Sa, So geschlossen"],
        "en": ["Mon–Fri 14:00–20:00", "Sat, Sun closed"],
    }


def test_always_open_is_one_line() -> None:
    always = hours({day: ["00:00-24:00"] for day in DAYS})
    assert opening_hours_lines(always) == {"de": ["Rund um die Uhr"], "en": ["Around the clock"]}


def test_the_configured_default_is_around_the_clock() -> None:
    from counsel_bot.config import OpeningHoursSettings

    default = OpeningHours.from_dict(OpeningHoursSettings().as_dict())
    assert opening_hours_lines(default)["de"] == ["Rund um die Uhr"]


def test_only_equal_neighbours_merge() -> None:
    week = {"mon": ["14:00-20:00"], "tue": ["14:00-20:00"], "wed": ["10:00-12:00"],
            "thu": ["14:00-20:00"], "sat": ["00:00-24:00"]}
    assert opening_hours_lines(hours(week))["de"] == [
        "Mo, Di 14:00–20:00", "Mi 10:00–12:00", "Do 14:00–20:00", "Fr geschlossen",
        "Sa ganztags", "So geschlossen",
    ]


def test_two_ranges_a_day_are_joined_in_words() -> None:
    week = {day: ["10:00-12:00", "14:00-18:00", "19:00-21:00"] for day in DAYS}
    assert opening_hours_lines(hours(week)) == {
        "de": ["Mo–So 10:00–12:00, 14:00–18:00 und 19:00–21:00"],
        "en": ["Mon–Sun 10:00–12:00, 14:00–18:00 and 19:00–21:00"],
    }


def test_a_night_range_shows_on_the_day_it_starts() -> None:
    week = {"fri": ["22:00-02:00"], "sat": ["22:00-02:00"], "sun": ["12:00-24:00"]}
    assert opening_hours_lines(hours(week))["de"] == [
        "Mo–Do geschlossen", "Fr, Sa 22:00–02:00", "So 12:00–24:00",
    ]


def test_a_night_range_from_sunday_does_not_open_monday() -> None:
    week = {"sun": ["20:00-01:00"], "mon": ["14:00-16:00"]}
    assert opening_hours_lines(hours(week))["en"] == [
        "Mon 14:00–16:00", "Tue–Sat closed", "Sun 20:00–01:00",
    ]


def test_holidays_are_listed_in_order_and_past_ones_left_out() -> None:
    with_holidays = hours(WEEKDAYS, ["2026-12-25", "2026-12-24", "2026-01-01", "2027-01-01"])
    lines = opening_hours_lines(with_holidays, since=date(2026, 12, 1))
    assert lines["de"][-1] == "Geschlossen am 24.12.2026, 25.12.2026 und 1.1.2027"
    assert lines["en"][-1] == "Closed on 24 Dec 2026, 25 Dec 2026 and 1 Jan 2027"
    assert opening_hours_lines(with_holidays)["en"][-1].startswith("Closed on 1 Jan 2026, ")


def test_no_holiday_line_when_every_holiday_has_passed() -> None:
    past = hours({day: ["00:00-24:00"] for day in DAYS}, ["2025-12-24"])
    assert opening_hours_lines(past, since=date(2026, 1, 1))["de"] == ["Rund um die Uhr"]
    assert opening_hours_lines(past, since=date(2025, 12, 24))["de"] == [
        "Rund um die Uhr", "Geschlossen am 24.12.2025",
    ]


_TIMES = st.integers(0, 23).map(lambda h: f"{h:02d}:00")
_GROUP = re.compile(r"(\w+)(?:–(\w+)|, (\w+))? ")
_NAMES = {
    "de": ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}


@given(st.dictionaries(st.sampled_from(DAYS), st.tuples(_TIMES, _TIMES), max_size=7))
def test_each_day_named_once_and_equal_neighbours_merged(week: dict[str, tuple[str, str]]) -> None:
    weekly = {day: [f"{a}-{b}"] for day, (a, b) in week.items() if a != b}
    try:
        parsed = hours(weekly)
    except ValueError:  # a night range overlapping the next day's range
        return
    for lang, lines in opening_hours_lines(parsed).items():
        if lines in (["Rund um die Uhr"], ["Around the clock"]):
            continue
        names = _NAMES[lang]
        named: list[str] = []
        shown: list[str] = []
        for line in lines:
            group = _GROUP.match(line)
            assert group is not None, line
            shown.append(line[group.end():])
            first, last, second = group.groups()
            if last:
                named += names[names.index(first): names.index(last) + 1]
            else:
                named += [first] + ([second] if second else [])
        assert named == names
        # Merged as far as it goes: neighbouring lines never show the same hours.
        assert all(a != b for a, b in itertools.pairwise(shown))
