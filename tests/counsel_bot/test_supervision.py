"""Team leads reading along: who may, what the youth is told, and what is kept."""

from __future__ import annotations

import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.supervision import Supervision, setting_key
from counsel_bot.core.commands import SuperviseCommand
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import (
    Effect,
    SayInRoom,
    SayToYouth,
    SendMail,
    Supervise,
    Transcript,
    decode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import Channel
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, StoreError
from tests.counsel_bot.parts import AT, CASE, COUNSELLOR, LEAD, assigned, effects
from tests.store.conftest import AeadSealer

STAFF_ROOM = RoomID("!staff:x")
YOUTH_ROOM, YOUTH = RoomID("!youth:x"), UserID("@sunflower:x")


def start(supervision: Supervision, step: Change, *, team_lead: bool = True,
          mail: bool = False) -> None:
    current = assigned(channel=Channel.MAIL) if mail else assigned()
    supervision.command(step, STAFF_ROOM, LEAD, SuperviseCommand(CASE), current,
                        team_lead=team_lead)


def replies(step: Change) -> list[str]:
    return [e.key for e in effects(step) if isinstance(e, SayInRoom)]


def test_the_youth_is_told_before_the_lead_reads_along() -> None:
    supervision, step = Supervision(mail_on=lambda: False), Change(AT, None)
    start(supervision, step)
    assert effects(step)[:2] == [SayToYouth(CASE, "supervision.started"), Supervise(CASE, LEAD)]
    assert replies(step) == ["supervise.on"]
    assert step.settings == [(setting_key(CASE), LEAD)]
    assert supervision.is_reading(CASE, LEAD)


def test_a_mail_youth_is_told_by_mail() -> None:
    supervision, step = Supervision(mail_on=lambda: True), Change(AT, None)
    start(supervision, step, mail=True)
    [told] = [e for e in effects(step) if isinstance(e, SendMail)]
    assert told.conversation == CASE
    assert told.text


def test_only_team_leads_may_and_not_twice() -> None:
    supervision, step = Supervision(mail_on=lambda: False), Change(AT, None)
    start(supervision, step, team_lead=False)
    assert replies(step) == ["refused.team_lead_only"]
    start(supervision, step)
    start(supervision, step)
    assert replies(step)[-1] == "supervise.already"
    supervision.command(step, STAFF_ROOM, COUNSELLOR, SuperviseCommand(CASE), assigned(),
                        team_lead=True)
    assert replies(step)[-1] == "refused.already_yours"


def test_ending_tells_the_youth_and_ending_again_says_so() -> None:
    supervision, step = Supervision(mail_on=lambda: False), Change(AT, None)
    start(supervision, step)
    end = Change(AT, None)
    for _ in range(2):
        supervision.command(end, STAFF_ROOM, LEAD, SuperviseCommand(CASE, end=True), assigned(),
                            team_lead=True)
    assert Supervise(CASE, LEAD, end=True) in effects(end)
    assert SayToYouth(CASE, "supervision.ended") in effects(end)
    assert replies(end) == ["supervise.off", "supervise.not_active"]
    assert not supervision.is_reading(CASE, LEAD)


def test_taking_over_ends_reading_without_a_supervise_effect() -> None:
    supervision, step = Supervision(mail_on=lambda: False), Change(AT, None)
    start(supervision, step)
    over = Change(AT, None)
    supervision.took_over(over, CASE, LEAD, 2)
    assert not [e for e in effects(over) if isinstance(e, Supervise)]
    # In the room already: announced as a counsellor who joins (`member_joined`) is.
    assert effects(over) == [Transcript(CASE, LEAD, 2)]
    assert over.settings == [(setting_key(CASE), "")]
    assert not supervision.is_reading(CASE, LEAD)


def test_closing_removes_every_reader_quietly_and_restore_brings_them_back() -> None:
    supervision = Supervision(mail_on=lambda: False)
    supervision.restore(CASE, f"{LEAD} {COUNSELLOR}")
    step = Change(AT, None)
    supervision.closed(step, CASE)
    assert effects(step) == [Supervise(CASE, COUNSELLOR, end=True), Supervise(CASE, LEAD, end=True)]
    assert not supervision.is_reading(CASE, LEAD)


async def _reading_along(*, counselled: bool = True) -> tuple[Conductor, ConversationID]:
    """A conductor on a memory store: Anna counsels the youth (or nobody is on duty, and
    the youth waits), Lea leads."""
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(COUNSELLOR,),
                                                      team_leads=(LEAD,))))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, AT)
    await c.sync_roster(AT)
    if counselled:
        await c.staff_wrote(STAFF_ROOM, COUNSELLOR, EventID("$duty"), "!duty on", AT)
    await c.youth_wrote(YOUTH_ROOM, YOUTH, None, EventID("$y1"), "hallo", AT)
    record = await c.store.conversation_by_room(YOUTH_ROOM)
    assert record is not None
    return c, record.conversation


