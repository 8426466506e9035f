"""A saved sync position the homeserver refuses (its database restored from a backup, the
token damaged): the bot asked again every second for good and read no youth at all (found
in a review, 2026-12-06). After a few refusals it syncs from now. Real Synapse, real E2E."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from counsel_bot.core.ids import RoomID
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import PASSPHRASE, office, until

pytestmark = pytest.mark.integration


async def test_a_refused_sync_position_is_given_up_and_youths_are_read_again(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        room = await o.youth.open_chat(o.bot_user)
        await o.youth.send(room, "hallo, ich brauche jemanden zum reden")
        await until(lambda: o.bot.store.conversation_by_room(RoomID(room)), within=60,
                    what="the conversation")
        await o.process.stop()

        bot_dir = o.process.layout.bot_dir
        store = await SqliteStore.open(bot_dir / "counsel.db",
                                       Vault.open(bot_dir / "vault.json", PASSPHRASE))
        try:
            await store.set_setting(SYNC_TOKEN_KEY, "s72594_4483_1934_garbage")
        finally:
            await store.close()

        bot = await o.process.start()  # ready: it synced
        await o.youth.send(room, "bist du noch da?")

        async def both_kept() -> bool:
            record = await bot.store.conversation_by_room(RoomID(room))
            return record is not None and len(await bot.store.read_intake(
                record.conversation)) == 2
        await until(both_kept, within=60, what="the youth's next message to be read")
