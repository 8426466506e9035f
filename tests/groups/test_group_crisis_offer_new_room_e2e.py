"""A youth who left their own chat writes crisis words in a group: the bot offers the 1:1
in a new room it opens for them (`GroupRooms._new_home`), and they answer there. The offer
was noted for the room they had left (`group_crisis.offer_key`), so the chat their answer
opened waited unflagged in the queue, behind everybody else: nobody on duty knew it was the
youth of the group's alert. Real Synapse, nio youths, an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import CrisisStatus
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.test_group_evening_e2e import CRISIS, join, setting, signed_up
from tests.groups.test_group_notices_after_leaving_e2e import leave
from tests.support.bot_harness import NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_the_answer_to_a_crisis_offer_in_a_new_room_opens_a_flagged_chat(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  clock=clock)
    bot = await process.start()
    bot_id = process.user_id
    closing: list[NioYouth] = [host]
    try:
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        b, b_home, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-b",
                                       closing)
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        await b.wait_for(b_home, bot_id, "Gruppe 1 beginnt")
        await join(b, group_room)
        await join(host, group_room)
        await leave(synapse, b, b_home)

        await b.send(group_room, CRISIS)
        await host.wait_for(staff_room, bot_id, "Krisenhinweis in Gruppe 1")
        b_new = await b.accept_invite()
        assert b_new not in (b_home, group_room)
        await b.wait_for(b_new, bot_id, "allein mit jemandem reden")
        await b.send(b_new, "ja bitte")

        async def opened() -> bool:
            return await bot.store.conversation_by_room(RoomID(b_new)) is not None

        await until(opened, what="the chat the answer opens")
        record = await bot.store.conversation_by_room(RoomID(b_new))
        assert record is not None
        current = bot.conductor.router.conversation(record.conversation)
        assert current is not None
        assert current.crisis is CrisisStatus.RAISED, (
            "the youth of the group's crisis alert waits unflagged behind everybody else")
    finally:
        await process.stop()
        for client in closing:
            await client.close()
