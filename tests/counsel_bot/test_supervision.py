"""Team leads reading along: who may, what the youth is told, and what is kept."""

from __future__ import annotations

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.supervision import Supervision, setting_key
from counsel_bot.core.commands import SuperviseCommand
from counsel_bot.core.effects import SayInRoom, SayToYouth, SendMail, Supervise
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import Channel
from tests.counsel_bot.parts import AT, CASE, COUNSELLOR, LEAD, assigned, effects

STAFF_ROOM = RoomID("!staff:x")


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
    supervision.took_over(over, CASE, LEAD)
    assert over.effects == []
    assert over.settings == [(setting_key(CASE), "")]
    assert not supervision.is_reading(CASE, LEAD)


def test_closing_removes_every_reader_quietly_and_restore_brings_them_back() -> None:
    supervision = Supervision(mail_on=lambda: False)
    supervision.restore(CASE, f"{LEAD} {COUNSELLOR}")
    step = Change(AT, None)
    supervision.closed(step, CASE)
    assert effects(step) == [Supervise(CASE, COUNSELLOR, end=True), Supervise(CASE, LEAD, end=True)]
    assert not supervision.is_reading(CASE, LEAD)
