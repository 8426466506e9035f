"""A youth's edit is read as its client shows it: the edit's `m.new_content`, not its `body`.
The body is only a fallback for clients without edits ("* " and the new words, by the
spec), and a client may send another fallback ("* edited", or the old words): a message
edited into crisis words then passed the crisis check unread, while the counsellor's app
showed the new words (a suspicion of the youth-side review). The words stay marked as an
edit ("* …"), so an edit into "löschen" is no command.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from typing import Any

from nio import Event

from counsel_bot.core.effects import SayToStaff, SayToYouth, decode_effect
from tests.counsel_bot.test_youth_room_stranger import ROOM, YOUTH, _bot


def _message(n: int, content: dict[str, Any]) -> Event:
    return Event.parse_decrypted_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": f"$e{n}",
        "origin_server_ts": n, "room_id": ROOM, "content": content})


def _edit(n: int, of: str, fallback: str, new: str) -> Event:
    return _message(n, {"msgtype": "m.text", "body": fallback,
                        "m.new_content": {"msgtype": "m.text", "body": new},
                        "m.relates_to": {"rel_type": "m.replace", "event_id": of}})


async def _effects(bot: Any) -> list[Any]:
    return [decode_effect(o.payload) for o in await bot.store.pending_outbox()]


async def test_an_edit_into_crisis_words_is_checked_whatever_its_fallback_says() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _message(1, {"msgtype": "m.text", "body": "hallo"}))
    await bot._on_room_event_once(ROOM, _edit(2, "$e1", "* (bearbeitet)",
                                              "ich will nicht mehr leben"))
    alerts = [e for e in await _effects(bot)
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert len(alerts) == 1
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    kept = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
    assert kept[-1] == "* ich will nicht mehr leben"


async def test_an_edit_into_a_command_is_no_command() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _message(1, {"msgtype": "m.text", "body": "hallo"}))
    await bot._on_room_event_once(ROOM, _edit(2, "$e1", "* löschen", "löschen"))
    assert not [e for e in await _effects(bot)
                if isinstance(e, SayToYouth) and e.key.startswith("delete")]
