"""A team lead the bot called to step in for a group's missing host (`group.called`) joined
the room, and was then demoted (still on staff, a counsellor now: the roster changed, the
bot restarted on it). Being called once was a licence for good: they stayed among the
youths with the moderator's power, could come back with `!group join 1`, and mute or
remove youths, as no other counsellor may. A call lets a *lead* step in, whichever office
they lead; demoted, they are removed as any lead who stepped in and no longer leads is
(`test_group_lead_left_team.py`). Memory store, fake clock, no server."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import InviteToGroup, KickFromGroup, MuteInGroup
from counsel_bot.core.ids import EventID, UserID
from tests.groups.test_group_desk import ANNA, BEN, GROUP_ROOM, LEAD, Parts

KIM = UserID("@kim:x")
LEADS = Settings(staff=StaffSettings(counsellors=(ANNA, BEN), team_leads=(LEAD, KIM)))
DEMOTED = Settings(staff=StaffSettings(counsellors=(ANNA, BEN, KIM), team_leads=(LEAD,)))


async def _called_and_stepped_in(p: Parts) -> str:
    """Kim was called for the missing host and stepped in; the roster now demotes her.
    Returns the youth's nickname."""
    await p.start(settings=LEADS)
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    opened = await p.open_group()
    [(_, nick)] = opened.members
    await p.new()
    await p.desk.member_left(GROUP_ROOM, ANNA, EventID("$left"), p.clock.now())
    [called] = [e for e in await p.new() if isinstance(e, SayToStaff)]
    assert KIM in called.mentions
    await p.staff(KIM, "!group join 1")
    assert InviteToGroup(1, KIM, "") in await p.new()
    seen = p.seen
    await p.start(settings=DEMOTED)
    p.seen = seen
    p.desk.room_opened(1, GROUP_ROOM)
    return nick


async def test_a_called_lead_who_was_demoted_is_removed_from_the_group() -> None:
    p = Parts()
    await _called_and_stepped_in(p)
    await p.c.tick(p.clock.advance(timedelta(minutes=1)))
    assert KickFromGroup(1, KIM) in await p.new(), (
        "the lead called once stays among the youths with the moderator's power after "
        "being demoted")


async def test_a_called_lead_who_was_demoted_may_not_come_back_or_moderate() -> None:
    p = Parts()
    nick = await _called_and_stepped_in(p)
    await p.c.tick(p.clock.advance(timedelta(minutes=1)))
    await p.new()
    await p.staff(KIM, "!group join 1")
    assert not [e for e in await p.new() if isinstance(e, InviteToGroup)], (
        "a counsellor who was called once as a lead is let in again")
    await p.in_group(KIM, f"!mute {nick}")
    assert not [e for e in await p.new() if isinstance(e, MuteInGroup)], (
        "a counsellor who was called once as a lead mutes a youth")


async def test_a_called_lead_who_still_leads_stays() -> None:
    p = Parts()
    await p.start(settings=LEADS)
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.desk.member_left(GROUP_ROOM, ANNA, EventID("$left"), p.clock.now())
    await p.staff(KIM, "!group join 1")
    assert InviteToGroup(1, KIM, "") in await p.new()
    seen = p.seen
    await p.start(settings=LEADS)
    p.seen = seen
    p.desk.room_opened(1, GROUP_ROOM)
    await p.c.tick(p.clock.advance(timedelta(minutes=1)))
    assert KickFromGroup(1, KIM) not in await p.new()


async def test_a_counsellor_called_in_a_leads_stead_may_still_step_in() -> None:
    """No lead named: the counsellors are called instead (`Conductor.every_lead`); a call
    that was never a lead's does not end with a role they never had."""
    p = Parts()
    await p.start(settings=Settings(staff=StaffSettings(counsellors=(ANNA, BEN))))
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.desk.member_left(GROUP_ROOM, ANNA, EventID("$left"), p.clock.now())
    [called] = [e for e in await p.new() if isinstance(e, SayToStaff)]
    assert BEN in called.mentions
    await p.staff(BEN, "!group join 1")
    assert InviteToGroup(1, BEN, "") in await p.new()
    await p.c.tick(p.clock.advance(timedelta(minutes=1)))
    assert KickFromGroup(1, BEN) not in await p.new()