async def _said(c: Conductor, text: str, event: str) -> list[Effect]:
    before = len(await c.store.pending_outbox())
    await c.staff_wrote(STAFF_ROOM, LEAD, EventID(event), text, AT)
    return [decode_effect(e.payload) for e in (await c.store.pending_outbox())[before:]]


@pytest.mark.parametrize("end", [True, False])
async def test_a_supervise_command_whose_commit_failed_can_be_given_again(end: bool) -> None:
    """The store refused the step of `!supervise end` (a full disk, a lost database
    connection): nothing was written, nothing sent, but the bot's memory had her gone.
    Written again, the command answered "you are not reading along", and the lead stayed
    in the youth's room, read-only, the youth never told, until the chat closed. (And a
    failed `!supervise` answered "already" to the second try, nobody invited.) A failed
    step changes nothing: the command given again does what it says."""
    c, conversation = await _reading_along()
    if end:
        assert [e.key for e in await _said(c, f"!supervise {conversation}", "$s1")
                if isinstance(e, SayInRoom)] == ["supervise.on"]
    commit = c.store.commit_transition

    async def failing(transition: object) -> bool:
        raise StoreError("the disk is full")
    c.store.commit_transition = failing  # type: ignore[method-assign,assignment]
    command = f"!supervise {'end ' if end else ''}{conversation}"
    with pytest.raises(StoreError):
        await c.staff_wrote(STAFF_ROOM, LEAD, EventID("$s2"), command, AT)
    c.store.commit_transition = commit  # type: ignore[method-assign]
    again = await _said(c, command, "$s3")
    assert [e.key for e in again if isinstance(e, SayInRoom)] == [
        "supervise.off" if end else "supervise.on"]
    assert Supervise(conversation, LEAD, end=end) in again
    assert SayToYouth(conversation, "supervision.ended" if end else "supervision.started") \
        in again
    assert c.supervision.is_reading(conversation, LEAD) is not end


@pytest.mark.parametrize("how", ["transferred to her", "she goes on duty"])
async def test_a_reader_who_takes_the_conversation_over_is_announced_to_the_youth(
        how: str) -> None:
    """Lea reads along (the youth was told she does not write); then the conversation is
    hers: Anna transfers it to her, or, the youth waiting at night, she goes on duty and is
    given it. She was in the room already, so no join came, and with it no "Lea is here
    for you now" (nor the case notes): the youth waited on (after a transfer told only
    that their counsellor had to hand over and someone would come), while the reader who
    "does not write" was now the one to answer. She is announced as a counsellor who joins
    is."""
    c, conversation = await _reading_along(counselled=how == "transferred to her")
    if how == "transferred to her":
        await _said(c, "!duty on", "$lead-duty")
    await _said(c, f"!supervise {conversation}", "$s1")
    assert c.supervision.is_reading(conversation, LEAD)
    if how == "transferred to her":
        before = len(await c.store.pending_outbox())
        await c.staff_wrote(STAFF_ROOM, COUNSELLOR, EventID("$t"),
                            f"!transfer {conversation} {LEAD}", AT)
        then = [decode_effect(e.payload) for e in (await c.store.pending_outbox())[before:]]
    else:
        then = await _said(c, "!duty on", "$lead-duty")
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to == LEAD
    assert not c.supervision.is_reading(conversation, LEAD)
    [told] = [e for e in then if isinstance(e, Transcript)]
    assert (told.counsellor, told.assignment, told.supervisor) == (
        LEAD, current.assignments, False)


def test_a_mail_youth_who_cannot_be_told_is_not_read_along() -> None:
    """Mail switched off (`[mail] enabled = false`) with a mail conversation still open:
    the notice went into the room, where a mail youth never is, and the lead read along
    without the youth ever knowing. Refused, as an appointment is, until mail is on
    again; the lead is told why."""
    supervision, step = Supervision(mail_on=lambda: False), Change(AT, None)
    start(supervision, step, mail=True)
    assert replies(step) == ["supervise.mail_off"]
    assert not [e for e in effects(step) if isinstance(e, Supervise | SayToYouth | SendMail)]
    assert not supervision.is_reading(CASE, LEAD)
    assert step.settings == []
