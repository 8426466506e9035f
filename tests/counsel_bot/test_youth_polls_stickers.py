"""A poll or a sticker from a youth (the youth-side review): nio knows neither as a message
(a poll is an event type of its own, a sticker `m.sticker`), and the bot dropped both
without a trace. A poll's question is words like any message: "Soll ich mich umbringen?"
with "ja" and "nein" to pick went unchecked, unkept for a counsellor joining later, and as a
youth's first message opened no conversation at all. A sticker is kept as a note, like a
picture, and the youth told once what the bot cannot pass on.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from typing import Any

from nio import Event

from counsel_bot.core.effects import SayToStaff, SayToYouth, decode_effect
from tests.counsel_bot.test_youth_room_stranger import ROOM, YOUTH, _bot

UNSTABLE_POLL = {
    "org.matrix.msc3381.poll.start": {
        "question": {"org.matrix.msc1767.text": "Soll ich mich umbringen?"},
        "kind": "org.matrix.msc3381.poll.undisclosed", "max_selections": 1,
        "answers": [{"id": "a", "org.matrix.msc1767.text": "ja"},
                    {"id": "b", "org.matrix.msc1767.text": "nein"}]},
    "org.matrix.msc1767.text": "Soll ich mich umbringen?\n1. ja\n2. nein",
}
STABLE_POLL = {
    "m.poll": {"question": {"m.text": [{"body": "Soll ich mich umbringen?"}]},
               "kind": "m.undisclosed", "max_selections": 1,
               "answers": [{"m.id": "a", "m.text": [{"body": "ja"}]},
                           {"m.id": "b", "m.text": [{"body": "nein"}]}]},
    "m.text": [{"body": "Soll ich mich umbringen?\n1. ja\n2. nein"}],
}


def _event(n: int, kind: str, content: dict[str, Any]) -> Event:
    return Event.parse_decrypted_event({
        "type": kind, "sender": YOUTH, "event_id": f"$e{n}", "origin_server_ts": n,
        "room_id": ROOM, "content": content})


async def _outbox(bot: Any) -> list[Any]:
    return [decode_effect(o.payload) for o in await bot.store.pending_outbox()]


async def test_a_poll_with_crisis_words_as_first_message_is_read_and_alerts() -> None:
    for kind, content in (("org.matrix.msc3381.poll.start", UNSTABLE_POLL),
                          ("m.poll.start", STABLE_POLL)):
        bot, _client, _sent = await _bot()
        await bot._on_room_event_once(ROOM, _event(1, kind, content))
        record = await bot.store.conversation_by_room(ROOM)
        assert record is not None, f"a {kind} opened no conversation"
        alerts = [e for e in await _outbox(bot)
                  if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
        assert len(alerts) == 1, kind
        [kept] = await bot.store.read_intake(record.conversation)
        assert "Soll ich mich umbringen?" in kept.body.decode()


async def test_a_sticker_is_kept_as_a_note_and_the_youth_told() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _event(1, "m.room.message", {
        "msgtype": "m.text", "body": "hallo"}))
    await bot._on_room_event_once(ROOM, _event(2, "m.sticker", {
        "body": "weinende Katze", "url": "mxc://x/cat", "info": {}}))
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    notes = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
    assert notes[1:] == ["[Sticker: weinende Katze]"]
    assert any(isinstance(e, SayToYouth) and e.key == "attachment_note"
               for e in await _outbox(bot))


async def test_a_live_location_shared_is_kept_as_a_note_and_the_youth_told() -> None:
    """Element's "Share location" > "live location" (a `beacon_info` state event, the
    positions after it encrypted): a youth in danger may share where they are instead of
    writing it. The bot dropped it without a trace: nothing for a counsellor joining later
    (whose app shows the position once they are in the chat), no word to the youth."""
    for n, kind in enumerate(("org.matrix.msc3672.beacon_info", "m.beacon_info"), start=1):
        bot, _client, _sent = await _bot()
        await bot._on_room_event_once(ROOM, _event(1, "m.room.message", {
            "msgtype": "m.text", "body": "hallo"}))
        await bot._on_room_event_once(ROOM, Event.parse_event({
            "type": kind, "sender": YOUTH, "event_id": f"$b{n}", "origin_server_ts": 2,
            "room_id": ROOM, "state_key": YOUTH,
            "content": {"description": "Standort von Sonnenblume", "live": True,
                        "timeout": 3600000}}))
        record = await bot.store.conversation_by_room(ROOM)
        assert record is not None
        notes = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
        assert notes[1:] == ["[Live-Standort: Standort von Sonnenblume]"], kind
        assert any(isinstance(e, SayToYouth) and e.key == "attachment_note"
                   for e in await _outbox(bot)), kind
