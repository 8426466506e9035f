"""A counsellor who deletes their answer to a youth counselled by mail (Element's "Remove",
a reply to the wrong youth, a name that should not be in it): the answer went out as mail
the moment it was written, and a mail cannot be taken back. The bot said nothing, so the
counsellor believed it undone while the youth read it. They are told now, to send a
correction if need be (an edit goes out as one). The bot's event handling on the support
office (real conductor, mail channel and store; no homeserver)."""

from __future__ import annotations

from nio import RedactionEvent, RoomMessageText

from counsel_bot.core.effects import SayToStaff, decode_effect
from tests.counsel_bot.test_mail_reply_not_text import bot_with_mail
from tests.support.mail_office import ANNA


def _text(event_id: str, body: str) -> RoomMessageText:
    event = RoomMessageText.parse_event({
        "type": "m.room.message", "event_id": event_id, "sender": str(ANNA),
        "origin_server_ts": 0, "content": {"msgtype": "m.text", "body": body}})
    assert isinstance(event, RoomMessageText)
    return event


def _deletion(event_id: str, of: str) -> RedactionEvent:
    event = RedactionEvent.parse_event({
        "type": "m.room.redaction", "event_id": event_id, "sender": str(ANNA),
        "origin_server_ts": 0, "redacts": of, "content": {}})
    assert isinstance(event, RedactionEvent)
    return event


async def _told(office: object) -> list[SayToStaff]:
    store = office.conductor.store  # type: ignore[attr-defined]
    return [e for e in map(decode_effect, (entry.payload for entry in
                                           await store.pending_outbox()))
            if isinstance(e, SayToStaff) and e.key == "staff_mail_not_recalled"]


async def test_a_mailed_answer_deleted_in_the_room_is_told_to_have_gone_out() -> None:
    office, bot, room = await bot_with_mail()
    before = len(await office.pending_mails())
    await bot._on_room_event_once(room, _text("$answer", "Hallo Kim, ich bin Anna Schulz"))
    assert len(await office.pending_mails()) == before + 1
    await bot._on_room_event_once(room, _deletion("$del", "$answer"))
    told = await _told(office)
    assert [t.mentions for t in told] == [(ANNA,)], "the counsellor believes it undone"


async def test_a_deleted_command_was_no_mail_and_is_not_told() -> None:
    office, bot, room = await bot_with_mail()
    await bot._on_room_event_once(room, _text("$note", "!notiz ruft morgen an"))
    await bot._on_room_event_once(room, _deletion("$del", "$note"))
    assert await _told(office) == []
