"""A youth who wrote, declined the new room, and whose next move is refused for good,
then writes "löschen" in the first room.

What they wrote before the decline counted in the new room's conversation (closed by the
decline, kept until retention; a counsellor may have read it). The bot answered as for a
youth nobody ever read ("nobody from the team has read it; leave this chat and I delete
it"): both false. Leaving deleted nothing (a conversation holds the words), and "ja
löschen" was held with the rest, in silence. The words must go as any closed
conversation's do ("löschen" after the close: `YouthSide._deletes_after_close`), the
answers reaching the youth where they are, in the first room.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

from nio import SyncResponse

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.effects import PurgeRoom, SayToYouth, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import text
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_appointments_flow import ROOM as CONVERSATION_ROOM
from tests.counsel_bot.test_appointments_flow import office
from tests.counsel_bot.test_first_room_without_encryption import FIRST, _RecordingClient
from tests.counsel_bot.test_move_declined_refused_left import NEW, ForbiddenFromNowClient
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    ForbiddingClient,
    _bot,
    _membership,
    _sync,
)
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer


def _said(next_batch: str, event_id: str, words: str, ts: int) -> SyncResponse:
    return _sync(next_batch, join={ROOM: {
        "timeline": {"events": [{"type": "m.room.message", "sender": YOUTH,
                                 "event_id": event_id, "origin_server_ts": ts,
                                 "content": {"msgtype": "m.text", "body": words}}],
                     "limited": False, "prev_batch": f"p{next_batch}"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def _declined_after_words(*, admin: bool) -> tuple[CounselBot, MemoryStore,
                                                         list[tuple[str, str]]]:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddenFromNowClient(), []
    bot = await _bot(store, client, sent)
    if admin:
        bot.executor.admin = FakeAdmin(rooms={ROOM, NEW})
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # moved: the new room made, the youth invited
    await bot.handle_sync(_said("s3", "$words", "mir geht es nicht gut, zuhause ist stress", 3))
    assert await store.conversation_by_room(RoomID(NEW)) is not None
    client.rooms[NEW].remove_member(YOUTH)
    await bot.handle_sync(_membership("s4", NEW, YOUTH, "leave", "invite"))  # declined
    await bot.handle_sync(_said("s5", "$again", "hallo?", 5))  # a new room: 403 now
    assert RoomID(ROOM) in bot.moving.refused_for_good
    return bot, store, sent


async def _said_to_youth(store: MemoryStore) -> list[str]:
    return [e.key for e in (decode_effect(o.payload) for o in await store.pending_outbox())
            if isinstance(e, SayToYouth)]


async def test_delete_after_a_declined_move_refused_for_good_deletes_what_was_written() -> None:
    bot, store, sent = await _declined_after_words(admin=True)
    await bot.handle_sync(_said("s6", "$delete", "löschen", 6))
    assert not [key for _room, key in sent if key.startswith("delete-unmoved:")], (
        "the youth was told nobody read their words and leaving deletes them: a "
        "conversation holds them, and leaving deletes nothing")
    assert "delete.confirm" in await _said_to_youth(store), (
        "the youth was not asked to confirm the deletion of what they wrote")
    assert await bot.executor.declined_in(RoomID(NEW)) == ROOM, (
        "the answers go to the declined room, where the youth is not")

    await bot.handle_sync(_said("s7", "$yes", "ja löschen", 7))
    effects = [decode_effect(o.payload) for o in await store.pending_outbox()]
    assert "delete.now" in await _said_to_youth(store)
    assert any(isinstance(e, PurgeRoom) for e in effects), (
        "the youth confirmed, and what they wrote stays on the homeserver")


async def test_delete_after_a_declined_move_without_admin_access_says_when_it_goes() -> None:
    bot, store, sent = await _declined_after_words(admin=False)
    await bot.handle_sync(_said("s6", "$delete", "löschen", 6))
    assert not [key for _room, key in sent if key.startswith("delete-unmoved")]
    assert "delete.confirm_later" in await _said_to_youth(store)


async def test_what_is_said_to_a_youth_who_declined_reaches_the_first_room_without_go_on() -> None:
    """The answers reach the first room; "please accept the invitation" would be false there:
    the youth declined it, and no new one comes."""

    c, _, clock = await office()
    client = _RecordingClient()

    async def no_staff_room() -> None:
        return None

    async def declined_in(room: object) -> object:
        return FIRST if room == CONVERSATION_ROOM else None

    executor = Executor(client, c.store, clock, default_language="de",  # type: ignore[arg-type]
                        staff_room=no_staff_room)
    executor.declined_in = declined_in  # type: ignore[assignment]
    record = await c.store.conversation_by_room(CONVERSATION_ROOM)
    assert record is not None
    await executor.perform(SayToYouth(record.conversation, "delete.confirm"), "k")
    in_first = [content["body"] for room, content in client.sent if room == FIRST]
    assert in_first == [text("delete.confirm", "de")]


async def test_delete_in_a_closed_chat_invited_back_into_and_refused_for_good() -> None:
    """The same in the room of a chat that is over, which the youth invited the bot back
    into: moved out of it (`CounselBot._welcome`), the move refused for good. Its closed
    conversation holds what they wrote; "nobody read it, leaving deletes it" was false."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    bot.executor.admin = FakeAdmin(rooms={ROOM})
    at = bot.clock.now()
    await bot.conductor.youth_wrote(RoomID(ROOM), UserID(YOUTH), None, EventID("$old"),
                                    "mir geht es nicht gut", at)
    await bot.conductor.member_left(RoomID(ROOM), UserID(YOUTH), EventID("$gone"), at)
    record = await store.conversation_by_room(RoomID(ROOM))
    assert record is not None
    assert record.closed_at is not None
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # moved out of it: 403
    assert RoomID(ROOM) in bot.moving.refused_for_good
    await bot.handle_sync(_said("s3", "$delete", "löschen", 3))
    assert not [key for _room, key in sent if key.startswith("delete-unmoved:")], (
        "told nobody read their words and leaving deletes them")
    assert "delete.confirm" in await _said_to_youth(store)
