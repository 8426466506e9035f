from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.core.escalation import EscalationTracker
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    CrisisStatus,
    RouterSnapshot,
)

T0 = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
C = ConversationID("C-1")


def snapshot(state: ConversationState, crisis: CrisisStatus) -> RouterSnapshot:
    conv = ConversationSnapshot(C, state, "chat", "de", T0, 0, crisis=crisis,  # type: ignore[arg-type]
                                assigned_to=UserID("@m:x") if state == "assigned" else None)
    return RouterSnapshot(conversations=(conv,))


def test_an_untaken_flag_pages_once_after_the_timeout() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(snapshot(ConversationState.WAITING, CrisisStatus.RAISED))
    assert tracker.due(T0 + timedelta(seconds=119)) == []
    assert tracker.due(T0 + timedelta(minutes=2)) == [(C, timedelta(minutes=2))]
    assert tracker.due(T0 + timedelta(minutes=10)) == []


def test_taking_a_waiting_conversation_handles_it() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(snapshot(ConversationState.ASSIGNED, CrisisStatus.RAISED))
    assert tracker.due(T0 + timedelta(hours=1)) == []


def test_an_assigned_counsellor_must_react_to_the_flag() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=True)
    tracker.update(snapshot(ConversationState.ASSIGNED, CrisisStatus.RAISED))
    assert tracker.due(T0 + timedelta(minutes=3)) == [(C, timedelta(minutes=3))]

    tracker.flagged(C, T0, assigned=True)
    tracker.update(snapshot(ConversationState.ASSIGNED, CrisisStatus.DISMISSED))
    assert tracker.due(T0 + timedelta(minutes=3)) == []


def test_restart_restores_unreviewed_flags_from_now() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    later = T0 + timedelta(hours=1)
    tracker.restore(snapshot(ConversationState.WAITING, CrisisStatus.RAISED), later)
    assert tracker.due(later + timedelta(minutes=2)) == [(C, timedelta(minutes=2))]
