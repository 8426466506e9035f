"""The host of a group never comes to it (asleep, sick, a shift swapped and the group
forgotten): the bot opens the room and invites the youths, who sit there together with
nobody moderating for the whole evening. The call to the leads came only when a host who
had joined left again. Now the leads are called when nobody who may moderate has joined
the room a few minutes after its start. Memory store, fake clock, no server."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, LEAD, Parts


async def _opened(p: Parts) -> None:
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.desk.member_named(GROUP_ROOM, UserID("@y1:x"), "lena2009", p.event(),
                              p.clock.now())
    await p.new()


def _calls(effects: Sequence[object]) -> list[SayToStaff]:
    return [e for e in effects if isinstance(e, SayToStaff) and e.key == "group.host_missing"]


async def test_the_leads_are_called_when_the_host_never_comes() -> None:
    p = Parts()
    await _opened(p)
    p.clock.advance(timedelta(minutes=2))
    await p.c.tick(p.clock.now())
    assert not _calls(await p.new()), "called before the host had a chance to come"
    p.clock.advance(timedelta(minutes=10))
    await p.c.tick(p.clock.now())
    [call] = _calls(await p.new())
    assert ANNA in call.mentions
    assert LEAD in call.mentions
    p.clock.advance(timedelta(minutes=5))
    await p.c.tick(p.clock.now())
    assert not _calls(await p.new()), "called twice"


async def test_nobody_is_called_when_the_host_came() -> None:
    p = Parts()
    await _opened(p)
    await p.desk.member_named(GROUP_ROOM, ANNA, "Anna", p.event(), p.clock.now())
    p.clock.advance(timedelta(minutes=15))
    await p.c.tick(p.clock.now())
    assert not _calls(await p.new())
