"""A move refused for good, then for a while, then for good again: the youth is told again.

A refusal for good (403) calls the leads and tells the youth, with the numbers, that the
new room does not come; an answer otherwise (429) ends it, so that a later 403 is news
(`YouthMoves._refusal_over`): the leads are called again, and the youth told again. The
youth's notice was keyed by the room alone (`move-refused:<room>`), and the executor
derives the transaction id of what it sends from the key (`executor._txn_id`): Synapse
answers a transaction id it has seen from the same device within the last half hour with
the earlier event and sends nothing. The leads read that the youth knows and has the
numbers; the youth, who may have read "I will invite you" in between, got nothing.

No server: the bot on the fakes of `test_welcome_after_stop`; what it sends is recorded
with its key, from which the transaction id is derived."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nio import RoomCreateError

from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    JOINED,
    ROOM,
    FakeClient,
    _bot,
    _sync,
)
from tests.store.conftest import AeadSealer


class ForbiddenBusyForbiddenClient(FakeClient):
    """403, then 429, then 403 again (an admin's change undone)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = ["M_FORBIDDEN", "M_LIMIT_EXCEEDED", "M_FORBIDDEN"]

    async def room_create(self, **kwargs: Any) -> Any:
        code = self.answers.pop(0) if self.answers else "M_FORBIDDEN"
        return RoomCreateError("refused", code)


async def test_a_second_refusal_for_good_is_told_to_the_youth_anew() -> None:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddenBusyForbiddenClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: told so
    for n in range(3, 6):  # a minute apart: 429, then 403 again
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    told = [key for room, key in sent if room == ROOM and key.startswith("move-refused")]
    assert len(told) == 2, told
    assert len(set(told)) == 2, (
        "the second notice has the first's transaction id: the homeserver swallows it")
