"""Example tests of the routing core: the scenarios the office meets every day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import (
    Action,
    Assign,
    CapacitySet,
    Channel,
    Close,
    Closed,
    ConversationOpened,
    ConversationSnapshot,
    ConversationState,
    CounsellorLeftRoom,
    CounsellorOffDuty,
    CounsellorOnDuty,
    CrisisDismissed,
    CrisisRaised,
    HandoverReason,
    LanguagesSet,
    Priority,
    QueuePositionChanged,
    QueueRequested,
    Reply,
    ReplyKey,
    Role,
    Router,
    RouterConfig,
    RouterSnapshot,
    SnapshotError,
    StaffAdded,
    StatusRequested,
    Take,
    TakeNext,
    Tick,
    Transfer,
    Unassign,
    UnassignReason,
    YouthEnded,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ANNA, BEN, LEA, EVE = (UserID(u) for u in ("@anna:x", "@ben:x", "@lea:x", "@eve:x"))


def c(n: int) -> ConversationID:
    return ConversationID(f"c{n}")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


A = TypeVar("A")


def of(kind: type[A], actions: list[Action]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


def office(*, capacity: int = 1, auto: bool = True) -> Router:
    router = Router(RouterConfig(auto_assign=auto, default_capacity=capacity))
    router.handle(StaffAdded(T0, ANNA, Role.COUNSELLOR))
    router.handle(StaffAdded(T0, BEN, Role.COUNSELLOR))
    router.handle(StaffAdded(T0, LEA, Role.TEAM_LEAD))
    router.handle(CounsellorOnDuty(T0, ANNA))
    router.handle(CounsellorOnDuty(T0, BEN))
    return router


def test_third_youth_waits_at_position_one_and_is_routed_when_a_chat_closes() -> None:
    router = office()
    first = router.handle(ConversationOpened(at(1), c(1)))
    second = router.handle(ConversationOpened(at(2), c(2)))
    third = router.handle(ConversationOpened(at(3), c(3)))
    assert of(Assign, first) == [Assign(c(1), ANNA, 1)]
    assert of(Assign, second) == [Assign(c(2), BEN, 1)]
    [notice] = of(QueuePositionChanged, third)
    assert notice.position == 1
    assert notice.eta is not None

    closed = router.handle(Close(at(20), ANNA, c(1)))
    assert closed[0] == Closed(c(1), ANNA, ANNA)
    assert Assign(c(3), ANNA, 1) in closed
    assert router.queue() == []


def test_language_match_beats_load_and_any_counsellor_is_the_fallback() -> None:
    router = office(capacity=3)
    router.handle(LanguagesSet(T0, BEN, ("en", "de")))
    router.handle(ConversationOpened(at(1), c(1), "de"))  # ANNA (tie, earlier idle)
    actions = router.handle(ConversationOpened(at(2), c(2), "en"))
    assert of(Assign, actions) == [Assign(c(2), BEN, 1)]
    router.handle(LanguagesSet(T0, BEN, ("de",)))
    actions = router.handle(ConversationOpened(at(3), c(3), "tr"))
    assert len(of(Assign, actions)) == 1  # nobody speaks tr: any on-duty counsellor


def test_counsellors_with_unsigned_devices_get_conversations_only_when_nobody_else_is_free(
) -> None:
    router = office(capacity=1)
    router.unsigned = frozenset({ANNA})
    # ANNA would win the tie (idle longer), but a strict youth could not read her.
    assert of(Assign, router.handle(ConversationOpened(at(1), c(1)))) == [Assign(c(1), BEN, 1)]
    # BEN is full: an unreadable counsellor is still better than nobody.
    assert of(Assign, router.handle(ConversationOpened(at(2), c(2)))) == [Assign(c(2), ANNA, 1)]


def test_a_language_match_beats_signed_devices() -> None:
    router = office(capacity=3)
    router.handle(LanguagesSet(T0, BEN, ("en",)))
    router.unsigned = frozenset({BEN})
    actions = router.handle(ConversationOpened(at(1), c(1), "en"))
    assert of(Assign, actions) == [Assign(c(1), BEN, 1)]


def test_least_loaded_counsellor_gets_the_next_conversation() -> None:
    router = office(capacity=3)
    router.handle(ConversationOpened(at(1), c(1)))
    router.handle(ConversationOpened(at(2), c(2)))
    router.handle(ConversationOpened(at(3), c(3)))
    assert sorted(router.load(u) for u in (ANNA, BEN)) == [1, 2]
    assert router.load(ANNA) == 2  # ties go to whoever waited longest since an assignment
    actions = router.handle(ConversationOpened(at(5), c(4)))
    assert of(Assign, actions) == [Assign(c(4), BEN, 1)]


def test_crisis_jumps_the_queue_but_keeps_fifo_among_crises() -> None:
    router = office()
    for n in range(1, 6):
        router.handle(ConversationOpened(at(n), c(n)))
    router.handle(CrisisRaised(at(6), c(5)))
    router.handle(CrisisRaised(at(6), c(4)))
    assert router.queue() == [c(4), c(5), c(3)]
    actions = router.handle(Close(at(7), ANNA, c(1)))
    assert Assign(c(4), ANNA, 1) in actions


def test_nobody_off_duty_is_assigned_and_queue_picks_up_when_someone_comes_on() -> None:
    router = office()
    router.handle(CounsellorOffDuty(T0, ANNA))
    router.handle(CounsellorOffDuty(T0, BEN))
    actions = router.handle(ConversationOpened(at(1), c(1)))
    assert of(Assign, actions) == []
    [notice] = of(QueuePositionChanged, actions)
    assert notice.eta is None  # nobody on duty: no honest estimate
    actions = router.handle(CounsellorOnDuty(at(2), BEN))
    assert Assign(c(1), BEN, 1) in actions


def test_off_duty_hands_over_to_a_colleague_with_capacity() -> None:
    router = office(capacity=2)
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    actions = router.handle(CounsellorOffDuty(at(2), ANNA, HandoverReason.UNPLANNED))
    assert actions[0] == Unassign(c(1), ANNA, UnassignReason.OFF_DUTY_UNPLANNED)
    assert Assign(c(1), BEN, 2) in actions
    [reply] = of(Reply, actions)
    assert isinstance(reply, Reply)
    assert reply.message_key is ReplyKey.DUTY_OFF
    assert reply.param("handed_back") == 1


def test_off_duty_without_colleague_capacity_goes_to_the_front_with_its_old_place() -> None:
    router = office()
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    router.handle(ConversationOpened(at(2), c(2)))  # BEN
    router.handle(ConversationOpened(at(3), c(3)))  # waits
    actions = router.handle(CounsellorOffDuty(at(4), ANNA))
    assert of(Unassign, actions) == [Unassign(c(1), ANNA, UnassignReason.OFF_DUTY_PLANNED)]
    assert router.queue() == [c(1), c(3)]
    conv = router.conversation(c(1))
    assert conv is not None
    assert conv.enqueued_at == at(1)
    # The youth handed back is told where they stand; c3 moved back but keeps its number.
    assert of(QueuePositionChanged, actions)[0].conversation == c(1)


def test_a_counsellor_back_on_duty_gets_the_youth_they_left_when_nobody_else_came() -> None:
    """Going off duty is leaving, not turning the youth down: the last counsellor of a night
    shift who signs off holding a chat (a break, the shift's end) and signs on again gets it
    back, before a youth who came later. Marked as handed back by them, it waited for
    nobody while they took newer youths, and no timer or page watches a queued chat."""
    router = office()
    router.handle(CounsellorOffDuty(T0, BEN))
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    router.handle(CounsellorOffDuty(at(2), ANNA))
    router.handle(ConversationOpened(at(10), c(2)))
    assert router.queue() == [c(1), c(2)]
    actions = router.handle(CounsellorOnDuty(at(12), ANNA))
    assert of(Assign, actions) == [Assign(c(1), ANNA, 2)]
    assert router.queue() == [c(2)]


def test_the_last_counsellor_signing_off_hears_that_youths_and_a_crisis_wait_for_nobody() -> None:
    """The reply "Handed over: 1" told the last counsellor of a night shift that a colleague
    had their youth, while it and a crisis waited for nobody; they went home."""
    router = office()
    router.handle(CounsellorOffDuty(T0, BEN))
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    router.handle(ConversationOpened(at(2), c(2)))  # waits
    router.handle(CrisisRaised(at(3), c(2)))
    [reply] = of(Reply, router.handle(CounsellorOffDuty(at(4), ANNA)))
    assert reply.message_key is ReplyKey.DUTY_OFF_NOBODY_LEFT
    assert reply.param("waiting") == 2
    assert reply.param("crisis") == 1
    # With a colleague still on duty, what was handed back is handed over.
    router = office(capacity=2)
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    [reply] = of(Reply, router.handle(CounsellorOffDuty(at(2), ANNA)))
    assert reply.message_key is ReplyKey.DUTY_OFF


def test_leaving_the_room_hands_the_conversation_to_someone_else() -> None:
    router = office(capacity=2)
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    actions = router.handle(CounsellorLeftRoom(at(2), c(1), ANNA))
    assert actions[:2] == [
        Unassign(c(1), ANNA, UnassignReason.LEFT_ROOM),
        Assign(c(1), BEN, 2),
    ]
    assert router.handle(CounsellorLeftRoom(at(3), c(1), ANNA)) == []


def test_returned_to_queue_is_not_given_straight_back() -> None:
    router = office(capacity=2)
    router.handle(CounsellorOffDuty(T0, BEN))
    router.handle(ConversationOpened(at(1), c(1)))
    actions = router.handle(Transfer(at(2), ANNA, c(1), None))
    assert of(Assign, actions) == []
    assert router.queue() == [c(1)]
    # ...but it goes to the colleague who comes on duty, and ANNA may still pull it.
    assert Assign(c(1), BEN, 2) in router.handle(CounsellorOnDuty(at(3), BEN))


@pytest.mark.parametrize("reason", list(HandoverReason))
def test_a_crisis_left_by_going_off_duty_goes_to_them_when_back_before_newer_youths(
    reason: HandoverReason,
) -> None:
    """Going off duty is the end of a shift, not a refusal of the youth: the crisis they
    left waits for the next counsellor on duty, them included, and no youth who wrote
    later is served first."""
    router = office()
    router.handle(CounsellorOffDuty(T0, BEN))
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    router.handle(CrisisRaised(at(2), c(1)))
    router.handle(CounsellorOffDuty(at(3), ANNA, reason))
    assert router.queue() == [c(1)]
    actions = router.handle(CounsellorOnDuty(at(60), ANNA))
    assert Assign(c(1), ANNA, 2) in actions
    router.handle(ConversationOpened(at(61), c(2)))
    assert router.queue() == [c(2)]


def test_manual_mode_takes_the_head_and_respects_capacity() -> None:
    router = office(auto=False)
    router.handle(ConversationOpened(at(1), c(1)))
    router.handle(ConversationOpened(at(2), c(2)))
    router.handle(CrisisRaised(at(3), c(2)))
    actions = router.handle(TakeNext(at(4), ANNA))
    assert actions == [
        Assign(c(2), ANNA, 1, manual=True),
        QueuePositionChanged(c(1), 1, timedelta(minutes=10)),
    ]
    [refusal] = router.handle(TakeNext(at(5), ANNA))
    assert isinstance(refusal, Reply)
    assert refusal.message_key is ReplyKey.REFUSED_AT_CAPACITY
    # A team lead on duty may exceed their own capacity.
    router.handle(CounsellorOnDuty(at(5), LEA))
    router.handle(CapacitySet(at(5), LEA, 0))
    assert of(Assign, router.handle(Take(at(6), LEA, c(1)))) == [Assign(c(1), LEA, 1, manual=True)]


def test_a_full_counsellor_may_take_a_waiting_crisis_by_hand() -> None:
    """Everyone on duty is full and a youth in crisis waits: the alert rings the counsellors
    who may take them (crisis_flags.raised), and "!take" refused them at capacity, so the
    youth waited for a lead's page. A crisis may be taken over capacity; a normal chat may
    not, and neither may "!next" reach past a crisis to one."""
    router = office(auto=False)
    router.handle(ConversationOpened(at(1), c(1)))
    assert of(Assign, router.handle(TakeNext(at(2), ANNA))) == [Assign(c(1), ANNA, 1,
                                                                       manual=True)]
    router.handle(ConversationOpened(at(3), c(2)))
    router.handle(ConversationOpened(at(4), c(3)))
    router.handle(CrisisRaised(at(5), c(3)))
    [refusal] = router.handle(Take(at(6), ANNA, c(2)))
    assert isinstance(refusal, Reply)
    assert refusal.message_key is ReplyKey.REFUSED_AT_CAPACITY
    assert of(Assign, router.handle(Take(at(7), ANNA, c(3)))) == [Assign(c(3), ANNA, 1,
                                                                         manual=True)]
    router.handle(ConversationOpened(at(8), c(4)))
    router.handle(CrisisRaised(at(9), c(4)))
    assert of(Assign, router.handle(TakeNext(at(10), ANNA))) == [Assign(c(4), ANNA, 1,
                                                                        manual=True)]
    [refusal] = router.handle(TakeNext(at(11), ANNA))
    assert isinstance(refusal, Reply)
    assert refusal.message_key is ReplyKey.REFUSED_AT_CAPACITY


def test_take_of_a_normal_chat_while_a_crisis_waits_is_for_team_leads() -> None:
    router = office(auto=False)
    router.handle(ConversationOpened(at(1), c(1)))
    router.handle(ConversationOpened(at(2), c(2)))
    router.handle(CrisisRaised(at(3), c(2)))
    [refusal] = router.handle(Take(at(4), ANNA, c(1)))
    assert isinstance(refusal, Reply)
    assert refusal.message_key is ReplyKey.REFUSED_CRISIS_WAITING
    router.handle(CounsellorOnDuty(at(4), LEA))
    assert of(Assign, router.handle(Take(at(5), LEA, c(1))))


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (TakeNext(T0, EVE), ReplyKey.REFUSED_NOT_STAFF),
        (Close(T0, BEN, c(1)), ReplyKey.REFUSED_NOT_YOURS),
        (Transfer(T0, BEN, c(1), BEN), ReplyKey.REFUSED_NOT_YOURS),
        (Take(T0, BEN, c(1)), ReplyKey.REFUSED_ASSIGNED_TO_OTHER),
        (Take(T0, ANNA, c(1)), ReplyKey.REFUSED_ALREADY_YOURS),
        (Take(T0, ANNA, c(9)), ReplyKey.REFUSED_UNKNOWN_CONVERSATION),
        (Transfer(T0, ANNA, c(1), EVE), ReplyKey.REFUSED_TARGET_NOT_STAFF),
        (Transfer(T0, ANNA, c(1), LEA), ReplyKey.REFUSED_TARGET_OFF_DUTY),
        (Transfer(T0, ANNA, c(1), ANNA), ReplyKey.REFUSED_SAME_COUNSELLOR),
        (Transfer(T0, ANNA, c(1), BEN), ReplyKey.REFUSED_TARGET_FULL),
        (Close(T0, ANNA, c(3)), ReplyKey.REFUSED_TEAM_LEAD_ONLY),
        (CrisisDismissed(T0, ANNA, c(3)), ReplyKey.REFUSED_TEAM_LEAD_ONLY),
        (CapacitySet(T0, ANNA, 11), ReplyKey.REFUSED_BAD_CAPACITY),
        (LanguagesSet(T0, ANNA, ("deutsch",)), ReplyKey.REFUSED_BAD_LANGUAGES),
    ],
)
def test_refusals_go_to_the_issuer_and_change_nothing(event: object, key: ReplyKey) -> None:
    router = office()
    for n in (1, 2, 3):
        router.handle(ConversationOpened(at(n - 10), c(n)))  # c1 ANNA, c2 BEN, c3 waits
    before = router.snapshot()
    actions = router.handle(event)  # type: ignore[arg-type]
    assert actions == [Reply(event.by, key, actions[0].params)]  # type: ignore[attr-defined,union-attr]
    assert router.snapshot().conversations == before.conversations
    assert router.snapshot().counsellors == before.counsellors


def test_team_lead_may_transfer_and_close_any_conversation() -> None:
    router = office(capacity=2)
    router.handle(ConversationOpened(at(1), c(1)))  # ANNA
    actions = router.handle(Transfer(at(2), LEA, c(1), BEN))
    assert actions[:2] == [
        Unassign(c(1), ANNA, UnassignReason.TRANSFERRED),
        Assign(c(1), BEN, 2, manual=True),
    ]
    assert router.handle(Close(at(3), LEA, c(1))) == [Closed(c(1), LEA, BEN)]


def test_youth_ending_a_waiting_chat_moves_the_others_up() -> None:
    router = office()
    for n in range(1, 5):
        router.handle(ConversationOpened(at(n), c(n)))
    actions = router.handle(YouthEnded(at(5), c(3)))
    assert actions[0] == Closed(c(3), None, None)
    [notice] = of(QueuePositionChanged, actions)
    assert (notice.conversation, notice.position) == (c(4), 1)


def test_position_notices_are_not_repeated_and_mail_gets_none() -> None:
    router = office()
    router.handle(ConversationOpened(at(1), c(1)))
    router.handle(ConversationOpened(at(2), c(2)))
    assert of(QueuePositionChanged, router.handle(ConversationOpened(at(3), c(3)))) != []
    assert router.handle(Tick(at(4))) == []
    assert router.handle(Tick(at(60))) == []
    mail = router.handle(ConversationOpened(at(61), c(4), channel=Channel.MAIL))
    assert of(QueuePositionChanged, mail) == []


def test_eta_follows_the_moving_average_of_handling_times() -> None:
    router = office()
    router.handle(ConversationOpened(at(0), c(1)))
    router.handle(ConversationOpened(at(0), c(2)))
    router.handle(Close(at(4), ANNA, c(1)))
    router.handle(Close(at(4), BEN, c(2)))
    assert router.average_handling_time() == timedelta(minutes=4)
    router.handle(ConversationOpened(at(5), c(3)))
    router.handle(ConversationOpened(at(5), c(4)))
    [notice] = of(QueuePositionChanged, router.handle(ConversationOpened(at(5), c(5))))
    assert notice.eta == timedelta(minutes=2)  # 4 min handling over 2 slots


def test_status_and_queue_overview() -> None:
    router = office()
    router.handle(ConversationOpened(at(0), c(1)))
    router.handle(ConversationOpened(at(0), c(2)))
    router.handle(ConversationOpened(at(0), c(3)))
    router.handle(CrisisRaised(at(1), c(3)))
    [status] = router.handle(StatusRequested(at(2), ANNA))
    assert isinstance(status, Reply)
    assert status.param("conversations") == " (c1)"
    assert status.message_key is ReplyKey.STATUS  # on duty
    [off] = router.handle(StatusRequested(at(2), LEA))
    assert isinstance(off, Reply)
    assert off.message_key is ReplyKey.STATUS_OFF_DUTY
    assert (off.param("conversations"), off.param("topics")) == ("", "–")
    [overview] = router.handle(QueueRequested(at(12), LEA))
    assert isinstance(overview, Reply)
    assert overview.param("waiting") == 1
    assert overview.param("crisis") == 1
    assert overview.param("entries") == " c3:crisis:12m"


def test_a_youth_handed_back_waits_from_the_hand_back_but_keeps_their_place() -> None:
    # The queue's order still counts from the first arrival (a youth handed back goes to
    # the front), but the wait a lead reads must be this wait, not the whole conversation.
    router = office(auto=False)
    router.handle(ConversationOpened(at(0), c(1)))
    router.handle(ConversationOpened(at(5), c(3)))
    router.handle(Take(at(6), ANNA, c(1)))
    router.handle(Transfer(at(40), ANNA, c(1), None))
    conv = router.conversation(c(1))
    assert conv is not None
    assert conv.state is ConversationState.WAITING
    assert (conv.enqueued_at, conv.waiting_since) == (at(0), at(40))
    waiting = router.conversation(c(3))
    assert waiting is not None
    assert waiting.waiting_since == at(5)
    [overview] = router.handle(QueueRequested(at(50), LEA))
    assert isinstance(overview, Reply)
    assert overview.param("entries") == " c1:normal:10m c3:normal:45m"
    router.handle(TakeNext(at(51), BEN))
    taken = router.conversation(c(1))
    assert taken is not None
    assert taken.assigned_to == BEN
    assert taken.waiting_since == at(40)


def test_dismissed_flag_lowers_priority_only_a_stronger_signal_raises_it_again() -> None:
    router = office()
    router.handle(ConversationOpened(at(0), c(1)))
    router.handle(CrisisRaised(at(0), c(1), severity=2))
    router.handle(CrisisDismissed(at(1), ANNA, c(1)))
    conv = router.conversation(c(1))
    assert conv is not None
    assert conv.priority is Priority.NORMAL
    router.handle(CrisisRaised(at(2), c(1), severity=2))
    assert router.conversation(c(1)).priority is Priority.NORMAL  # type: ignore[union-attr]
    router.handle(CrisisRaised(at(3), c(1), severity=3))
    assert router.conversation(c(1)).priority is Priority.CRISIS  # type: ignore[union-attr]


def test_snapshot_round_trip_and_inconsistent_snapshots_are_refused() -> None:
    router = office()
    for n in range(1, 4):
        router.handle(ConversationOpened(at(n), c(n)))
    restored = Router.from_snapshot(router.snapshot(), router.config)
    assert restored.snapshot() == router.snapshot()
    assert restored.handle(Close(at(9), ANNA, c(1))) == router.handle(Close(at(9), ANNA, c(1)))

    ghost = ConversationSnapshot(
        c(7), ConversationState.ASSIGNED, Channel.CHAT, "de", T0, 0, assigned_to=EVE, assigned_at=T0
    )
    with pytest.raises(SnapshotError, match="not on the roster"):
        Router.from_snapshot(RouterSnapshot(conversations=(ghost,)))


def test_opening_twice_is_idempotent() -> None:
    router = office()
    router.handle(ConversationOpened(at(1), c(1)))
    assert router.handle(ConversationOpened(at(2), c(1))) == []


def test_dismissing_a_conversation_without_a_flag_is_refused_and_changes_nothing() -> None:
    """Review (workflow) finding 7: "!dismiss c2" (the id of the wrong conversation, which
    had no flag) answered "Crisis flag c2 dismissed.", marked it dismissed and was counted
    as a false flag of the detector: the counsellor believed the flag they meant was dealt
    with, and the false-flag rate rose by a flag that never was."""
    router = office()
    router.handle(ConversationOpened(at(0), c(1)))  # ANNA's, no flag
    before = router.snapshot()
    [reply] = router.handle(CrisisDismissed(at(1), ANNA, c(1)))
    assert isinstance(reply, Reply)
    assert reply.message_key.value == "refused.no_crisis_flag"
    assert reply.param("id") == c(1)
    assert router.snapshot().conversations == before.conversations
