"""Response targets, decided without a clock: a start, a target, a reminder, a hand-back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from counsel_bot.core.timers import (
    Target,
    TimerSettings,
    TimerSettingsError,
    Verdict,
    Waiting,
    check,
)
from tests.counsel_bot.parts import AT, WAITING, assigned

SETTINGS = TimerSettings()
MIN = timedelta(minutes=1)


def test_nothing_runs_while_the_youth_waits_in_the_queue_or_has_nothing_unanswered() -> None:
    assert check(WAITING, Waiting(since=AT), SETTINGS, AT + 60 * MIN).verdict is Verdict.ON_TIME
    assert check(assigned(), Waiting(), SETTINGS, AT + 60 * MIN).verdict is Verdict.ON_TIME
    assert check(None, Waiting(since=AT), SETTINGS, AT + 60 * MIN).verdict is Verdict.ON_TIME


def test_the_first_response_target_counts_from_the_assignment_not_the_first_words() -> None:
    conv = replace(assigned(), assigned_at=AT + 10 * MIN)
    waiting = Waiting(since=AT)
    assert check(conv, waiting, SETTINGS, AT + 14 * MIN).verdict is Verdict.ON_TIME
    result = check(conv, waiting, SETTINGS, AT + 15 * MIN)
    assert (result.verdict, result.target, result.waited) == (Verdict.REMIND, Target.FIRST,
                                                              5 * MIN)


def test_reminded_once_then_handed_back_after_the_second_limit() -> None:
    waiting = Waiting(since=AT)
    first = check(assigned(), waiting, SETTINGS, AT + 6 * MIN)
    assert first.verdict is Verdict.REMIND
    assert first.start is not None
    waiting = waiting.reminded(first.start)
    assert check(assigned(), waiting, SETTINGS, AT + 29 * MIN).verdict is Verdict.OVERDUE
    assert check(assigned(), waiting, SETTINGS, AT + 30 * MIN).verdict is Verdict.REQUEUE


def test_after_an_answer_the_next_response_target_applies_to_the_next_message() -> None:
    waiting = Waiting(since=AT).counsellor_wrote(assignment=1)
    assert check(assigned(), waiting, SETTINGS, AT + 60 * MIN).verdict is Verdict.ON_TIME
    waiting = waiting.youth_wrote(AT + 61 * MIN).youth_wrote(AT + 70 * MIN)
    assert waiting.since == AT + 61 * MIN  # the first unanswered message counts
    assert check(assigned(), waiting, SETTINGS, AT + 75 * MIN).verdict is Verdict.ON_TIME
    result = check(assigned(), waiting, SETTINGS, AT + 76 * MIN)
    assert (result.verdict, result.target) == (Verdict.REMIND, Target.NEXT)


def test_a_new_counsellor_gets_the_first_response_target_again() -> None:
    waiting = Waiting(since=AT + 61 * MIN, answered_in=1)
    again = replace(assigned(), assignments=2, assigned_at=AT + 61 * MIN)
    assert check(again, waiting, SETTINGS, AT + 66 * MIN).target is Target.FIRST


def test_the_state_survives_the_store() -> None:
    waiting = Waiting(since=AT, answered_in=3, reminded_for=AT)
    assert Waiting.decode(waiting.encode()) == waiting
    assert Waiting.decode(None) == Waiting()


def test_requeue_must_come_after_the_targets() -> None:
    with pytest.raises(TimerSettingsError, match="requeue_after_minutes must be longer"):
        TimerSettings(requeue_after=timedelta(minutes=10))


def test_a_clock_set_back_after_the_reminder_does_not_remind_again() -> None:
    """Reminded at 15:06 for words of 15:00; then an NTP step sets the clock back to 14:30.
    The wait counts from 14:30 (`Waiting.not_after`), but it is the same wait: a review
    found the counsellor was pinged a second time at 14:36 about words they had been
    reminded of already. Handed back once the second limit passes, as before."""
    conv = replace(assigned(), assigned_at=AT - 10 * MIN)
    reminded = Waiting(since=AT).reminded(AT)
    assert check(conv, reminded, SETTINGS, AT + 6 * MIN).verdict is Verdict.OVERDUE
    stepped = AT - 30 * MIN
    waiting = reminded.not_after(stepped)
    assert waiting.since == stepped
    assert check(conv, waiting, SETTINGS, stepped + 6 * MIN).verdict is Verdict.OVERDUE
    assert check(conv, waiting, SETTINGS, AT - 5 * MIN).verdict is Verdict.OVERDUE
    # 30 minutes from the assignment at 14:50, which the clock passes again.
    assert check(conv, waiting, SETTINGS, AT + 20 * MIN).verdict is Verdict.REQUEUE
    # Not reminded before the step: the reminder is still to come, once.
    fresh = Waiting(since=AT).not_after(stepped)
    assert check(conv, fresh, SETTINGS, stepped + 6 * MIN).verdict is Verdict.REMIND
