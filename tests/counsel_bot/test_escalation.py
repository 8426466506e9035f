from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.core.escalation import Due, EscalationTracker
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


CLOSED = RouterSnapshot(conversations=())
WAITING, ASSIGNED = ConversationState.WAITING, ConversationState.ASSIGNED
RAISED, CONFIRMED, DISMISSED = CrisisStatus.RAISED, CrisisStatus.CONFIRMED, CrisisStatus.DISMISSED


def due(minutes: float, closed: bool = False) -> list[Due]:
    return [Due(C, timedelta(minutes=minutes), closed)]


def test_an_untaken_flag_pages_once_after_the_timeout() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(snapshot(WAITING, RAISED), T0)
    assert tracker.due(T0 + timedelta(seconds=119)) == []
    assert tracker.due(T0 + timedelta(minutes=2)) == due(2)
    tracker.update(snapshot(WAITING, RAISED), T0 + timedelta(minutes=5))
    assert tracker.due(T0 + timedelta(minutes=10)) == []


def test_taking_a_waiting_conversation_handles_it() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(snapshot(ASSIGNED, RAISED), T0)
    assert tracker.due(T0 + timedelta(hours=1)) == []


def test_an_assigned_counsellor_must_react_to_the_flag() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=True)
    tracker.update(snapshot(ASSIGNED, RAISED), T0)
    assert tracker.due(T0 + timedelta(minutes=3)) == due(3)

    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=True)
    tracker.update(snapshot(ASSIGNED, DISMISSED), T0)
    assert tracker.due(T0 + timedelta(minutes=3)) == []


def test_restart_restores_unreviewed_flags_from_now() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    later = T0 + timedelta(hours=1)
    tracker.restore(snapshot(WAITING, RAISED), later)
    assert tracker.due(later + timedelta(minutes=2)) == due(2)


def test_a_taken_flag_back_in_the_queue_waits_again() -> None:
    """Taken when a counsellor came on duty, handed back when they left: nobody has it,
    so the wait begins again (it paged nobody before: the audit's finding)."""
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(snapshot(ASSIGNED, RAISED), T0 + timedelta(seconds=30))
    back = T0 + timedelta(minutes=1)
    tracker.update(snapshot(WAITING, RAISED), back)
    assert tracker.due(back + timedelta(seconds=119)) == []
    assert tracker.due(back + timedelta(minutes=2)) == due(2)


def test_a_confirmed_crisis_back_in_the_queue_waits_again() -> None:
    """Confirmed, then its counsellor went off duty with nobody else on duty: it pages."""
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=True)
    tracker.update(snapshot(ASSIGNED, CONFIRMED), T0 + timedelta(seconds=30))
    assert tracker.due(T0 + timedelta(minutes=5)) == []
    back = T0 + timedelta(minutes=6)
    tracker.update(snapshot(WAITING, CONFIRMED), back)
    assert tracker.due(back + timedelta(minutes=2)) == [Due(C, timedelta(minutes=2), False,
                                                            reviewed=True)]
    # Taken again: nothing more.
    tracker.update(snapshot(ASSIGNED, CONFIRMED), back + timedelta(minutes=3))
    assert tracker.due(back + timedelta(minutes=30)) == []


def test_a_dismissed_flag_in_the_queue_does_not_wait() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.update(snapshot(WAITING, DISMISSED), T0)
    assert tracker.due(T0 + timedelta(hours=1)) == []


def test_a_conversation_that_ends_before_anyone_looked_still_pages() -> None:
    """The youth wrote "ende" (or left) with the flag unreviewed and nobody on it."""
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(CLOSED, T0 + timedelta(seconds=20))
    assert tracker.due(T0 + timedelta(minutes=2)) == due(2, closed=True)
    tracker.update(CLOSED, T0 + timedelta(minutes=3))
    assert tracker.due(T0 + timedelta(hours=1)) == []
    assert not tracker._waits  # nothing kept for the ended conversation


def test_an_unreviewed_flag_of_an_assigned_conversation_pages_after_the_close() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=True)
    tracker.update(CLOSED, T0 + timedelta(minutes=1))
    assert tracker.due(T0 + timedelta(minutes=2)) == due(2, closed=True)


def test_a_conversation_closed_while_taken_does_not_page() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(snapshot(ASSIGNED, RAISED), T0 + timedelta(seconds=30))
    tracker.update(CLOSED, T0 + timedelta(minutes=1))
    assert tracker.due(T0 + timedelta(hours=1)) == []


def test_an_erased_conversation_pages_nobody() -> None:
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(CLOSED, T0 + timedelta(seconds=20))
    tracker.forget(C)
    assert tracker.due(T0 + timedelta(hours=1)) == []


def test_an_assigned_flag_that_paged_and_is_then_handed_back_waits_again() -> None:
    """Flagged while its counsellor had it, never reviewed: paged once. Handed back to the
    queue with nobody on it, a new wait begins."""
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=True)
    tracker.update(snapshot(ASSIGNED, RAISED), T0)
    assert tracker.due(T0 + timedelta(minutes=3)) == due(3)
    back = T0 + timedelta(minutes=10)
    tracker.update(snapshot(WAITING, RAISED), back)
    assert tracker.due(back + timedelta(minutes=2)) == due(2)


def test_a_clock_set_back_does_not_hold_back_a_page_by_the_jump() -> None:
    """Flagged, then the wall clock is stepped back an hour (an NTP step, a host restored
    from a snapshot): the wait went on from the flag's time in the old clock, so the lead
    was paged an hour late. It counts from the step at the latest."""
    tracker = EscalationTracker(timedelta(minutes=2))
    tracker.flagged(C, T0, assigned=False)
    tracker.update(snapshot(WAITING, RAISED), T0)
    back = T0 - timedelta(hours=1)
    for seconds in (0, 30, 60, 90):
        tracker.update(snapshot(WAITING, RAISED), back + timedelta(seconds=seconds))
        assert tracker.due(back + timedelta(seconds=seconds)) == []
    assert tracker.due(back + timedelta(minutes=2)) == due(2)
