"""Opening hours: weekly ranges in a local timezone plus holiday dates. Pure.

A range may run past midnight ("22:00-02:00"); its early-morning part belongs to the day it
started, so a holiday on the next date does not cut it short. "24:00" ends a day. All inputs
and outputs are timezone-aware datetimes; every range becomes a pair of instants and all
comparisons are between instants, so is_open and next_opening always agree. A wall-clock time
skipped by the spring-forward gap is read with the offset before the gap (02:30 becomes 03:30
summer time); an ambiguous fall-back time means its first occurrence.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from counsel_bot.core.clock import require_aware

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"\s*([0-2][0-9]):([0-5][0-9])\s*-\s*([0-2][0-9]):([0-5][0-9])\s*")
_DAY_MINUTES = 24 * 60


# How far back `opened_at` looks for the start of an opening.
_OPENING_REACH_DAYS = 7


class OpeningHoursError(ValueError):
    """The opening-hours configuration is invalid; the message names the key and the value."""


@dataclass(frozen=True)
class _Span:
    start: int  # minutes after local midnight
    end: int  # exclusive, up to 1440
    carried: bool  # the tail of a range that started the day before


@dataclass(frozen=True)
class OpeningHours:
    timezone: ZoneInfo
    # Per weekday (Monday = 0), sorted spans.
    weekly: tuple[tuple[_Span, ...], ...]
    holidays: frozenset[date]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str = "opening_hours") -> OpeningHours:
        """Build from plain data (as a TOML loader gives it); raise `OpeningHoursError`."""
        if not isinstance(data, Mapping):
            raise OpeningHoursError(f"{path}: expected a table with timezone, weekly, holidays")
        unknown = sorted(set(data) - {"timezone", "weekly", "holidays"})
        if unknown:
            raise OpeningHoursError(
                f"{path}.{unknown[0]}: unknown key; use timezone, weekly and holidays"
            )
        zone = _zone(data.get("timezone"), f"{path}.timezone")
        weekly = _weekly(data.get("weekly", {}), f"{path}.weekly")
        holidays = _holidays(data.get("holidays", []), f"{path}.holidays")
        return cls(zone, weekly, holidays)

    # --- queries ---------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        at = require_aware(at).astimezone(UTC)
        today = at.astimezone(self.timezone).date()
        return any(
            start <= at < end
            for day in (today - timedelta(days=1), today)
            for start, end in self._intervals(day)
        )

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` if open now, else the next moment (UTC) it opens; None if it never does."""
        at = require_aware(at).astimezone(UTC)
        if self.is_open(at):
            return at
        start_day = at.astimezone(self.timezone).date()
        for offset in range(self._horizon_days(start_day)):
            day = start_day + timedelta(days=offset)
            for start, _ in self._intervals(day):
                if start > at:
                    return start
        return None

    def opened_at(self, at: datetime) -> datetime | None:
        """When the opening `at` falls in began (UTC): ranges that meet (one over midnight,
        08:00-12:00 and 12:00-18:00) are one opening. None when closed at `at`, or when open
        without a break for a week or more (round the clock): it has no opening to name."""
        at = require_aware(at).astimezone(UTC)
        today = at.astimezone(self.timezone).date()
        week = [(start, end, offset) for offset in range(_OPENING_REACH_DAYS + 1)
                for start, end in self._intervals(today - timedelta(days=offset))]
        start = next((s for s, e, _ in week if s <= at < e), None)
        while start is not None:
            earlier = next(((s, offset) for s, e, offset in week if s < start <= e), None)
            if earlier is None:
                return start
            start = None if earlier[1] == _OPENING_REACH_DAYS else earlier[0]
        return None

    def working_day(self, day: date) -> bool:
        """A date with opening hours that is not a holiday."""
        return day not in self.holidays and any(
            not span.carried for span in self.weekly[day.weekday()]
        )

    def add_working_days(self, at: datetime, days: int) -> datetime:
        """The closing time (UTC) of the `days`-th working day after the date of `at`.

        Used for mail: "a first reply within 2 working days" of an enquiry at Friday 18:00 is
        due when the service closes on Tuesday (with Monday and Tuesday working days).
        """
        if days < 1:
            raise OpeningHoursError(f"add_working_days needs at least 1 day, got {days}")
        if not any(any(not s.carried for s in spans) for spans in self.weekly):
            raise OpeningHoursError(
                "no weekly opening hours are configured, so there are no working days; "
                "add ranges under opening_hours.weekly"
            )
        day = require_aware(at).astimezone(self.timezone).date()
        remaining = days
        while remaining:
            day += timedelta(days=1)
            if self.working_day(day):
                remaining -= 1
        return max(end for _, end in self._own_intervals(day))

    # --- internals -------------------------------------------------------------------------

    def _counts(self, day: date, span: _Span) -> bool:
        origin = day - timedelta(days=1) if span.carried else day
        return origin not in self.holidays

    def _horizon_days(self, start: date) -> int:
        """Up to a week past the last holiday ahead: after it, each weekly range comes
        within a week (a count of the holidays was too short for an office open one day a
        week, whose break of six such days lasts six weeks)."""
        return 8 + max(((day - start).days for day in self.holidays if day >= start),
                       default=0)

    def _local(self, day: date, minute: int) -> datetime:
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.timezone)
        # Wall-clock arithmetic, then UTC: datetimes sharing a tzinfo compare by wall time,
        # which is wrong across a DST change.
        return (midnight + timedelta(minutes=minute)).astimezone(UTC)

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        return [
            (self._local(day, s.start), self._local(day, s.end))
            for s in self.weekly[day.weekday()]
            if self._counts(day, s)
        ]

    def _own_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """Ranges that started on `day`, with a carried tail joined onto its range."""
        result = []
        for span in self.weekly[day.weekday()]:
            if span.carried:
                continue
            end = self._local(day, span.end)
            if span.end == _DAY_MINUTES:
                tail = [s for s in self.weekly[(day.weekday() + 1) % 7] if s.carried]
                if tail:
                    end = self._local(day + timedelta(days=1), tail[0].end)
            result.append((self._local(day, span.start), end))
        return result


