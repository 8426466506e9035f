"""An edit of a reply as Element Android sends it: the reply's fallback quote ("> <@anna:x>
what was answered", an empty line, then the own words) is in the edit's `m.new_content`
too, not only in the first message. The bot stripped the quote from a reply but not from
its edit: the edited reply was judged with the words it quoted, so a youth who answered
another youth's crisis words in a group and fixed a typo was flagged for them, and the
quote with its writer's Matrix ID was kept for a later counsellor's transcript (or went
out in a counsellor's corrected mail). An edit's own words are what follows the quote.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser
(test_youth_edit_words.py, test_group_edits.py)."""

from __future__ import annotations

from typing import Any

from nio import Event

from counsel_bot.channels.matrix.event_words import edited_words
from counsel_bot.core.effects import SayToStaff
from tests.counsel_bot.test_youth_edit_words import _message
from tests.counsel_bot.test_youth_room_stranger import ROOM, _bot
from tests.groups.test_group_desk import GROUP_ROOM
from tests.groups.test_group_edits import _group_bot
from tests.groups.test_group_edits import _message as _group_message

QUOTED = "ich will nicht mehr leben"


def _edited_reply(of: str, quoting: str, quoted: str, own: str) -> dict[str, Any]:
    """Element Android's edit of a reply (`createReplaceTextOfReply`)."""
    return {"msgtype": "m.text", "body": f"* {own}",
            "m.new_content": {"msgtype": "m.text", "body": f"> <{quoting}> {quoted}\n\n{own}",
                              "format": "org.matrix.custom.html",
                              "formatted_body": f"<mx-reply><blockquote>{quoted}</blockquote>"
                                                f"</mx-reply>{own}"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": of}}


def test_an_edited_replys_words_are_its_own_not_the_quote() -> None:
    event = Event.parse_decrypted_event({
        "type": "m.room.message", "sender": "@y1:x", "event_id": "$e2",
        "origin_server_ts": 2, "room_id": ROOM,
        "content": _edited_reply("$e1", "@y2:x", QUOTED, "du bist nicht allein")})
    assert edited_words(event) == "du bist nicht allein"  # type: ignore[arg-type]


async def test_a_group_member_who_edits_their_answer_to_a_crisis_is_not_flagged_for_it(
) -> None:
    bot, p = await _group_bot()
    await bot._on_room_event_once(GROUP_ROOM, _group_message(1, {
        "msgtype": "m.text", "body": f"> <@y2:x> {QUOTED}\n\ndu bist nich allein",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$y2"}}}))
    await bot._on_room_event_once(GROUP_ROOM, _group_message(2, _edited_reply(
        "$g1", "@y2:x", QUOTED, "du bist nicht allein")))
    alerts = [e for e in await p.new()
              if isinstance(e, SayToStaff) and e.key == "group.staff_crisis_alert"]
    assert alerts == [], "the youth who answered was flagged for the words they quoted"


async def test_an_edited_reply_keeps_neither_the_quote_nor_its_writers_matrix_id() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _message(1, {
        "msgtype": "m.text", "body": "> <@anna:x> Wie heißt deine Schule?\n\nGoethe-Gymnasim",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$anna"}}}))
    await bot._on_room_event_once(ROOM, _message(2, _edited_reply(
        "$e1", "@anna:x", "Wie heißt deine Schule?", "lieber nicht sagen")))
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    kept = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
    assert kept == ["* lieber nicht sagen"]
