"""A counsellor announces a group weeks ahead, then leaves the team (the roster no longer
names them; the bot restarted on the new configuration). The group still opened with them
as its host: invited into a room of youths with the power to delete messages, and invited
back whenever they left. One who left the team while hosting stayed in the room, reading
along. Now a former member of staff is neither invited nor kept: the group opens without
them (the leads are called when nobody moderates), and one in the room is removed.
Memory store, fake clock, no server."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import InviteToGroup, KickFromGroup, OpenGroupRoom
from counsel_bot.core.ids import EventID
from tests.groups.test_group_desk import ANNA, BEN, GROUP_ROOM, LEAD, Parts

WITHOUT_ANNA = Settings(staff=StaffSettings(counsellors=(BEN,), team_leads=(LEAD,)))


async def _restart_without_anna(p: Parts) -> None:
    seen = p.seen
    await p.start(settings=WITHOUT_ANNA)
    p.seen = seen


async def test_a_group_whose_host_left_the_team_opens_without_them() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.new()
    await _restart_without_anna(p)
    opened = await p.open_group()
    assert opened.host != ANNA, "a former counsellor is invited to host a room of youths"


async def test_a_host_who_left_the_team_mid_group_is_removed_and_not_invited_back() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.desk.member_named(GROUP_ROOM, ANNA, "Anna", p.event(), p.clock.now())
    await p.new()
    await _restart_without_anna(p)
    p.desk.room_opened(1, GROUP_ROOM)
    p.clock.advance(timedelta(minutes=11))  # past the host's grace
    await p.c.tick(p.clock.now())
    effects = await p.new()
    assert KickFromGroup(1, ANNA) in effects, "the former counsellor reads along"
    assert [e for e in effects if isinstance(e, SayToStaff) and e.key == "group.host_missing"
            and LEAD in e.mentions], "nobody was called to moderate in their place"
    await p.desk.member_left(GROUP_ROOM, ANNA, EventID("$left"), p.clock.now())
    assert not [e for e in await p.new() if isinstance(e, InviteToGroup) and e.youth == ANNA]
    assert not [e for e in await p.new() if isinstance(e, OpenGroupRoom)]
