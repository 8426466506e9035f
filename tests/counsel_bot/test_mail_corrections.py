"""A counsellor who edits a reply in a mail conversation's room: the youth gets the new
words as a correction, not a second mail reading "* the new words" (the fallback body an
edit carries for clients without edits; review of the mail channel, 2026-12-06)."""

from __future__ import annotations

from nio import RoomMessageText

from counsel_bot.channels.matrix.event_words import edited_words
from counsel_bot.core.effects import SendMail, decode_effect
from counsel_bot.core.ids import EventID
from tests.counsel_bot.test_mail_undeliverable import Office
from tests.support.mail_office import ANNA, AT, RecordingSender


def message(content: dict[str, object]) -> RoomMessageText:
    event = RoomMessageText.from_dict({
        "type": "m.room.message", "event_id": "$e", "sender": "@anna:x",
        "origin_server_ts": 0, "content": content})
    assert isinstance(event, RoomMessageText)
    return event


def test_an_edit_gives_its_new_words_and_a_message_none() -> None:
    edit = message({"msgtype": "m.text", "body": "* Bis Dienstag!",
                    "m.new_content": {"msgtype": "m.text", "body": "Bis Dienstag!"},
                    "m.relates_to": {"rel_type": "m.replace", "event_id": "$first"}})
    assert edited_words(edit) == "Bis Dienstag!"
    assert edited_words(message({"msgtype": "m.text", "body": "* Sternchen"})) is None
    broken = message({"msgtype": "m.text", "body": "* x",
                      "m.relates_to": {"rel_type": "m.replace"}, "m.new_content": "x"})
    assert edited_words(broken) is None


async def test_an_edited_reply_goes_out_as_a_correction() -> None:
    office = await Office(RecordingSender()).open()
    conversation = await office.switched_youth("kim@youth.example")
    record = await office.conductor.store.conversation(conversation)
    assert record is not None
    await office.mail.counsellor_wrote(record, ANNA, EventID("$edit"), "Bis Dienstag!", AT,
                                       correction=True)
    mails = [decode_effect(e.payload) for e in await office.conductor.store.pending_outbox()]
    [correction] = [m for m in mails if isinstance(m, SendMail) and "Dienstag" in m.text]
    assert correction.text.startswith("Korrektur meiner letzten Nachricht")
    assert correction.text.endswith("\n\nBis Dienstag!")
    assert "* " not in correction.text
