"""The retention planner and settings: pure, with an injected now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.conversation.retention import (
    RetentionError,
    RetentionSettings,
    is_due,
    plan_retention,
)
from counsel_bot.core.ids import ConversationID

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)


def cid(n: int) -> ConversationID:
    return ConversationID(f"C-{n:08X}")


def test_only_conversations_closed_longer_than_the_period_ago_are_planned() -> None:
    closed = [
        (cid(1), NOW - timedelta(days=31)),
        (cid(2), NOW - timedelta(days=29, hours=23)),
        (cid(3), NOW - KEEP),  # exactly the period: kept until it is longer
        (cid(4), NOW - KEEP - timedelta(seconds=1)),
        (cid(5), NOW + timedelta(days=1)),  # a clock that jumped back must not delete
    ]
    assert plan_retention(closed, NOW, KEEP) == [cid(1), cid(4)]


def test_the_longest_closed_go_first_and_each_only_once() -> None:
    closed = [
        (cid(2), NOW - timedelta(days=40)),
        (cid(1), NOW - timedelta(days=90)),
        (cid(3), NOW - timedelta(days=40)),
        (cid(2), NOW - timedelta(days=50)),
    ]
    assert plan_retention(closed, NOW, KEEP) == [cid(1), cid(2), cid(3)]


def test_the_planner_moves_with_the_injected_clock() -> None:
    closed = [(cid(1), NOW - timedelta(days=10))]
    assert plan_retention(closed, NOW, KEEP) == []
    assert plan_retention(closed, NOW + timedelta(days=20, seconds=1), KEEP) == [cid(1)]


def test_nothing_closed_plans_nothing() -> None:
    assert plan_retention([], NOW, KEEP) == []


def test_a_naive_now_or_a_negative_period_is_refused() -> None:
    with pytest.raises(RetentionError, match="timezone-aware"):
        plan_retention([], NOW.replace(tzinfo=None), KEEP)
    with pytest.raises(RetentionError, match="negative"):
        plan_retention([], NOW, timedelta(days=-1))


@settings(max_examples=200, deadline=None)
@given(
    ages=st.lists(st.integers(-10 * 86_400, 400 * 86_400), max_size=30),
    keep_days=st.integers(0, 365),
)
def test_planned_is_exactly_the_expired_set(ages: list[int], keep_days: int) -> None:
    closed = [(cid(i), NOW - timedelta(seconds=age)) for i, age in enumerate(ages)]
    keep = timedelta(days=keep_days)
    planned = plan_retention(closed, NOW, keep)
    assert set(planned) == {c for c, at in closed if NOW - at > keep}
    times = dict(closed)
    assert [times[c] for c in planned] == sorted(times[c] for c in planned)


def test_settings_defaults_and_periods() -> None:
    default = RetentionSettings()
    assert default.closed_days == 30
    assert default.keep == timedelta(days=30)
    assert default.run_every == timedelta(hours=24)


@pytest.mark.parametrize(
    ("closed_days", "run_every_hours", "message"),
    [
        (0, 24.0, "closed_days"),
        (-3, 24.0, "closed_days"),
        (10_000, 24.0, "closed_days"),
        (True, 24.0, "closed_days"),
        (30, 0.0, "run_every_hours"),
        (30, -1.0, "run_every_hours"),
        (30, float("nan"), "run_every_hours"),
        (30, float("inf"), "run_every_hours"),
    ],
)
def test_settings_refuse_unusable_values(
    closed_days: int, run_every_hours: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RetentionSettings(closed_days=closed_days, run_every_hours=run_every_hours)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        RetentionSettings().closed_days = 1  # type: ignore[misc]


def test_a_run_is_due_after_the_interval() -> None:
    every = timedelta(hours=24)
    assert is_due(None, NOW, every)
    assert not is_due(NOW - timedelta(hours=23), NOW, every)
    assert is_due(NOW - timedelta(hours=24), NOW, every)
