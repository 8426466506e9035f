"""A youth signed up for a group in their chat with the bot, then left that room (the chat
was over; Element offers "Leave"). What the bot still had to tell them about the group went
into the room only the bot was left in: a call-off ("the group is called off", while they
waited for an invitation), and the removal from a group's room ("you are no longer in group
1 – write here, a counsellor is there for you", the one word of care after being thrown
out). The crisis offer already came in a new room the bot opens; these now do too. Real
Synapse, nio youths, an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import join, leave, setting, signed_up
from tests.support.bot_harness import NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_youth_who_left_their_room_hears_of_a_call_off_and_a_removal(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  clock=clock)
    bot = await process.start()
    bot.executor.admin = synapse.admin
    bot_id = process.user_id
    closing: list[NioYouth] = [host]
    try:
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        await host.send(staff_room, '!group new "Freundschaft" 2026-12-11 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 2 angekündigt")

        # A signs up for group 2, leaves their room; the host calls group 2 off.
        a, a_home, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-a",
                                       closing)
        await a.send(a_home, "gruppe 2")
        await a.wait_for(a_home, bot_id, "Gruppe 2")
        await leave(synapse, a, a_home)
        await host.send(staff_room, "!group end 2")
        a_new = await a.accept_invite()
        assert a_new != a_home
        await a.wait_for(a_new, bot_id, "fällt leider aus")

        # B is in group 1's room, leaves their own room, and is removed from the group.
        b, b_home, nick_b = await signed_up(synapse, user_factory, tmp_path, bot_id,
                                            "youth-b", closing)
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        await b.wait_for(b_home, bot_id, "Gruppe 1 beginnt")
        await join(b, group_room)
        await join(host, group_room)
        await leave(synapse, b, b_home)
        await host.send(group_room, f"!remove {nick_b}")

        async def b_gone() -> bool:
            return b.client.user_id not in await synapse.admin.room_members(group_room)

        await until(b_gone, what="B to be removed")
        b_new = await b.accept_invite()
        assert b_new not in (b_home, group_room)
        await b.wait_for(b_new, bot_id, "nicht mehr in Gruppe 1")
    finally:
        await process.stop()
        for client in closing:
            await client.close()
