"""A group whose own office has nobody on duty tonight: when its host does not come (or
leaves the room), the leads called to "make sure somebody moderates (`!group join N` invites
you)" include the on-call office's (`GroupCrisis.leads`), as for a crisis. But only the
group's office's leads may moderate it: the on-call lead who answered the call was refused
at the door ("only the host or a team lead may do that"), and the youths stayed alone.
Whoever the bot calls to step in may. Memory store, fake clock, no server."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from counsel_bot.config import RoutingSettings
from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.group_effects import InviteToGroup, MuteInGroup
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, BEN, Parts
from tests.groups.test_group_offices import TOM, two_offices


async def test_the_on_call_lead_called_for_a_missing_host_can_step_in() -> None:
    settings = replace(two_offices(), routing=RoutingSettings(fallback_office="familie",
                                                              on_call_office="schule"))
    p = Parts()
    await p.start(settings=settings)
    await p.staff(BEN, "!duty on")  # "schule" works tonight; nobody of "familie" does
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    [(_, nick)] = (await p.open_group()).members
    await p.new()
    p.clock.advance(timedelta(minutes=12))  # Anna never comes
    await p.c.tick(p.clock.now())
    [call] = [e for e in await p.new() if isinstance(e, SayToStaff)
              and e.key == "group.host_missing"]
    assert TOM in call.mentions

    await p.staff(TOM, "!group join 1")
    effects = await p.new()
    assert [e.key for e in effects if isinstance(e, SayInRoom)] == ["group.joining"], (
        "the lead called to step in was refused at the door")
    assert InviteToGroup(1, TOM, "") in effects
    await p.in_group(TOM, f"!mute {nick}")
    assert MuteInGroup(1, UserID("@y1:x"), True) in await p.new()
