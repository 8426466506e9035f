"""Retention runs beside the bot's sync loop. It reads that a conversation is still closed
(`_still_closed`), then purges its room, which takes seconds, then erases its records. A
youth who writes crisis words into the closed room in that window opens the conversation
again (`YouthSide._reopens`): queued first, staff alerted. The erasure then took the records
and the intake of a conversation the router holds open, and every later commit of the bot
was refused (its snapshot names a conversation the store no longer has): the bot stopped,
and stopped again at each start. The youth's step is driven inside the fake purge, as the
sync loop would run it meanwhile; memory store, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.retention import RetentionReport, run_retention
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import ConversationRecord, MemoryStore
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer

OPENED = datetime(2026, 10, 1, 14, 0, tzinfo=UTC)
KEEP = timedelta(days=30)
NOW = OPENED + KEEP + timedelta(days=1)
ROOM = RoomID("!youth:x")
YOUTH = UserID("@sunflower:x")


class PurgeWhileTheYouthWrites(FakeAdmin):
    """The youth's crisis words arrive (and are handled) while the room is purged."""

    conductor: Conductor | None = None

    async def delete_room_and_wait(self, room_id: str) -> object:
        if self.conductor is not None:
            await self.conductor.youth_wrote(ROOM, YOUTH, None, EventID("$late"),
                                             "ich will mich umbringen", NOW)
        return await super().delete_room_and_wait(room_id)


async def _retention(store: MemoryStore, admin: FakeAdmin,
                     conductor: Conductor) -> RetentionReport:
    """As the runner's retention loop runs it in the bot (`runtime/runner.py`)."""

    async def before_erase(record: ConversationRecord) -> None:
        await conductor.forget_traces(record, NOW)

    return await run_retention(store, admin, NOW, KEEP, dry_run=False,
                               before_erase=before_erase, serial=conductor.steps.held)


async def test_a_conversation_opened_again_during_its_purge_is_not_erased() -> None:
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), OPENED)
    await conductor.youth_wrote(ROOM, YOUTH, None, EventID("$hi"), "hallo", OPENED)
    await conductor.youth_wrote(ROOM, YOUTH, None, EventID("$end"), "ende", OPENED)
    record = await store.conversation_by_room(ROOM)
    assert record is not None
    assert record.closed_at is not None
    admin = PurgeWhileTheYouthWrites(rooms={ROOM})
    admin.conductor = conductor

    report = await _retention(store, admin, conductor)

    assert conductor.router.conversation(record.conversation) is not None  # opened again
    assert record.conversation not in report.deleted
    assert await store.conversation(record.conversation) is not None, (
        "the records of a conversation opened again by crisis words were erased")
    await conductor.tick(NOW + timedelta(seconds=5))  # the bot's next commit goes through
