"""A youth deletes their conversation after the last backup was made; the data directory is
restored from it. Without the erasure journal the conversation is back in the bot's store,
its youth never knowing. With it, the restored bot deletes it again at its start and tells
the staff why it vanished. Real Synapse, real E2E clients, the bot's data directory backed
up and restored (the homeserver's is not: its purge stands)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.channels.erasure_journal import journaled, record
from counsel_bot.config import BackupSettings, Settings, settings_from_mapping
from counsel_bot.core.errors import BotError
from counsel_bot.core.ids import ConversationID, RoomID
from counsel_bot.runtime.runner import erasure_journal_of
from homeserver_bridge.errors import AdminApiError
from homeserver_bridge.paths import DataLayout
from tests.conftest import SynapseHandle, UserFactory
from tests.support.backups import backup_of, restore
from tests.support.bot_harness import Office, office, until


@asynccontextmanager
async def journaling_office(synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
                            ) -> AsyncIterator[tuple[Office, Path]]:
    """A bot with the bridge's admin access (purges, erasure), as `counsel up` gives it, and
    its erasure journal on the backups' disk, outside the data directory:
    the office, and the journal."""
    journal = tmp_path / "backup-disk" / "erased"
    journal.parent.mkdir()

    def journaling(settings: Settings) -> Settings:
        return replace(settings, backup=BackupSettings(erasure_journal=str(journal)))

    async with office(synapse, user_factory, tmp_path, admin=True,
                      configure=journaling) as started:
        yield started, journal


async def a_conversation(started: Office) -> tuple[str, ConversationID]:
    """The youth opens a chat and asks for help: its room and its conversation."""
    youth, bot_user = started.youth, started.bot_user
    room = await youth.open_chat(bot_user)
    await youth.wait_for(room, bot_user, "anonym")
    await youth.send(room, "hallo, ich brauch hilfe")

    async def opened() -> bool:
        return await started.bot.store.conversation_by_room(RoomID(room)) is not None
    await until(opened, what="the conversation")
    found = await started.bot.store.conversation_by_room(RoomID(room))
    assert found is not None
    return room, found.conversation


@pytest.mark.integration
async def test_a_deletion_after_the_backup_is_deleted_again_after_the_restore(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with journaling_office(synapse, user_factory, tmp_path) as (started, journal):
        process, youth = started.process, started.youth
        staff_room = await started.counsellor.accept_invite()
        room, conversation = await a_conversation(started)
        await process.stop()
        backup = backup_of(process, tmp_path)

        bot = await process.start()
        await youth.delete_chat(room, process.user_id)

        async def erased() -> bool:
            return await bot.store.conversation(conversation) is None
        await until(erased, within=60, what="the deletion")
        assert journaled(journal) == [conversation]
        await process.stop()

        restore(backup, process, tmp_path)
        bot = await process.start()
        await until(erased, within=60, what="the conversation to be deleted again")
        await started.counsellor.wait_for(staff_room, process.user_id, "wird wieder gelöscht",
                                          within=30)
        assert journaled(journal) == [conversation]  # written once


@pytest.mark.integration
async def test_a_restored_bot_without_its_journal_refuses_to_start(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Restored onto a new machine, the backups' disk not mounted yet (or at another
    place): the journal reads as "nobody deleted anything", and every conversation youths
    deleted since the backup would stay back, for good and without a word. The restored
    bot refuses to start until it can read the journal (its first start made it, so a
    missing one is a missing disk)."""
    async with journaling_office(synapse, user_factory, tmp_path) as (started, journal):
        process, disk = started.process, journal.parent
        await process.stop()
        assert journal.exists()  # made at the start, before any youth deleted anything
        restore(backup_of(process, tmp_path), process, tmp_path)
        disk.rename(tmp_path / "not-mounted")
        with pytest.raises(BotError, match="erasure journal"):
            await process.start()
        (tmp_path / "not-mounted").rename(disk)  # the admin mounts the disk
        await process.start()


@pytest.mark.integration
async def test_a_conversation_the_journal_names_but_open_again_is_kept_at_a_restart(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """"ja löschen": the journal is written, then the purge fails for a moment (the
    homeserver busy: 5xx, 429, a timeout) and is to be tried again. Meanwhile the youth
    writes crisis words, which open the conversation again, and the retried purge is
    refused ("opened again; not deleted"). The journal still names the conversation. No
    restore happens; any later restart of the bot (an update, a standby's takeover) must
    not purge the youth's room, deactivate their account and erase their conversation
    with its counsellor, in the middle of it."""
    async with journaling_office(synapse, user_factory, tmp_path) as (started, journal):
        process = started.process
        await started.counsellor.accept_invite()
        _room, conversation = await a_conversation(started)
        # What the deletion's first step wrote before its purge failed.
        record(journal, conversation, datetime.now())
        await process.stop()

        bot = await process.start()
        assert bot.conductor.router.conversation(conversation) is not None
        again = await bot.store.conversation(conversation)
        assert again is not None
        assert again.closed_at is None


class FailingPurge:
    """The bot's admin access, except that a purge fails as if the homeserver were busy
    (a 5xx, a 429, a timeout): tried again later."""

    def __init__(self, admin: Any) -> None:
        self.admin = admin
        self.tried = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.admin, name)

    async def delete_room_and_wait(self, room_id: str) -> object:
        self.tried += 1
        raise AdminApiError("the homeserver is busy", status=0)


@pytest.mark.integration
async def test_a_deletion_whose_purge_failed_and_was_taken_back_is_not_journaled(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """"ja löschen", the purge fails for a moment, and before it is tried again the youth
    writes crisis words: the conversation is open again, and the purge is refused. Nothing
    was deleted, but the journal named the conversation: a restore from any backup would
    then purge the room of a youth who took their deletion back in a crisis, deactivate
    their account and erase the conversation, telling the staff the youth had deleted it."""
    async with journaling_office(synapse, user_factory, tmp_path) as (started, journal):
        bot, youth = started.bot, started.youth
        failing = FailingPurge(bot.executor.admin)
        bot.executor.admin = failing
        await started.counsellor.accept_invite()
        room, conversation = await a_conversation(started)
        await youth.delete_chat(room, started.bot_user)
        await until(lambda: failing.tried > 0, what="the purge to be tried")
        await youth.send(room, "ich will mich umbringen")
        await until(lambda: bot.conductor.router.conversation(conversation) is not None,
                    what="the conversation to open again")
        assert journaled(journal) == []


def test_the_journal_keeps_each_conversation_once_and_skips_foreign_lines(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "erased"
    assert journaled(journal) == []
    at = datetime(2026, 12, 7, 3, 0)
    for name in ("C-0000000A", "C-0000000B", "C-0000000A"):
        record(journal, ConversationID(name), at)
    with journal.open("a") as handle:
        handle.write("someone's note\n")
    assert journaled(journal) == ["C-0000000A", "C-0000000B"]
    assert journal.stat().st_mode & 0o077 == 0


def test_a_journal_in_the_data_directory_or_relative_is_refused(tmp_path: Path) -> None:
    layout = DataLayout(tmp_path / "data")
    inside = settings_from_mapping(
        {"backup": {"erasure_journal": str(tmp_path / "data" / "erased")}})
    with pytest.raises(BotError, match="inside the data directory"):
        erasure_journal_of(inside, layout)
    with pytest.raises(ValueError, match="absolute path"):
        BackupSettings(erasure_journal="erased")
