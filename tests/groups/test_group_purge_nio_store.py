"""A group evening's room purged after the evening, then the bot's files: nio's store
(bot/nio/) kept the group room's id and the Megolm keys that decrypt what the youths wrote
in it, for good, while the conversations' rooms were erased there. Real Synapse, the real
bot, the clock injected (the room opens and is purged when the test moves it)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_deletion_nio_store import files_naming
from tests.groups.evening import join, setting, signed_up
from tests.support.bot_harness import NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_purged_group_room_leaves_nothing_in_the_nio_store(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  clock=clock)
    bot = await process.start()
    bot.executor.admin = synapse.admin  # what the runner wires from the admin token file
    bot_id = process.user_id
    closing: list[NioYouth] = [host]
    try:
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        youth, home, _nick = await signed_up(synapse, user_factory, tmp_path, bot_id,
                                             "youth-b", closing)
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        await youth.wait_for(home, bot_id, "Gruppe 1 beginnt")
        await join(youth, group_room)
        await join(host, group_room)
        words = f"hallo zusammen {secrets.token_hex(4)}"
        await youth.send(group_room, words)
        await host.wait_for(group_room, youth.client.user_id, words)

        async def bot_decrypted() -> bool:
            return bool(files_naming(process.layout.bot_dir / "nio", [group_room]))
        await until(bot_decrypted, what="the bot to keep the group room's keys")

        await host.send(group_room, "!end")

        async def only_bot_left() -> bool:
            return await synapse.admin.room_members(group_room) in ([bot_id], [])
        await until(only_bot_left, what="everyone removed from the group room")
        clock.advance(timedelta(minutes=1))

        async def purged() -> bool:
            return not await synapse.admin.room_exists(group_room)
        await until(purged, within=60, what="the group room to be purged")

        async def forgotten() -> bool:
            return not await bot.store.get_setting("group_room:1")
        await until(forgotten, within=30, what="the purge to be recorded")
    finally:
        await process.stop()
        for client in closing:
            await client.close()
    assert files_naming(process.layout.bot_dir / "nio", [group_room]) == []
