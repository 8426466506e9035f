"""A youth's room deleted (and purged) by an admin while the bot was stopped, or while it
was too busy to sync before the purge ended: the purge takes the bot's leave event with
the room, so no sync ever tells the bot it is out, and the conversation stayed queued for
good (a flagged one first in line; CI under load, 2026-12-07). Real Synapse, real E2E
clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_room_purged_while_the_bot_was_down_ends_its_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        await counsellor.accept_invite(within=60)
        first = await youth.open_chat(process.user_id, like_element=False)
        await youth.wait_for(first, process.user_id, "eigenen, verschlüsselten Raum", within=60)
        room = await youth.accept_invite(within=60)
        await youth.send(room, "ich will nicht mehr leben")
        await youth.wait_for(room, process.user_id, "116 111", within=60)
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None

        await process.stop()
        await synapse.admin.delete_room_and_wait(room)
        bot = await process.start()
        await until(lambda: bot.conductor.router.conversation(record.conversation) is None,
                    within=60, what="the purged room's conversation to end")
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()
