"""A youth takes another youth's group nickname as their display name, and the host, who
sees that name on the rude messages, writes `!mute` with it: the bot went by the nickname
first and muted the youth whose nickname it is, not the one who showed it. A youth could
get another muted (or removed) at will. A name that two seats answer to (one's nickname,
another's shown name) is now refused, and the host told to use the account's id.
Memory store, fake clock, no server."""

from __future__ import annotations

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import KickFromGroup, MuteInGroup
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts

Y1, Y2 = UserID("@y1:x"), UserID("@y2:x")


async def _evening() -> tuple[Parts, str]:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.youth(2, "gruppe 1")
    opened = await p.open_group()
    nick1 = opened.members[0][1]
    await p.desk.member_named(GROUP_ROOM, Y1, "lena2009", p.event(), p.clock.now())
    # Y2 shows Y1's nickname.
    await p.desk.member_named(GROUP_ROOM, Y2, nick1, p.event(), p.clock.now())
    await p.new()
    return p, nick1


async def test_a_youth_showing_anothers_nickname_does_not_get_them_muted() -> None:
    p, nick1 = await _evening()
    await p.in_group(ANNA, f"!mute {nick1}")
    effects = await p.new()
    assert MuteInGroup(1, Y1, True) not in effects, "the youth whose nickname was taken is muted"
    assert [e.key for e in effects if isinstance(e, SayToStaff)] == ["group.name_ambiguous"]
    await p.in_group(ANNA, f"!remove {nick1}")
    assert KickFromGroup(1, Y1) not in await p.new()


async def test_the_account_id_still_names_the_one_meant() -> None:
    p, _ = await _evening()
    await p.in_group(ANNA, "!mute @y2:x")
    assert MuteInGroup(1, Y2, True) in await p.new()
