"""Time, injected: the only module that reads the real clock.

Logic takes a `Clock` (or, in the pure cores, an `at` carried by each event), so tests advance
a `FakeClock` instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class NaiveTimeError(ValueError):
    """A datetime without a timezone was given where an aware UTC one is required."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to, for tests."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start if start is not None else datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        self._now = require_aware(start).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("FakeClock.advance needs a non-negative delta; time does not run back")
        self._now += delta
        return self._now

    def set(self, at: datetime) -> None:
        self._now = require_aware(at).astimezone(UTC)


def require_aware(at: datetime) -> datetime:
    """Return `at` unchanged if it carries a timezone, else raise `NaiveTimeError`."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveTimeError(
            "got a naive datetime; pass a timezone-aware one, e.g. datetime.now(UTC)"
        )
    return at
