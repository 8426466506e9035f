"""The router with several offices: isolation, fallback, on-call escalation (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import (
    Action,
    Assign,
    CapacitySet,
    Close,
    Closed,
    ConversationOpened,
    CounsellorOffDuty,
    CounsellorOnDuty,
    CrisisConfirmed,
    CrisisDismissed,
    CrisisRaised,
    Event,
    OfficeChosen,
    QueueRequested,
    Reply,
    ReplyKey,
    Role,
    Router,
    RouterConfig,
    StaffAdded,
    Take,
    TakeNext,
    Tick,
    Transfer,
    TransferToOffice,
    Unassign,
)
from counsel_bot.core.routing.offices import UNDECIDED, OfficeRules

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ANNA, BEN, CEM, LEA = (UserID(f"@{n}:x") for n in ("anna", "ben", "cem", "lea"))
OFFICES = ("family", "school", "general")
STAFF = {ANNA: frozenset({"family"}), BEN: frozenset({"school"}), CEM: frozenset({"general"}),
         LEA: frozenset({"family"})}
RULES = OfficeRules(OFFICES, STAFF, fallback="general", on_call="general")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def router(*, auto_assign: bool = True) -> Router:
    r = Router(RouterConfig(auto_assign=auto_assign, offices=RULES))
    for user in (ANNA, BEN, CEM):
        r.handle(StaffAdded(T0, user, Role.COUNSELLOR))
    r.handle(StaffAdded(T0, LEA, Role.TEAM_LEAD))
    return r


def on_duty(r: Router, *users: UserID) -> None:
    for user in users:
        r.handle(CounsellorOnDuty(T0, user))


def assigns(actions: list[Action]) -> list[tuple[str, str]]:
    return [(a.conversation, a.counsellor) for a in actions if isinstance(a, Assign)]


def replies(actions: list[Action]) -> list[Reply]:
    return [a for a in actions if isinstance(a, Reply)]


C1, C2 = ConversationID("C-1"), ConversationID("C-2")


def test_a_conversation_goes_only_to_its_offices_staff() -> None:
    r = router()
    on_duty(r, BEN, CEM)
    assert assigns(r.handle(ConversationOpened(at(1), C1, office="family"))) == []
    assert assigns(r.handle(CounsellorOnDuty(at(2), ANNA))) == [(C1, ANNA)]


def test_an_undecided_office_waits_silently_until_chosen() -> None:
    r = router()
    on_duty(r, ANNA, BEN, CEM)
    actions = r.handle(ConversationOpened(at(1), C1, office=UNDECIDED))
    assert actions == []
    assert assigns(r.handle(OfficeChosen(at(2), C1, "school"))) == [(C1, BEN)]


def test_a_conversation_from_before_offices_is_the_fallback_offices() -> None:
    r = router()
    on_duty(r, ANNA, CEM)
    assert assigns(r.handle(ConversationOpened(at(1), C1, office=""))) == [(C1, CEM)]


def test_other_offices_conversations_are_unknown_to_staff() -> None:
    r = router(auto_assign=False)
    on_duty(r, ANNA, BEN)
    r.handle(ConversationOpened(at(1), C1, office="family"))
    queue = replies(r.handle(QueueRequested(at(2), BEN)))[0]
    assert queue.param("waiting") == 0
    assert "C-1" not in str(queue.param("entries"))
    assert replies(r.handle(TakeNext(at(3), BEN)))[0].message_key is ReplyKey.QUEUE_EMPTY
    refused = replies(r.handle(Take(at(3), BEN, C1)))[0]
    assert refused.message_key is ReplyKey.REFUSED_UNKNOWN_CONVERSATION
    assert assigns(r.handle(Take(at(4), ANNA, C1))) == [(C1, ANNA)]
    for event in (Close(at(5), BEN, C1), Transfer(at(5), BEN, C1, None),
                  TransferToOffice(at(5), BEN, C1, "school")):
        assert replies(r.handle(event))[0].message_key is ReplyKey.REFUSED_UNKNOWN_CONVERSATION
    # A team lead of another office is refused just the same.
    lea_school = Router(RouterConfig(offices=OfficeRules(
        OFFICES, {**STAFF, LEA: frozenset({"school"})}, "general", "general")))
    lea_school.handle(StaffAdded(T0, LEA, Role.TEAM_LEAD))
    lea_school.handle(ConversationOpened(at(1), C2, office="family"))
    refusal = replies(lea_school.handle(Close(at(2), LEA, C2)))[0]
    assert refusal.message_key is ReplyKey.REFUSED_UNKNOWN_CONVERSATION


def test_transfer_to_a_colleague_of_another_office_is_refused() -> None:
    r = router()
    on_duty(r, ANNA, BEN)
    r.handle(ConversationOpened(at(1), C1, office="family"))
    refused = replies(r.handle(Transfer(at(2), ANNA, C1, BEN)))[0]
    assert refused.message_key is ReplyKey.REFUSED_TARGET_OTHER_OFFICE


def test_transfer_to_an_office_moves_it_and_hands_back() -> None:
    r = router()
    on_duty(r, ANNA, BEN)
    r.handle(ConversationOpened(at(1), C1, office="family"))
    actions = r.handle(TransferToOffice(at(2), ANNA, C1, "school"))
    assert any(isinstance(a, Unassign) and a.counsellor == ANNA for a in actions)
    assert assigns(actions) == [(C1, BEN)]
    conv = r.conversation(C1)
    assert conv is not None
    assert conv.office == "school"
    assert replies(actions)[0].message_key is ReplyKey.OFFICE_TRANSFERRED
    unknown = replies(r.handle(TransferToOffice(at(3), BEN, C1, "cooking")))[0]
    assert unknown.message_key is ReplyKey.REFUSED_UNKNOWN_OFFICE


def test_a_crisis_in_an_unstaffed_office_goes_to_the_on_call_office() -> None:
    r = router()
    on_duty(r, CEM)
    r.handle(ConversationOpened(at(1), C1, office="family"))
    r.handle(ConversationOpened(at(1), C2, office="family"))
    assert assigns(r.handle(CrisisRaised(at(2), C1, severity=2))) == [(C1, CEM)]
    conv = r.conversation(C2)
    assert conv is not None
    assert conv.assigned_to is None  # not a crisis: waits for its own office


def test_a_crisis_in_a_staffed_office_stays_there() -> None:
    r = router()
    on_duty(r, CEM, ANNA)
    r.handle(ConversationOpened(at(1), C2, office="family"))
    r.handle(ConversationOpened(at(1), C1, office="family"))
    r.handle(CrisisRaised(at(2), C1, severity=2))
    conv = r.conversation(C1)
    assert conv is not None
    assert conv.assigned_to == ANNA


def test_queue_positions_count_within_the_office() -> None:
    r = router()
    r.handle(ConversationOpened(at(1), C1, office="family"))
    actions = r.handle(ConversationOpened(at(2), C2, office="school"))
    told = {a.conversation: a.position for a in actions if hasattr(a, "position")}
    assert told == {C2: 1}


def test_without_offices_the_rules_allow_everything() -> None:
    r = Router(RouterConfig())
    r.handle(StaffAdded(T0, ANNA, Role.COUNSELLOR))
    r.handle(CounsellorOnDuty(T0, ANNA))
    assert assigns(r.handle(ConversationOpened(at(1), C1, office=""))) == [(C1, ANNA)]


# --- property: nobody ever gets another office's conversation ------------------------------

USERS = [ANNA, BEN, CEM, LEA]
CONVS = [ConversationID(f"C-{i}") for i in range(5)]
OFFICE_CHOICES = [*OFFICES, UNDECIDED, ""]

events = st.one_of(
    st.builds(lambda c, o: ("open", c, o), st.sampled_from(CONVS),
              st.sampled_from(OFFICE_CHOICES)),
    st.builds(lambda c, o: ("chosen", c, o), st.sampled_from(CONVS), st.sampled_from(OFFICES)),
    st.builds(lambda u: ("on", u), st.sampled_from(USERS)),
    st.builds(lambda u: ("off", u), st.sampled_from(USERS)),
    st.builds(lambda u: ("next", u), st.sampled_from(USERS)),
    st.builds(lambda u, c: ("take", u, c), st.sampled_from(USERS), st.sampled_from(CONVS)),
    st.builds(lambda u, c, t: ("transfer", u, c, t), st.sampled_from(USERS),
              st.sampled_from(CONVS), st.sampled_from([*USERS, None])),
    st.builds(lambda u, c, o: ("to_office", u, c, o), st.sampled_from(USERS),
              st.sampled_from(CONVS), st.sampled_from(OFFICES)),
    st.builds(lambda c: ("crisis", c), st.sampled_from(CONVS)),
    st.builds(lambda u, c: ("close", u, c), st.sampled_from(USERS), st.sampled_from(CONVS)),
)


def _event(step: tuple[object, ...], when: datetime) -> Event:
    kind, *args = step
    a: list[Any] = list(args)
    if kind == "open":
        return ConversationOpened(when, a[0], office=a[1])
    if kind == "chosen":
        return OfficeChosen(when, a[0], a[1])
    if kind == "on":
        return CounsellorOnDuty(when, a[0])
    if kind == "off":
        return CounsellorOffDuty(when, a[0])
    if kind == "next":
        return TakeNext(when, a[0])
    if kind == "take":
        return Take(when, a[0], a[1])
    if kind == "transfer":
        return Transfer(when, a[0], a[1], a[2])
    if kind == "to_office":
        return TransferToOffice(when, a[0], a[1], a[2])
    if kind == "crisis":
        return CrisisRaised(when, a[0], severity=2)
    if kind == "close":
        return Close(when, a[0], a[1])
    return Tick(when)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=40), st.booleans())
def test_no_conversation_is_ever_assigned_to_another_offices_counsellor(
    steps: list[tuple[object, ...]], auto: bool
) -> None:
    r = router(auto_assign=auto)
    for i, step in enumerate(steps):
        actions = r.handle(_event(step, at(i)))
        for action in actions:
            if not isinstance(action, Assign):
                continue
            conv = r.conversation(action.conversation)
            assert conv is not None
            office = RULES.office_of(conv)
            mine = STAFF[action.counsellor]
            escalated = conv.crisis.value != "none" and "general" in mine
            # An undecided office's conversation is the fallback office's to take by hand.
            undecided = office == UNDECIDED and action.manual and "general" in mine
            assert office in mine or undecided or escalated, (office, mine)
        for reply in replies(actions):
            if reply.message_key is ReplyKey.QUEUE:
                for entry in str(reply.param("entries")).split():
                    conv = r.conversation(ConversationID(entry.split(":")[0]))
                    assert conv is not None
                    assert RULES.sees(reply.to, conv, RULES.staffed(r.snapshot().counsellors))


def test_a_crisis_before_the_office_is_known_goes_to_the_on_call_office() -> None:
    r = router()
    on_duty(r, ANNA, BEN, CEM)
    r.handle(ConversationOpened(at(1), C1, office=UNDECIDED))
    assert assigns(r.handle(CrisisRaised(at(2), C1, severity=3))) == [(C1, CEM)]


def test_the_undecided_are_the_fallback_offices_to_see_and_take() -> None:
    r = router(auto_assign=False)
    on_duty(r, ANNA, CEM)
    r.handle(ConversationOpened(at(1), C1, office=UNDECIDED))
    assert replies(r.handle(Take(at(2), ANNA, C1)))[0].message_key is (
        ReplyKey.REFUSED_UNKNOWN_CONVERSATION)
    assert assigns(r.handle(Take(at(3), CEM, C1))) == [(C1, CEM)]


def test_the_on_call_counsellor_still_acts_on_the_crisis_they_took_once_its_office_is_staffed(
) -> None:
    """Review (workflow) finding 1: the on-call counsellor who took another office's crisis
    could no longer close, hand back, confirm or dismiss it once a counsellor of its own
    office came on duty ("no open conversation"): the youth was theirs and stuck with them,
    and the response timer's hand-back (a `Transfer` by them) was refused as well."""
    r = router()
    on_duty(r, CEM)
    r.handle(ConversationOpened(at(1), C1, office="family"))
    assert assigns(r.handle(CrisisRaised(at(2), C1, severity=2))) == [(C1, CEM)]
    r.handle(CounsellorOnDuty(at(3), ANNA))  # the family office is staffed again
    dismissed = replies(r.handle(CrisisDismissed(at(4), CEM, C1)))
    assert [d.message_key for d in dismissed] == [ReplyKey.CRISIS_DISMISSED]
    handed_back = r.handle(Transfer(at(5), CEM, C1, None))
    assert [a.counsellor for a in handed_back if isinstance(a, Unassign)] == [CEM]
    assert assigns(handed_back) == [(C1, ANNA)]  # its own office takes it on


