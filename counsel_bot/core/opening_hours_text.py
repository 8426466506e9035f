"""Opening hours as a few short lines a youth reads at a glance, in German and English. Pure.

Consecutive days with the same hours share a line ("Mo–Fr 14:00–20:00"); a range that runs
past midnight is shown on the day it starts ("Fr 22:00–02:00"); a week that is open all the
time is one line ("Rund um die Uhr"). Holidays follow as one line of dates, and those before
``since`` are left out, so a page rendered today does not list last Christmas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from counsel_bot.core.opening_hours import OpeningHours

LANGUAGES = ("de", "en")
_DAY_MINUTES = 24 * 60
_DAY_NAMES = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WORDS = {
    "de": {"always": "Rund um die Uhr", "all_day": "ganztags", "closed": "geschlossen",
           "and": "und", "holidays": "Geschlossen am"},
    "en": {"always": "Around the clock", "all_day": "all day", "closed": "closed",
           "and": "and", "holidays": "Closed on"},
}

# A day's hours as shown: (start, end) in minutes after midnight; end may pass 24:00 when a
# range runs into the next day.
_DayHours = tuple[tuple[int, int], ...]


def opening_hours_lines(
    hours: OpeningHours, *, since: date | None = None
) -> dict[str, list[str]]:
    """Lines per language ("de", "en"), e.g. ``{"de": ["Mo–Fr 14:00–20:00", "Sa, So
    geschlossen"], "en": ["Mon–Fri 14:00–20:00", "Sat, Sun closed"]}``."""
    week = _shown_week(hours)
    holidays = sorted(day for day in hours.holidays if since is None or day >= since)
    result: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        words = _WORDS[lang]
        if all(day == ((0, _DAY_MINUTES),) for day in week):
            lines = [words["always"]]
        else:
            lines = [
                f"{_day_group(lang, first, last)} {_hours_text(lang, week[first])}"
                for first, last in _runs(week)
            ]
        if holidays:
            dates = [_date_text(lang, day) for day in holidays]
            lines.append(f"{words['holidays']} {_listing(lang, dates)}")
        result[lang] = lines
    return result


def _shown_week(hours: OpeningHours) -> list[_DayHours]:
    """Each weekday's own ranges, with the after-midnight tail joined back onto its range."""
    week: list[_DayHours] = []
    for index, spans in enumerate(hours.weekly):
        tail = [s.end for s in hours.weekly[(index + 1) % 7] if s.carried]
        shown = []
        for span in spans:
            if span.carried:
                continue
            end = span.end
            if end == _DAY_MINUTES and tail:
                end += tail[0]
            shown.append((span.start, end))
        week.append(tuple(shown))
    return week


def _runs(week: Sequence[_DayHours]) -> list[tuple[int, int]]:
    """(first, last) weekday indexes of each run of consecutive days with equal hours."""
    runs: list[tuple[int, int]] = []
    for index, day in enumerate(week):
        if runs and week[runs[-1][1]] == day:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _day_group(lang: str, first: int, last: int) -> str:
    names = _DAY_NAMES[lang]
    if first == last:
        return names[first]
    if last == first + 1:
        return f"{names[first]}, {names[last]}"
    return f"{names[first]}–{names[last]}"


def _hours_text(lang: str, day: _DayHours) -> str:
    words = _WORDS[lang]
    if not day:
        return words["closed"]
    if day == ((0, _DAY_MINUTES),):
        return words["all_day"]
    return _listing(lang, [f"{_clock(start)}–{_clock(end)}" for start, end in day])


def _clock(minute: int) -> str:
    # 24:00 stays 24:00 (the end of a day); a time past it belongs to the next morning.
    if minute > _DAY_MINUTES:
        minute -= _DAY_MINUTES
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _listing(lang: str, items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {_WORDS[lang]['and']} {items[-1]}"


def _date_text(lang: str, day: date) -> str:
    if lang == "de":
        return f"{day.day}.{day.month}.{day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


_DAYS_EN = _DAY_NAMES["en"]


def english_when(local: datetime, *, year: bool = True) -> str:
    """A local time as an English text writes it: "Thu 10 Dec 2026, 16:00" (without the
    year: "Thu 10 Dec, 16:00"), where a German "10.12." is read as the 12th of October
    abroad and says no day of the week."""
    day = f"{_DAYS_EN[local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]}"
    return f"{day} {local.year}, {local:%H:%M}" if year else f"{day}, {local:%H:%M}"
