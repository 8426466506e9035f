"""The numbers for crisis words held for a refused move, refused by the homeserver.

Crisis words a youth writes in a room whose move is refused page the leads (an outbox
effect: tried again until it goes through) and get the youth the numbers where they write.
That reply was sent once: refused by the homeserver (a 429 on a busy evening, a 502 from its
proxy), it was logged and dropped, while the leads read that the youth "has got the
numbers". The bot asks for the new room again once a minute; the reply goes with that.

No server: the bot on the fakes of `test_welcome_after_stop`, the executor's send refusing
the first reply."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_move_refused_for_good import _said
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


async def test_a_refused_crisis_reply_is_sent_at_the_next_try() -> None:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    refused = refuse_first_send(bot, "crisis-unmoved")
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: told so
    await bot.handle_sync(_said("s3", "$crisis", "ich will mich umbringen"))
    assert refused
    for n in range(4, 7):  # the bot asks again once a minute
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    told = [key for room, key in sent if room == ROOM and key.startswith("crisis-unmoved")]
    assert len(told) == 1, (
        f"the youth who wrote crisis words never got the numbers ({told})")