def test_the_on_call_counsellor_may_close_the_crisis_they_took_after_its_office_is_staffed(
) -> None:
    r = router()
    on_duty(r, CEM)
    r.handle(ConversationOpened(at(1), C1, office="family"))
    r.handle(CrisisRaised(at(2), C1, severity=2))
    r.handle(CounsellorOnDuty(at(3), ANNA))
    assert replies(r.handle(CrisisConfirmed(at(4), CEM, C1)))[0].message_key is (
        ReplyKey.CRISIS_CONFIRMED)
    r.handle(CrisisDismissed(at(5), CEM, C1))
    assert [a for a in r.handle(Close(at(6), CEM, C1)) if isinstance(a, Closed)] == [
        Closed(C1, CEM, CEM)]


def test_a_conversation_taken_while_undecided_stays_with_its_counsellor_in_their_office(
) -> None:
    """Review (workflow) finding 6: the fallback office's counsellor may take a youth whose
    office is still undecided; the youth's next words (or the tick after three minutes) then
    set the office, and even when that was the counsellor's own office the conversation was
    handed back: the youth lost the counsellor mid-talk, and since the counsellor had
    "handed it back", nobody was given it again while they were the only one on duty."""
    r = router()
    on_duty(r, CEM)
    r.handle(ConversationOpened(at(1), C1, office=UNDECIDED))
    assert assigns(r.handle(Take(at(2), CEM, C1))) == [(C1, CEM)]
    actions = r.handle(OfficeChosen(at(3), C1, "general"))
    assert not [a for a in actions if isinstance(a, Unassign)]
    conv = r.conversation(C1)
    assert conv is not None
    assert (conv.office, conv.assigned_to) == ("general", CEM)
    # Another office's: handed to that office's queue, as before.
    on_duty(r, ANNA)
    r.handle(ConversationOpened(at(4), C2, office=UNDECIDED))
    r.handle(Take(at(5), CEM, C2))
    moved = r.handle(OfficeChosen(at(6), C2, "family"))
    assert [a.counsellor for a in moved if isinstance(a, Unassign)] == [CEM]
    assert assigns(moved) == [(C2, ANNA)]


def test_a_crisis_in_an_office_whose_staff_take_no_one_goes_to_the_on_call_office() -> None:
    """`!capacity 0` says "no new youths": an office whose only counsellor on duty says so
    has nobody to take a crisis. Before, it counted as staffed, so the crisis stayed in its
    queue until the lead page two minutes later (a suspicion of the workflow review)."""
    r = router()
    on_duty(r, ANNA, CEM)
    r.handle(CapacitySet(T0, ANNA, 0))
    r.handle(ConversationOpened(at(1), C1, office="family"))
    assert assigns(r.handle(CrisisRaised(at(2), C1, severity=2))) == [(C1, CEM)]
    r.handle(CapacitySet(at(3), ANNA, 2))
    assert assigns(r.handle(ConversationOpened(at(4), C2, office="family"))) == [(C2, ANNA)]
