"""A counsellor answers a youth counselled by mail with something that is not plain text:
a /me or a notice (words, which go out as mail like a text reply), or a file, a picture, a
voice message (which no mail carries: the counsellor is told, so they say it in words).
Before, all of these went nowhere and nobody knew: the youth waited for an answer the
counsellor believed sent. The bot's event handling on the support office (real
conductor, mail channel and store; no homeserver)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from nio import RoomMessage

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from tests.counsel_bot.test_mail_undeliverable import Office
from tests.support.mail_office import ANNA, AT, RecordingSender


def staff_message(event_id: str, content: dict[str, object]) -> RoomMessage:
    event = RoomMessage.parse_event({
        "type": "m.room.message", "event_id": event_id, "sender": str(ANNA),
        "origin_server_ts": 0, "content": content})
    assert isinstance(event, RoomMessage)
    return event


async def bot_with_mail() -> tuple[Office, CounselBot, RoomID]:
    office = await Office(RecordingSender()).open()
    conversation = await office.switched_youth("kim@youth.example")
    record = await office.conductor.store.conversation(conversation)
    assert record is not None
    async def perform(_effect: object, _key: str) -> None:
        return None

    executor = SimpleNamespace(perform=perform, admin=None, protected=frozenset())
    bot = CounselBot(SimpleNamespace(user_id="@counsel:x", rooms={}),  # type: ignore[arg-type]
                     office.conductor, executor, FakeClock(AT),  # type: ignore[arg-type]
                     default_language="de", undecryptable_grace=timedelta(seconds=5))
    bot.mail = office.mail
    return office, bot, record.room_id


async def test_a_me_or_a_notice_to_a_mail_youth_goes_out_as_mail() -> None:
    office, bot, room = await bot_with_mail()
    before = len(await office.pending_mails())
    await bot.staff_words.other(room, staff_message("$me", {
        "msgtype": "m.emote", "body": "schickt dir die Nummer: 116 111"}))
    await bot.staff_words.other(room, staff_message("$notice", {
        "msgtype": "m.notice", "body": "Bitte melde dich morgen wieder."}))
    mails = (await office.pending_mails())[before:]
    assert [("116 111" in m.text, "morgen" in m.text) for m in mails] == [
        (True, False), (False, True)]


async def test_a_file_to_a_mail_youth_is_told_to_the_counsellor() -> None:
    office, bot, room = await bot_with_mail()
    before = len(await office.pending_mails())
    await bot.staff_words.other(room, staff_message("$file", {
        "msgtype": "m.file", "body": "notfallplan.pdf", "url": "mxc://x/abc"}))
    assert len(await office.pending_mails()) == before
    told = [e for e in map(decode_effect, (entry.payload for entry in
                                           await office.conductor.store.pending_outbox()))
            if isinstance(e, SayToStaff) and e.key == "staff_reply_not_mailed"]
    assert [t.mentions for t in told] == [(ANNA,)]
