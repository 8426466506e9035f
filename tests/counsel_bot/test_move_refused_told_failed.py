"""The youth's notice of a move refused for good, refused itself by the homeserver.

A refusal for good (403) calls the leads once (noted in the store with the call, so that
a restart calls nobody again) and tells the youth, with the numbers, that the new room does
not come. The youth's notice is sent after the call is noted; the homeserver refused it (a
429 on a busy evening, a 502 from its proxy): the bot logged it and went on. The youth was
never told, at no later try and at no restart (the note said it was done), while the leads
read that the youth knows and has the numbers.

No server: the bot on the fakes of `test_welcome_after_stop`, the executor's send refusing
the first notice."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    JOINED,
    ROOM,
    ForbiddingClient,
    _bot,
    _sync,
    refuse_first_send,
)
from tests.store.conftest import AeadSealer


async def test_a_refused_notice_of_a_refusal_for_good_is_sent_at_a_later_try() -> None:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    refused = refuse_first_send(bot, "move-refused")
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: the leads called; the youth's notice refused
    assert refused
    for n in range(3, 6):  # the bot asks again once a minute
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    told = [key for room, key in sent if room == ROOM and key.startswith("move-refused")]
    assert told, "the youth was never told that the new room does not come, nor the numbers"
    again = await _bot(store, client, sent)  # and a restart tells them not twice
    await again.handle_sync(_sync("s6"))
    assert len([k for r, k in sent if r == ROOM and k.startswith("move-refused")]) == 1
