"""A poll edited before anyone voted (Element's "Edit poll"): the edit is a poll event whose
new question and answers are only in its `m.new_content`, beside the relation; it has no
poll of its own at the top. The bot read the top only, found nothing, and a poll edited into
"Soll ich mich umbringen?" passed the crisis check unread, in a youth's own chat and in a
group's room, while everyone's app showed the new question.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser
(test_youth_polls_stickers.py, test_group_edits.py)."""

from __future__ import annotations

from typing import Any

from nio import Event

from counsel_bot.core.effects import SayToStaff
from tests.counsel_bot.test_youth_polls_stickers import STABLE_POLL, UNSTABLE_POLL, _outbox
from tests.counsel_bot.test_youth_room_stranger import ROOM, YOUTH, _bot
from tests.groups.test_group_desk import GROUP_ROOM
from tests.groups.test_group_edits import YOUTH as GROUP_YOUTH
from tests.groups.test_group_edits import _group_bot

HARMLESS = {
    "org.matrix.msc3381.poll.start": {
        "question": {"org.matrix.msc1767.text": "Pizza oder Pasta?"},
        "kind": "org.matrix.msc3381.poll.undisclosed", "max_selections": 1,
        "answers": [{"id": "a", "org.matrix.msc1767.text": "Pizza"},
                    {"id": "b", "org.matrix.msc1767.text": "Pasta"}]},
    "org.matrix.msc1767.text": "Pizza oder Pasta?\n1. Pizza\n2. Pasta",
}


def _poll(room: str, sender: str, n: int, kind: str, content: dict[str, Any]) -> Event:
    return Event.parse_decrypted_event({
        "type": kind, "sender": sender, "event_id": f"$p{n}", "origin_server_ts": n,
        "room_id": room, "content": content})


def _edit(new: dict[str, Any]) -> dict[str, Any]:
    return {"m.new_content": new, "m.relates_to": {"rel_type": "m.replace", "event_id": "$p1"}}


async def test_a_poll_edited_into_crisis_words_in_a_youths_chat_is_checked() -> None:
    for kind, crisis in (("org.matrix.msc3381.poll.start", UNSTABLE_POLL),
                         ("m.poll.start", STABLE_POLL)):
        bot, _client, _sent = await _bot()
        await bot._on_room_event_once(ROOM, _poll(ROOM, YOUTH, 1, kind, HARMLESS))
        await bot._on_room_event_once(ROOM, _poll(ROOM, YOUTH, 2, kind, _edit(crisis)))
        alerts = [e for e in await _outbox(bot)
                  if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
        assert len(alerts) == 1, f"a {kind} edited into crisis words passed unread"


async def test_a_poll_edited_into_crisis_words_in_a_group_is_checked() -> None:
    bot, p = await _group_bot()
    kind = "org.matrix.msc3381.poll.start"
    await bot._on_room_event_once(GROUP_ROOM, _poll(GROUP_ROOM, GROUP_YOUTH, 1, kind, HARMLESS))
    await bot._on_room_event_once(GROUP_ROOM, _poll(GROUP_ROOM, GROUP_YOUTH, 2, kind,
                                                    _edit(UNSTABLE_POLL)))
    alerts = [e for e in await p.new()
              if isinstance(e, SayToStaff) and e.key == "group.staff_crisis_alert"]
    assert len(alerts) == 1, "a poll edited into crisis words in a group passed unread"
