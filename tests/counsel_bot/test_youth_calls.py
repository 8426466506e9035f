"""A youth who presses the call button in their chat with the counselling account (Element
and FluffyChat offer a voice or video call in every direct chat of two): the bot ignored
the call's `m.call.invite`. The youth's phone rang out unanswered, nobody told them that
calls are not taken, and a youth who called before writing opened no conversation at all:
no counsellor came. A call is now a youth reaching out like a message: kept as a note for
a counsellor joining later, and the youth is told in words to write instead.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from typing import Any

from nio import Event

from counsel_bot.core.effects import SayToYouth, decode_effect
from counsel_bot.core.messages import text
from tests.counsel_bot.test_youth_room_stranger import ANNA, ROOM, YOUTH, _bot


def _call(n: int, sender: str = YOUTH) -> Event:
    """A call as Element sends it into a direct chat of two (VoIP v1)."""
    return Event.parse_decrypted_event({
        "type": "m.call.invite", "sender": sender, "event_id": f"$e{n}",
        "origin_server_ts": n, "room_id": ROOM,
        "content": {"call_id": f"call{n}", "party_id": "PHONE", "version": "1",
                    "lifetime": 60000, "offer": {"type": "offer", "sdp": "v=0"}}})


def _text(n: int, body: str) -> Event:
    return Event.parse_decrypted_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": f"$e{n}",
        "origin_server_ts": n, "room_id": ROOM,
        "content": {"msgtype": "m.text", "body": body}})


async def _told(bot: Any) -> list[str]:
    return [e.key for e in (decode_effect(o.payload) for o in await bot.store.pending_outbox())
            if isinstance(e, SayToYouth)]


async def test_a_call_before_any_words_opens_the_conversation_and_the_youth_is_told() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _call(1))
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None, "a youth who called first opened no conversation"
    assert "call_not_taken" in await _told(bot)
    assert [i.body.decode() for i in await bot.store.read_intake(record.conversation)] \
        == ["[Anruf]"]


async def test_a_call_in_an_open_conversation_is_a_note_and_answered_once_per_call() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, "hallo"))
    await bot._on_room_event_once(ROOM, _call(2))
    await bot._on_room_event_once(ROOM, _call(2))  # the same call read again
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    assert [i.body.decode() for i in await bot.store.read_intake(record.conversation)] \
        == ["hallo", "[Anruf]"]
    told = await _told(bot)
    assert told.count("call_not_taken") == 1
    assert "attachment_note" not in told


async def test_a_call_by_anyone_but_the_youth_is_no_youths_call() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, "hallo"))
    await bot._on_room_event_once(ROOM, _call(2, sender=ANNA))
    assert "call_not_taken" not in await _told(bot)


def test_the_youth_is_told_in_both_languages_to_write_instead() -> None:
    for language in ("de", "en"):
        said = text("call_not_taken", language)
        assert said
        assert "{" not in said
