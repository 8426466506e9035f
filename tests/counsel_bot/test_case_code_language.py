"""A mail youth who takes the case code (`!chat`) into a chat is told it worked in the
language of their conversation.

The note in the room the code was typed in ("I have invited you to your counselling room")
was always in the installation's language: an English mail youth, mailed the invitation in
English, read it in German, and it is all that room ever says. The executor on nio's client
with its requests answered here; a memory store whose conversation is English (opened by
English words: a mail conversation keeps its language in the same record)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nio import AsyncClient, MatrixRoom, RoomSendResponse

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import InviteYouth
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import text
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

AT = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
ROOM, LOBBY, YOUTH = RoomID("!room:x"), RoomID("!lobby:x"), UserID("@sunflower:x")


async def test_the_case_code_note_is_in_the_conversations_language() -> None:
    store = MemoryStore(AeadSealer())
    c = await Conductor.open(store, CrisisDetector.from_directory(default_lexicon_dir()),
                             policy_from(Settings()), AT)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), "hello, can someone help me?", AT)
    record = await store.conversation_by_room(ROOM)
    assert record is not None
    assert record.language == "en"

    client = AsyncClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")
    client.rooms[LOBBY] = MatrixRoom(LOBBY, client.user_id)
    sent: list[tuple[str, str]] = []

    async def room_send(room_id: str, message_type: str, content: dict[str, Any],
                        **kwargs: Any) -> object:
        sent.append((room_id, content["body"]))
        return RoomSendResponse("$sent", room_id)

    async def room_invite(room_id: str, user_id: str) -> object:
        return object()

    async def room_leave(room_id: str) -> object:
        return object()

    client.room_send = room_send  # type: ignore[method-assign]
    client.room_invite = room_invite  # type: ignore[method-assign]
    client.room_leave = room_leave  # type: ignore[method-assign]
    async def staff_room() -> RoomID | None:
        return None

    executor = Executor(client, store, FakeClock(AT), default_language="de",
                        staff_room=staff_room)
    try:
        await executor.perform(InviteYouth(record.conversation, YOUTH, LOBBY), "invite:1")
    finally:
        await client.close()
    assert sent == [(LOBBY, text("case_code_ok", "en"))]
