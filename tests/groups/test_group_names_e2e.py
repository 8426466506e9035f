"""A youth in a group's room who takes another youth's nickname, or the team's name, as
their display name (a member may always rewrite their own membership; power levels do not
reach it): the bot says in the room who it really is (review of groups, finding 4; before,
nothing was done and nobody told). Real Synapse, real E2E clients."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_kill_restart import synapse_messages
from tests.groups.test_group_evening_e2e import join, setting, signed_up
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_youth_standing_in_the_group_under_anothers_nickname_is_named(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    closing: list[NioYouth] = []
    process: BotProcess | None = None
    try:
        clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
        host = await login(synapse, user_factory, tmp_path, "host")
        closing.append(host)
        process = await provision_bot(synapse, tmp_path / "bot",
                                      staff=[host.client.user_id], clock=clock)
        await process.start()
        bot_id = process.user_id
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        (b, _, _), (c, _, nick_c) = [
            await signed_up(synapse, user_factory, tmp_path, bot_id, name, closing)
            for name in ("youth-b", "youth-c")]
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        for youth in (b, c):
            await join(youth, group_room)

        before = await bot_messages(synapse, group_room, bot_id)
        await b.client.room_put_state(
            group_room, "m.room.member", {"membership": "join", "displayname": nick_c},
            state_key=b.client.user_id)
        # The bot answers in the room (what it says: test_group_desk.py). Read on the wire:
        # a member who joined moments ago may not have the bot's room key yet.
        await until(lambda: _more(synapse, group_room, bot_id, before), within=30,
                    what="the bot to answer the rename in the group's room")
    finally:
        if process is not None:
            await process.stop()
        for client in closing:
            await client.close()


async def bot_messages(synapse: SynapseHandle, room: str, bot_id: str) -> int:
    status, body = await synapse_messages(synapse, room)
    assert status == 200, body
    chunk = body.get("chunk", [])
    assert isinstance(chunk, list)
    return sum(1 for e in chunk if e.get("sender") == bot_id
               and e.get("type") == "m.room.encrypted")


async def _more(synapse: SynapseHandle, room: str, bot_id: str, than: int) -> bool:
    return await bot_messages(synapse, room, bot_id) > than
