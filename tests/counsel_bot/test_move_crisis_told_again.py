"""A youth whose move is refused writes crisis words twice: they get the numbers twice.

Words held for a refused move (`YouthMoves.held`) that raise a flag page the leads and give
the youth the numbers where they write. The youth's reply was keyed by the room
(`crisis-unmoved:<room>`), and the executor derives the transaction id of what it sends from
the key (`executor._txn_id`): Synapse answers a transaction id it has seen from the same
device within the last half hour with the earlier event and sends nothing. The second
crisis in the same room paged the leads again, and told them the youth "has got the
numbers", while the youth got no reply at all.

No server: the bot on the fakes of `test_welcome_after_stop`; what it sends is recorded
with its key, from which the transaction id is derived."""

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
)
from tests.store.conftest import AeadSealer


async def test_a_second_crisis_while_the_move_is_refused_is_answered_with_the_numbers() -> None:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: told so
    await bot.handle_sync(_said("s3", "$first", "ich will mich umbringen"))
    bot.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    await bot.handle_sync(_said("s4", "$second", "ich will mich heute umbringen"))
    replies = [key for room, key in sent if room == ROOM and key.startswith("crisis-unmoved")]
    assert len(replies) == 2, replies
    assert len(set(replies)) == 2, (
        "the second crisis reply has the first's transaction id: the homeserver swallows it, "
        "and the youth does not get the numbers again")
