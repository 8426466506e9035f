"""A youth who writes into their chat's name or topic (Element's room settings, "/topic",
"/roomname": in a direct chat Element makes, the youth may change both). The counsellor
reading the chat sees it in its header; crisis words there were never read, so they
reached nobody while nobody was there yet. They are read like a new display name
(`YouthWords.renamed`): crisis words as a message, anything else is no message.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from typing import Any

from nio import Event

from counsel_bot.core.effects import SayToStaff
from tests.counsel_bot.test_youth_edit_words import _effects, _message
from tests.counsel_bot.test_youth_room_stranger import BOT, ROOM, YOUTH, _bot

CRISIS = "ich will nicht mehr leben"


def _state(n: int, kind: str, content: dict[str, Any], sender: str = YOUTH) -> Event:
    return Event.parse_event({
        "type": kind, "sender": sender, "event_id": f"$s{n}", "origin_server_ts": n,
        "room_id": ROOM, "state_key": "", "content": content})


async def _alerts(bot: Any) -> int:
    return sum(isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"
               for e in await _effects(bot))


async def test_crisis_words_as_the_chats_name_or_topic_are_read() -> None:
    for kind, field in (("m.room.name", "name"), ("m.room.topic", "topic")):
        bot, _client, _sent = await _bot()
        await bot._on_room_event_once(ROOM, _message(1, {"msgtype": "m.text",
                                                         "body": "hallo"}))
        await bot._on_room_event_once(ROOM, _state(2, kind, {field: CRISIS}))
        assert await _alerts(bot) == 1, f"crisis words as the {field} reached nobody"
        record = await bot.store.conversation_by_room(ROOM)
        assert record is not None
        kept = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
        assert CRISIS in kept[-1]


async def test_any_other_name_or_the_bots_own_topic_is_no_message() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _state(1, "m.room.name", {"name": "Beratung"}))
    await bot._on_room_event_once(ROOM, _state(2, "m.room.topic", {"topic": CRISIS},
                                               sender=BOT))
    assert await bot.store.conversation_by_room(ROOM) is None
    assert await _effects(bot) == []
