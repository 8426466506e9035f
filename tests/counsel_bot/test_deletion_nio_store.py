"""A youth's own deletion ("ja löschen") on real Synapse, then the bot's files: counsel's
database keeps no youth id in the clear (it seals them), and after the erasure nothing of
the youth is left there. nio's store beside it (bot/nio/) listed the youth's account beside
its device keys, the purged room, and the Megolm keys that decrypt what the youth wrote in
it, for good: a chosen user name is often a real one."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_deletion_e2e import conversation_with_admin, youth_deletes
from tests.support.bot_harness import counselling, office, until

pytestmark = pytest.mark.integration


def files_naming(directory: Path, needles: list[str]) -> list[str]:
    return [f"{path.name}: {needle}" for path in directory.rglob("*") if path.is_file()
            for needle in needles if needle.encode() in path.read_bytes()]


async def test_the_youths_deletion_leaves_nothing_of_them_in_the_nio_store(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with counselling(synapse, user_factory, tmp_path) as c:
        youth_user, process = c.youth_user, c.process
        room, record = await conversation_with_admin(synapse, c)
        await youth_deletes(c, room, record)
    nio_dir = process.layout.bot_dir / "nio"
    assert list(nio_dir.rglob("*.db"))
    assert files_naming(nio_dir, [youth_user.user_id, room]) == []


async def test_the_youths_deletion_leaves_nothing_of_the_room_they_were_moved_out_of(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth moved out of a room the bot could not moderate wrote their first words in
    that room, encrypted: it is purged with the new one, and its keys must go with it."""
    async with office(synapse, user_factory, tmp_path, admin=True) as o:
        youth, bot = o.youth, o.bot_user
        await o.counsellor.accept_invite(within=60)
        first = await youth.open_chat(bot, like_element=False)
        await youth.send(first, f"hallo {secrets.token_hex(4)}")
        await youth.wait_for(first, bot, "mitgenommen", within=60)
        room = await youth.accept_invite(within=60)
        record = await o.bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        nio_dir = o.process.layout.bot_dir / "nio"
        assert files_naming(nio_dir, [first])  # the bot decrypted the first words there

        await youth.delete_chat(room, bot)

        async def erased() -> bool:
            return await o.bot.store.conversation(record.conversation) is None
        await until(erased, within=90, what="the erasure")
        assert not await synapse.admin.room_exists(first)
    assert files_naming(nio_dir, [room]) == []
    assert files_naming(nio_dir, [first]) == [], "the first room's keys stayed"
