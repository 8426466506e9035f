"""A youth in a group's room who takes another youth's nickname, or the team's name, as
their display name (a member may always rewrite their own membership; power levels do not
reach it): the bot says in the room who it really is (review of groups, finding 4; before,
nothing was done and nobody told). Real Synapse, real E2E clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_kill_restart import synapse_messages
from tests.groups.evening import OPEN, group_announced, join, setting, signed_up
from tests.support.bot_harness import until

pytestmark = pytest.mark.integration


async def test_a_youth_standing_in_the_group_under_anothers_nickname_is_named(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with group_announced(synapse, user_factory, tmp_path) as evening:
        process, bot_id, closing = evening.process, evening.bot_id, evening.closing
        (b, _, _), (c, _, nick_c) = [
            await signed_up(synapse, user_factory, tmp_path, bot_id, name, closing)
            for name in ("youth-b", "youth-c")]
        evening.clock.set(OPEN)
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


async def bot_messages(synapse: SynapseHandle, room: str, bot_id: str) -> int:
    status, body = await synapse_messages(synapse, room)
    assert status == 200, body
    chunk = body.get("chunk", [])
    assert isinstance(chunk, list)
    return sum(1 for e in chunk if e.get("sender") == bot_id
               and e.get("type") == "m.room.encrypted")


async def _more(synapse: SynapseHandle, room: str, bot_id: str, than: int) -> bool:
    return await bot_messages(synapse, room, bot_id) > than
