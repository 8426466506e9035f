"""Words held for a move refused for good (403), and a restart before the move is made.

The bot holds a youth's words in a room without encryption until its own encrypted room
exists (`HeldEvents`, in memory). For a refusal that may pass (429) the saved sync
position waits for them; for one refused for good (the bot's account may not create rooms)
it goes on (ee44c2b: else it stayed there for ever, for every room). So a restart meanwhile
(a deploy, a failover, the admin restarting the service after allowing the bot to create
rooms) lost them: the move was then made, the conversation opened without them, and the
counsellor never learnt what the youth wrote first, crisis words included (no flag, nothing
in the transcript).

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers and the room's
history made by nio's own parser."""

from __future__ import annotations

from typing import Any

from nio import RoomCreateError, RoomMessagesResponse

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import JOINED_AFTER_WORDS, NOTHING_NEW
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    ROOM,
    FakeClient,
    _bot,
    waits_in_the_first_room,
)
from tests.store.conftest import AeadSealer


class ForbiddenUntilAllowedClient(FakeClient):
    """The bot's account may not create rooms until an admin allows it; the first room's
    history is what the homeserver keeps of it (the batch that brought the words)."""

    def __init__(self) -> None:
        super().__init__()
        self.forbidden = True

    async def room_create(self, **kwargs: Any) -> Any:
        if self.forbidden:
            return RoomCreateError("You are not allowed to create rooms", "M_FORBIDDEN")
        return await super().room_create(**kwargs)

    async def room_messages(self, room_id: str, start: str | None = None,
                            end: str | None = None, direction: Any = None,
                            limit: int = 10) -> Any:
        timeline = JOINED_AFTER_WORDS.rooms.join[ROOM].timeline.events
        if room_id != ROOM or start != "s1":
            return RoomMessagesResponse(room_id, [], start or "", None)
        # From the position before the batch, onwards: its events, oldest first.
        return RoomMessagesResponse(room_id, list(timeline), "s1", "s2")


async def test_words_held_for_a_move_refused_for_good_are_read_after_a_restart() -> None:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddenUntilAllowedClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot._save_sync_token("s1")
    bot._batch_since = "s1"  # as the loop sets it before each batch
    await bot.handle_sync(JOINED_AFTER_WORDS)  # 403: the words held
    await bot._save_sync_token("s2")  # the loop saves the batch's position; then a restart
    assert await store.get_setting(SYNC_TOKEN_KEY) == "s2"  # as ee44c2b wants it

    client.forbidden = False  # the admin lets the bot create rooms, and restarts it
    again = await _bot(store, client, sent)
    again._batch_since = await store.get_setting(SYNC_TOKEN_KEY)
    await again.handle_sync(NOTHING_NEW)
    assert await waits_in_the_first_room(again, client)

    record = await store.conversation_by_room(RoomID("!new1:x"))
    assert record is not None, "the youth's first words were lost with the process"
    assert [i.event_id for i in await store.read_intake(record.conversation)] == ["$first"]
    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert alerts, "the conversation opened without the flag its first words raise"