def _zone(value: object, path: str) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise OpeningHoursError(f"{path}: give an IANA timezone name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(value)
    # OSError: a region's directory ("Europe") or a name too long for a file name; zoneinfo
    # opens the name as a path and lets the file system's refusal through.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise OpeningHoursError(
            f"{path}: {value!r} is not a known timezone; use a name like 'Europe/Berlin'"
        ) from exc


def _weekly(value: object, path: str) -> tuple[tuple[_Span, ...], ...]:
    if not isinstance(value, Mapping):
        raise OpeningHoursError(f"{path}: expected a table like {{mon = ['14:00-20:00']}}")
    days: list[list[_Span]] = [[] for _ in DAYS]
    for key, ranges in value.items():
        if key not in DAYS:
            raise OpeningHoursError(f"{path}.{key}: unknown day; use one of {', '.join(DAYS)}")
        if not isinstance(ranges, Sequence) or isinstance(ranges, str):
            raise OpeningHoursError(f"{path}.{key}: expected a list like ['14:00-20:00']")
        index = DAYS.index(key)
        for n, text in enumerate(ranges):
            start, end = _range(text, f"{path}.{key}[{n}]")
            if end > start:
                days[index].append(_Span(start, end, carried=False))
            else:
                days[index].append(_Span(start, _DAY_MINUTES, carried=False))
                if end:
                    days[(index + 1) % 7].append(_Span(0, end, carried=True))
    for index, spans in enumerate(days):
        spans.sort(key=lambda s: s.start)
        for before, after in itertools.pairwise(spans):
            if after.start < before.end:
                raise OpeningHoursError(
                    f"{path}.{DAYS[index]}: ranges overlap around "
                    f"{after.start // 60:02d}:{after.start % 60:02d}; merge them"
                )
    return tuple(tuple(spans) for spans in days)


def _range(text: object, path: str) -> tuple[int, int]:
    match = _RANGE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise OpeningHoursError(f"{path}: {text!r} is not a time range like '14:00-20:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or end > _DAY_MINUTES or start == end:
        raise OpeningHoursError(
            f"{path}: {text!r} is not a valid range; start 00:00-23:59, end up to 24:00, "
            "and start and end must differ"
        )
    return start, end


def _holidays(value: object, path: str) -> frozenset[date]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise OpeningHoursError(f"{path}: expected a list of dates like ['2026-12-24']")
    result: set[date] = set()
    for n, item in enumerate(value):
        if isinstance(item, datetime) or not isinstance(item, date | str):
            raise OpeningHoursError(f"{path}[{n}]: {item!r} is not a date like '2026-12-24'")
        if isinstance(item, str):
            try:
                item = date.fromisoformat(item)
            except ValueError as exc:
                raise OpeningHoursError(
                    f"{path}[{n}]: {item!r} is not a date like '2026-12-24'"
                ) from exc
        result.add(item)
    return frozenset(result)
