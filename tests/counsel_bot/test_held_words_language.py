"""The numbers for crisis words held while the room a youth is to be moved to is refused
(`YouthMoves.held`) come in the language of those words.

No conversation knows the youth's language yet, so the reply was always in the
installation's: a youth who wrote "i want to kill myself" read, in German, that the team
knows and where help is. No server: the fakes of `test_welcome_after_stop`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counsel_bot.core.ids import RoomID
from counsel_bot.core.messages import text
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_held_words_crisis import _joined_after
from tests.counsel_bot.test_move_refused_for_good import _said
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    JOINED,
    ROOM,
    FakeClient,
    ForbiddingClient,
    RefusingClient,
    _bot,
    _sync,
    refuse_first_send,
)
from tests.store.conftest import AeadSealer


@pytest.mark.parametrize("client_type", [RefusingClient, ForbiddingClient],
                         ids=["429", "403"])
@pytest.mark.parametrize("words", ["i want to kill myself",
                                   "english please, ich will mich umbringen"])
async def test_crisis_words_held_for_a_refused_move_are_answered_in_their_language(
        client_type: type[FakeClient], words: str) -> None:
    store, client, sent = MemoryStore(AeadSealer()), client_type(), []
    bot = await _bot(store, client, sent)
    said: list[str] = []
    send = bot.executor.send

    async def keeping(room_id: str, body: str, key: str) -> None:
        if room_id == ROOM and key.startswith("crisis-unmoved"):
            said.append(body)
        await send(room_id, body, key)

    bot.executor.send = keeping  # type: ignore[method-assign]
    await bot.handle_sync(INVITED)
    await bot.handle_sync(_joined_after(words))  # refused: held
    assert await bot.moves.target(RoomID(ROOM)) is None  # still refused
    emergency = bot.conductor.policy.emergency["en"]
    assert said == [text("crisis_unmoved", "en", emergency=emergency)], said


async def test_a_refused_english_crisis_reply_is_sent_again_in_english() -> None:
    """The reply the homeserver refused is owed and sent at the next try for the room
    (`test_move_crisis_reply_failed`): in the language of the words, as the first try."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    refused = refuse_first_send(bot, "crisis-unmoved")
    said: list[str] = []
    send = bot.executor.send

    async def keeping(room_id: str, body: str, key: str) -> None:
        await send(room_id, body, key)  # refused the first time: raises
        if room_id == ROOM and key.startswith("crisis-unmoved"):
            said.append(body)

    bot.executor.send = keeping  # type: ignore[method-assign]
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: told so
    await bot.handle_sync(_said("s3", "$crisis", "i want to kill myself"))
    assert refused
    for n in range(4, 7):  # the bot asks again once a minute
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    emergency = bot.conductor.policy.emergency["en"]
    assert said == [text("crisis_unmoved", "en", emergency=emergency)], said
