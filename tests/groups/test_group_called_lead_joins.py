"""The host left an open group's room; the bot called the leads it calls for the group (its
office's, the installation's own from `[staff]`, the on-call office's when the group's has
nobody on duty) to "make sure somebody moderates: `!group join 1` invites you". A lead of
another office among them wrote `!group join 1` and was told only the host or a lead of the
group's office may: called to step in, and refused at the door. Memory store, fake clock,
no server."""

from __future__ import annotations

from dataclasses import replace

from counsel_bot.config import StaffSettings
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import InviteToGroup, MuteInGroup
from counsel_bot.core.ids import EventID, UserID
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts
from tests.groups.test_group_offices import BEN, TOM, two_offices


async def test_a_lead_called_to_step_in_may_join_and_moderate() -> None:
    p = Parts()
    # Tom leads the school office and is the installation's own lead too.
    await p.start(settings=replace(two_offices(), staff=StaffSettings(team_leads=(TOM,))))
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    opened = await p.open_group()
    [(_, nick)] = opened.members
    await p.new()
    await p.desk.member_left(GROUP_ROOM, ANNA, EventID("$left"), p.clock.now())
    [called] = [e for e in await p.new() if isinstance(e, SayToStaff)]
    assert TOM in called.mentions

    await p.staff(TOM, "!group join 1")
    assert InviteToGroup(1, TOM, "") in await p.new(), "the lead called was refused"
    await p.in_group(TOM, f"!mute {nick}")
    assert MuteInGroup(1, UserID("@y1:x"), True) in await p.new()


async def test_a_lead_nobody_called_still_may_not() -> None:
    p = Parts()
    await p.start(settings=two_offices())
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.staff(TOM, "!group join 1")
    assert not [e for e in await p.new() if isinstance(e, InviteToGroup)]
    await p.staff(BEN, "!group join 1")
    assert not [e for e in await p.new() if isinstance(e, InviteToGroup)]
