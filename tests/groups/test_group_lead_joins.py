"""The host left an open group (their app crashed, an emergency at home) and does not come
back: the bot invites them again and asks the group's leads to "make sure somebody
moderates". But only the bot can invite into a group's room, and moderating (`!mute`,
`!remove`) is done in that room: a lead had no way in, and could only end the evening for
everyone. Memory store, fake clock, no server."""

from __future__ import annotations

from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.group_effects import InviteToGroup, MuteInGroup
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, BEN, LEAD, Parts


async def test_a_lead_can_step_in_to_moderate_an_open_group() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    opened = await p.open_group()
    [(_, nick)] = opened.members
    await p.new()

    await p.staff(LEAD, "!group join 1")
    effects = await p.new()
    assert InviteToGroup(1, LEAD, "") in effects, "the lead was not let into the group's room"
    assert not [e for e in effects if isinstance(e, SayInRoom | SayToStaff)
                and e.key.startswith("command.")], effects

    # In the room, the lead moderates as the host would.
    await p.in_group(LEAD, f"!mute {nick}")
    assert MuteInGroup(1, UserID("@y1:x"), True) in await p.new()


async def test_only_who_may_moderate_is_let_in() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.staff(BEN, "!group join 1")
    effects = await p.new()
    assert not [e for e in effects if isinstance(e, InviteToGroup)]
    assert [e.key for e in effects if isinstance(e, SayInRoom)] == ["group.not_host"]
