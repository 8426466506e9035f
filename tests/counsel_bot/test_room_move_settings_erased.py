"""A youth moved out of a room the bot could not moderate deletes their chat ("ja
löschen"): the first room is purged with the new one, and the bot's settings must not go
on naming it. Before, ``move_told:``, ``welcome_due:`` and the like, keyed by the first
room, stayed for good: they end with no conversation's room, so no erasure found them.
Real Synapse, the real bot."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import office, until

pytestmark = pytest.mark.integration


async def test_ja_loeschen_leaves_no_setting_naming_the_first_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path, admin=True) as o:
        youth, bot = o.youth, o.bot_user
        await o.counsellor.accept_invite(within=60)
        first = await youth.open_chat(bot, like_element=False)
        await youth.send(first, f"hallo {secrets.token_hex(4)}")
        await youth.wait_for(first, bot, "mitgenommen", within=60)
        room = await youth.accept_invite(within=60)
        record = await o.bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        assert [k for k, _ in await o.bot.store.settings("") if first in k]  # it was named

        await youth.delete_chat(room, bot)

        async def erased() -> bool:
            return await o.bot.store.conversation(record.conversation) is None
        await until(erased, within=90, what="the erasure")
        assert not await synapse.admin.room_exists(first)
        naming = [(k, v) for k, v in await o.bot.store.settings("")
                  if first in k or first in v or room in k or room in v]
        assert naming == []
