"""Words held for a move refused for good in a batch synced from no saved position.

A bot with no sync position (its very first run on an existing account, or after the
homeserver refused the saved one and it synced from now: `test_sync_from_now`) gets each
room's latest events in its first batch. Words a youth wrote in a room whose move is
refused for good (403) are held, and the position from before them is kept for the room
(``held_since:``) so that a restart finds them again (`test_held_words_restart`). From no
position there was none to keep, nothing was written, the sync position went past them,
and a restart lost them: the move made after it opened the conversation without the
youth's first words, crisis words included. The room's own position before the batch's
events (its timeline's ``prev_batch``) finds them as well.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers and the room's
history made by nio's own parser."""

from __future__ import annotations

from typing import Any

from nio import RoomMessagesResponse

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import JOINED_AFTER_WORDS, NOTHING_NEW
from tests.counsel_bot.test_held_words_restart import ForbiddenUntilAllowedClient
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    ROOM,
    _bot,
    waits_in_the_first_room,
)
from tests.store.conftest import AeadSealer


class RoomHistoryClient(ForbiddenUntilAllowedClient):
    """The room's history from the position before the batch's timeline (``p1``)."""

    async def room_messages(self, room_id: str, start: str | None = None,
                            end: str | None = None, direction: Any = None,
                            limit: int = 10) -> Any:
        if room_id == ROOM and start == "p1":
            timeline = JOINED_AFTER_WORDS.rooms.join[ROOM].timeline.events
            return RoomMessagesResponse(room_id, list(timeline), "p1", "s2")
        return RoomMessagesResponse(room_id, [], start or "", None)


async def test_words_held_in_a_batch_synced_from_no_position_are_read_after_a_restart() -> None:
    store, client, sent = MemoryStore(AeadSealer()), RoomHistoryClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    bot._batch_since = None  # as the loop sets it for a batch synced from no position
    await bot.handle_sync(JOINED_AFTER_WORDS)  # 403: the words held
    await bot._save_sync_token("s2")  # the loop saves the batch's position; then a restart
    assert await store.get_setting(SYNC_TOKEN_KEY) == "s2"

    client.forbidden = False  # the admin lets the bot create rooms, and restarts it
    again = await _bot(store, client, sent)
    again._batch_since = await store.get_setting(SYNC_TOKEN_KEY)
    await again.handle_sync(NOTHING_NEW)
    assert await waits_in_the_first_room(again, client)

    record = await store.conversation_by_room(RoomID("!new1:x"))
    assert record is not None, "the youth's first words were lost with the process"
    assert [i.event_id for i in await store.read_intake(record.conversation)] == ["$first"]
