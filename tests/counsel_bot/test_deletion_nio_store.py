"""A youth's own deletion ("ja löschen") on real Synapse, then the bot's files: counsel's
database keeps no youth id in the clear (it seals them), and after the erasure nothing of
the youth is left there. nio's store beside it (bot/nio/) listed the youth's account beside
its device keys, the purged room, and the Megolm keys that decrypt what the youth wrote in
it, for good: a chosen user name is often a real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_deletion_e2e import assigned_conversation
from tests.support.bot_harness import login_as, provision_bot, until

pytestmark = pytest.mark.integration


def files_naming(directory: Path, needles: list[str]) -> list[str]:
    return [f"{path.name}: {needle}" for path in directory.rglob("*") if path.is_file()
            for needle in needles if needle.encode() in path.read_bytes()]


async def test_the_youths_deletion_leaves_nothing_of_them_in_the_nio_store(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login_as(synapse, await user_factory("counsellor"), tmp_path)
    youth_user = await user_factory("youth")
    youth = await login_as(synapse, youth_user, tmp_path)
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    bot.executor.admin = synapse.admin
    try:
        room = await assigned_conversation(process, counsellor, youth)
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        await youth.send(room, "löschen")
        await youth.wait_for(room, process.user_id, "„ja löschen“")
        await youth.send(room, "ja löschen")

        async def erased() -> bool:
            return await bot.store.conversation(record.conversation) is None
        await until(erased, within=60, what="the deletion to complete")
    finally:
        await process.stop()
        await youth.close()
        await counsellor.close()
    nio_dir = process.layout.bot_dir / "nio"
    assert list(nio_dir.rglob("*.db"))
    assert files_naming(nio_dir, [youth_user.user_id, room]) == []
