"""The team lead's "Today" figures: counts since local midnight, kept over a restart. Pure.

Rules this module keeps:

1. Counts only: how many opened, closed, flagged, breached, and the waits to a first
   assignment in whole seconds. Never who, which conversation, or what was written.
2. The day is the local date in the office's zone (``opening_hours.timezone``), so a team
   lead's "today" ends at their midnight, not at UTC's.
3. The tally is a small value (`encode` / `decode`) the conductor writes in the same
   transition as what it counts: a crash can neither lose a count nor count one twice, and a
   restart (or a standby taking over) goes on with the day's figures instead of zeros.
4. A day never runs back: a count stamped before the tally's day (a clock stepped back
   around midnight) joins the current day rather than wiping it.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from counsel_bot.core.clock import require_aware

# The median of today's waits needs the samples; a busy day stays far below this, and the
# encoded tally (rewritten with each counted step) stays a few tens of KB at worst.
MAX_DAY_SAMPLES = 10_000


@dataclass(frozen=True)
class TodayFigures:
    """What happened since local midnight; the dashboard and `counsel stats` show these.

    ``median_wait_seconds`` is None while nobody was assigned today (no sample yet); 0 is a
    real median (youths taken at once)."""

    opened: int = 0
    closed: int = 0
    crisis_flags: int = 0
    median_wait_seconds: float | None = None
    deadline_breaches: int = 0
    # First assignments today: the median's samples (0: the median is None, not 0 s).
    assigned: int = 0


@dataclass(frozen=True)
class DayCount:
    """What one step adds to today's figures; steps add up with ``+``."""

    opened: int = 0
    closed: int = 0
    crisis_flags: int = 0
    deadline_breaches: int = 0
    waits: tuple[float, ...] = ()

    def __add__(self, other: DayCount) -> DayCount:
        return DayCount(self.opened + other.opened, self.closed + other.closed,
                        self.crisis_flags + other.crisis_flags,
                        self.deadline_breaches + other.deadline_breaches,
                        self.waits + other.waits)

    def __bool__(self) -> bool:
        return self != NOTHING


NOTHING = DayCount()


@dataclass(frozen=True)
class _Day:
    day: date
    opened: int = 0
    closed: int = 0
    crisis_flags: int = 0
    deadline_breaches: int = 0
    waits: tuple[int, ...] = field(default=())


class DailyTally:
    """Counts of the current local day; starts again when the day changes."""

    def __init__(self, day_zone: tzinfo) -> None:
        self._zone = day_zone
        self._current: _Day | None = None

    def _day_of(self, now: datetime) -> date:
        return require_aware(now).astimezone(self._zone).date()

    def _rolled(self, now: datetime) -> _Day:
        day = self._day_of(now)
        if self._current is None or day > self._current.day:
            return _Day(day)
        return self._current  # the same day, or a clock stepped back (rule 4)

    def add(self, count: DayCount, now: datetime) -> None:
        current = self._rolled(now)
        # Whole seconds: what the figures show, and what the encoded tally keeps.
        room = MAX_DAY_SAMPLES - len(current.waits)
        waits = tuple(round(max(s, 0.0)) for s in count.waits[:max(room, 0)])
        self._current = _Day(current.day, current.opened + count.opened,
                             current.closed + count.closed,
                             current.crisis_flags + count.crisis_flags,
                             current.deadline_breaches + count.deadline_breaches,
                             current.waits + waits)

    def figures(self, now: datetime) -> TodayFigures:
        current = self._rolled(now)
        self._current = current
        median = statistics.median(current.waits) if current.waits else None
        return TodayFigures(current.opened, current.closed, current.crisis_flags,
                            None if median is None else float(median),
                            current.deadline_breaches, len(current.waits))

    def encode(self) -> str:
        """The tally as a store setting: the local day and its counts, nothing else."""
        current = self._current
        if current is None:
            return ""
        return json.dumps({
            "day": current.day.isoformat(), "opened": current.opened, "closed": current.closed,
            "crisis_flags": current.crisis_flags,
            "deadline_breaches": current.deadline_breaches, "waits": list(current.waits),
        }, separators=(",", ":"))

    def restore(self, encoded: str | None) -> bool:
        """Go on with the tally `encode` wrote (an older day rolls over at the next reading);
        none written yet is an empty tally. False for a value that is not a tally: the day
        then begins from zero, since figures must not stop a start."""
        self._current = None
        if not encoded:
            return True
        try:
            raw = json.loads(encoded)
            counts = [int(raw[k]) for k in ("opened", "closed", "crisis_flags",
                                            "deadline_breaches")]
            waits = tuple(int(w) for w in raw["waits"])[:MAX_DAY_SAMPLES]
            day = date.fromisoformat(raw["day"])
        except (ValueError, TypeError, KeyError, OverflowError):  # Overflow: 1e999 is inf
            return False
        if min(counts, default=0) < 0 or any(w < 0 for w in waits):
            return False
        opened, closed, flags, breaches = counts
        self._current = _Day(day, opened, closed, flags, breaches, waits)
        return True
