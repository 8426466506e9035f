"""A youth's invitation whose join the homeserver performed although its answer was a
failure: the proxy's 502 (or 504) came while Synapse, busy, went on and joined the room. The
bot, asking again in 15 s, saw the room among the joined ones at the next sync and only
forgot its retry: the room was never welcomed, so in a room without encryption it was never
left for one fit for counselling, and the youth's words there, crisis words too, were
dropped unread; in an encrypted room the bot could not moderate, the youth was counselled
where anyone they invited reads along.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser (the shape of test_invite_join_failed)."""

from __future__ import annotations

from typing import Any

from nio import JoinError

from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import JOINED_AFTER_WORDS
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    YOUTH,
    FakeClient,
    _bot,
    waits_in_the_first_room,
)
from tests.store.conftest import AeadSealer


class LateJoinClient(FakeClient):
    """The homeserver joins the room, but the answer the bot gets is the proxy's 502."""

    async def join(self, room_id: str) -> Any:
        await super().join(room_id)
        return JoinError.from_dict({})


async def test_a_join_done_despite_a_failed_answer_is_welcomed() -> None:
    store, client, sent = MemoryStore(AeadSealer()), LateJoinClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    # The next sync: the bot is in the room, with the youth's first message before its join.
    await bot.handle_sync(JOINED_AFTER_WORDS)
    assert [c["invite"] for c in client.created] == [[YOUTH]], (
        "the youth was neither greeted nor given a room fit for counselling")
    assert await waits_in_the_first_room(bot, client)
    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert alerts, "the youth's first message reached nobody"


async def test_a_join_done_despite_a_failed_answer_is_welcomed_after_a_restart() -> None:
    """The retry is kept in memory: a stop before the next sync (the first sync after the
    start has the room among the joined ones, and no invitation) must not forget it."""
    store, client, sent = MemoryStore(AeadSealer()), LateJoinClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)  # the join failed, as far as the bot knows; then SIGTERM
    again = await _bot(store, client, sent)
    await again.handle_sync(JOINED_AFTER_WORDS)
    assert [c["invite"] for c in client.created] == [[YOUTH]], (
        "the youth was neither greeted nor given a room fit for counselling")
    assert await waits_in_the_first_room(again, client)
