"""Once a youth joins a group's room, their own app writes their membership and the server
fills in their account's display name: the host sees "lena2009" (and, on a click, the
account id), not the nickname "Fuchs" the bot gave. `!mute lena2009` or `!mute @lena2009:…`
was answered "nobody has that name, write the nickname as shown in the group", a nickname
the group no longer shows: the host could not silence or remove the youth they were
looking at. Memory store, fake clock, no server."""

from __future__ import annotations

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import KickFromGroup, MuteInGroup
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts

Y1, Y2 = UserID("@y1:x"), UserID("@y2:x")


async def _evening() -> Parts:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.youth(2, "gruppe 1")
    await p.open_group()
    # They join: their apps write the names of their accounts.
    await p.desk.member_named(GROUP_ROOM, Y1, "lena2009", p.event(), p.clock.now())
    await p.desk.member_named(GROUP_ROOM, Y2, "Tom", p.event(), p.clock.now())
    await p.new()
    return p


async def test_the_host_mutes_a_youth_by_the_name_the_group_shows() -> None:
    p = await _evening()
    await p.in_group(ANNA, "!mute lena2009")
    effects = await p.new()
    assert MuteInGroup(1, Y1, True) in effects, [e for e in effects if isinstance(e, SayToStaff)]


async def test_the_host_removes_a_youth_by_their_account_id() -> None:
    p = await _evening()
    await p.in_group(ANNA, "!remove @y2:x")
    effects = await p.new()
    assert KickFromGroup(1, Y2) in effects, [e for e in effects if isinstance(e, SayToStaff)]


async def test_a_name_two_youths_show_names_nobody() -> None:
    p = await _evening()
    await p.desk.member_named(GROUP_ROOM, Y2, "lena2009", p.event(), p.clock.now())
    await p.new()
    await p.in_group(ANNA, "!mute lena2009")
    effects = await p.new()
    assert not [e for e in effects if isinstance(e, MuteInGroup)]
    # Refused, and the host told why ("fits more than one person; write the account's id"),
    # not "nobody has that name" about a name two show.
    assert [e.key for e in effects if isinstance(e, SayToStaff)] == ["group.name_ambiguous"]
