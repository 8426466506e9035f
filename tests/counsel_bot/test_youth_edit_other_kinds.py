"""An edit of a /me, a notice or a picture's caption in a youth's own chat is read as the
youth's app shows it, as an edit of a text is (test_youth_edit_words.py): its
`m.new_content`, not its `body`, a fallback that may say anything ("* (bearbeitet)"). Those
kinds took the fallback: a /me edited into crisis words passed the crisis check unread,
while the counsellor's app showed the new words; and the words edited away stayed in a later
counsellor's transcript.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from typing import Any

from counsel_bot.core.effects import SayToStaff
from tests.counsel_bot.test_youth_edit_words import _effects, _message
from tests.counsel_bot.test_youth_room_stranger import ROOM, _bot

CRISIS = "ich will nicht mehr leben"


def _edit_of(n: int, of: str, msgtype: str, new: str, **extra: Any) -> Any:
    return _message(n, {"msgtype": msgtype, "body": "* (bearbeitet)", **extra,
                        "m.new_content": {"msgtype": msgtype, "body": new, **extra},
                        "m.relates_to": {"rel_type": "m.replace", "event_id": of}})


async def test_a_me_or_a_caption_edited_into_crisis_words_is_checked_and_replaces_the_old(
) -> None:
    for msgtype, extra in (("m.emote", {}), ("m.notice", {}),
                           ("m.image", {"url": "mxc://x/pic", "info": {}})):
        bot, _client, _sent = await _bot()
        await bot._on_room_event_once(ROOM, _message(1, {"msgtype": "m.text", "body": "hallo"}))
        await bot._on_room_event_once(ROOM, _message(2, {"msgtype": msgtype, "body": "winkt",
                                                         **extra}))
        await bot._on_room_event_once(ROOM, _edit_of(3, "$e2", msgtype, CRISIS, **extra))
        alerts = [e for e in await _effects(bot)
                  if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
        assert len(alerts) == 1, f"an edited {msgtype} passed the crisis check unread"
        record = await bot.store.conversation_by_room(ROOM)
        assert record is not None
        kept = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
        assert not any("winkt" in k for k in kept), (msgtype, kept)
        assert CRISIS in kept[-1]
