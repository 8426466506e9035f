"""core/today.py: the day's tally, its day in the office's zone, and its kept form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.today import MAX_DAY_SAMPLES, NOTHING, DailyTally, DayCount, TodayFigures

BERLIN = ZoneInfo("Europe/Berlin")
# 23:50 in Berlin on 2 March (22:50 UTC).
BEFORE_MIDNIGHT = datetime(2026, 3, 2, 22, 50, tzinfo=UTC)


def test_day_counts_add_up() -> None:
    total = DayCount(opened=1, waits=(5.0,)) + DayCount(closed=2, waits=(7.0,))
    assert total == DayCount(opened=1, closed=2, waits=(5.0, 7.0))
    assert total
    assert not NOTHING


def test_a_restored_tally_shows_the_same_figures_until_local_midnight() -> None:
    """A restart at 23:55 goes on with the day; at 00:00 in Berlin (23:00 UTC, still 2 March
    there) the day is over, restored or not."""
    clock = FakeClock(BEFORE_MIDNIGHT)
    tally = DailyTally(BERLIN)
    tally.add(DayCount(opened=2, closed=2, crisis_flags=1, deadline_breaches=1,
                       waits=(0.0, 30.0, 90.0)), clock.now())
    before = tally.figures(clock.now())
    assert before == TodayFigures(2, 2, 1, 30.0, 1, assigned=3)
    clock.advance(timedelta(minutes=5))
    restarted = DailyTally(BERLIN)
    assert restarted.restore(tally.encode())
    assert restarted.figures(clock.now()) == before
    clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    assert restarted.figures(clock.now()) == TodayFigures()


def test_a_tally_from_the_local_day_before_restores_as_zeros() -> None:
    """Counted at 23:50 in Berlin, started again at 00:10: still 2 March in UTC, but the
    office's day is over."""
    tally = DailyTally(BERLIN)
    tally.add(DayCount(opened=3), BEFORE_MIDNIGHT)
    restarted = DailyTally(BERLIN)
    assert restarted.restore(tally.encode())
    assert restarted.figures(BEFORE_MIDNIGHT + timedelta(minutes=20)) == TodayFigures()


def test_a_median_of_zero_is_not_no_median() -> None:
    tally = DailyTally(UTC)
    assert tally.figures(BEFORE_MIDNIGHT).median_wait_seconds is None
    tally.add(DayCount(waits=(0.0,)), BEFORE_MIDNIGHT)
    restarted = DailyTally(UTC)
    restarted.restore(tally.encode())
    assert restarted.figures(BEFORE_MIDNIGHT).median_wait_seconds == 0.0
    assert restarted.figures(BEFORE_MIDNIGHT).assigned == 1


def test_the_kept_form_is_the_day_and_counts_only() -> None:
    tally = DailyTally(BERLIN)
    tally.add(DayCount(opened=1, waits=(12.4,)), BEFORE_MIDNIGHT)
    kept = json.loads(tally.encode())
    assert kept == {"day": "2026-03-02", "opened": 1, "closed": 0, "crisis_flags": 0,
                    "deadline_breaches": 0, "waits": [12]}


@pytest.mark.parametrize("kept", ["{", "[]", '{"day": "2026-03-02"}',
                                  '{"day":"x","opened":1,"closed":0,"crisis_flags":0,'
                                  '"deadline_breaches":0,"waits":[]}',
                                  '{"day":"2026-03-02","opened":-1,"closed":0,'
                                  '"crisis_flags":0,"deadline_breaches":0,"waits":[]}',
                                  # Numbers JSON reads as infinite: no count, and no crash
                                  # of the start that restores it.
                                  '{"day":"2026-03-02","opened":1e999,"closed":0,'
                                  '"crisis_flags":0,"deadline_breaches":0,"waits":[]}',
                                  '{"day":"2026-03-02","opened":1,"closed":0,'
                                  '"crisis_flags":0,"deadline_breaches":0,"waits":[1e999]}'])
def test_an_unreadable_kept_tally_starts_the_day_from_zero(kept: str) -> None:
    tally = DailyTally(UTC)
    tally.add(DayCount(opened=4), BEFORE_MIDNIGHT)
    assert not tally.restore(kept)
    assert tally.figures(BEFORE_MIDNIGHT) == TodayFigures()


def test_nothing_kept_yet_is_an_empty_day() -> None:
    tally = DailyTally(UTC)
    tally.add(DayCount(opened=4), BEFORE_MIDNIGHT)
    assert tally.restore(None)
    assert tally.figures(BEFORE_MIDNIGHT) == TodayFigures()


def test_a_clock_stepped_back_over_midnight_does_not_wipe_the_day() -> None:
    tally = DailyTally(BERLIN)
    after_midnight = BEFORE_MIDNIGHT + timedelta(minutes=15)
    tally.add(DayCount(opened=1), after_midnight)
    tally.add(DayCount(opened=1), BEFORE_MIDNIGHT)  # stepped back 15 minutes
    assert tally.figures(after_midnight).opened == 2


def test_waits_stop_at_the_sample_limit() -> None:
    tally = DailyTally(UTC)
    tally.add(DayCount(waits=(1.0,) * (MAX_DAY_SAMPLES + 5)), BEFORE_MIDNIGHT)
    tally.add(DayCount(waits=(1.0,)), BEFORE_MIDNIGHT)
    assert tally.figures(BEFORE_MIDNIGHT).assigned == MAX_DAY_SAMPLES
