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
from tests.groups.test_group_evening_e2e import join, nickname_in, setting
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot

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
        seated = []
        for name in ("youth-b", "youth-c"):
            youth = await login(synapse, user_factory, tmp_path, name)
            closing.append(youth)
            home = await youth.open_chat(bot_id)
            await youth.wait_for(home, bot_id, "anonym")
            await youth.send(home, "gruppe 1")
            seated.append((youth, nickname_in(await youth.wait_for(home, bot_id,
                                                                   "Du bist dabei"))))
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        for youth, _ in seated:
            await join(youth, group_room)
        (b, nick_b), (c, nick_c) = seated

        await b.client.room_put_state(
            group_room, "m.room.member", {"membership": "join", "displayname": nick_c},
            state_key=b.client.user_id)
        told = await c.wait_for(group_room, bot_id, f"Das ist {nick_b}, nicht {nick_c}",
                                within=30)
        assert b.client.user_id not in told
    finally:
        if process is not None:
            await process.stop()
        for client in closing:
            await client.close()
