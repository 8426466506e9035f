"""A youth's answer to a proposal after the counsellor closed the conversation (no server).

The product promises: the usual end of a chat is "I propose our next appointment" and the
close; the youth's yes or no that comes after it is still the answer to that proposal, by chat
or by mail. A yes confirms (the calendar file, the reminders), the bot stays in the room for
the appointment, and the counsellor is told it was confirmed after the close; a no points the
youth to a new chat, since nobody can propose again in a closed conversation.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from counsel_bot.conversation import feedback
from counsel_bot.core import appointments as ap
from counsel_bot.core.effects import Leave, SayToStaff, SendCalendar
from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.store import SqliteStore
from tests.counsel_bot.test_appointments_flow import (
    ANNA,
    NOW,
    ROOM,
    START,
    YOUTH,
    office,
    outbox,
    youth_keys,
)
from tests.counsel_bot.test_mail_thread_keys import answer, lena_writes
from tests.store.conftest import AeadSealer
from tests.support.mail_office import AT, Office, RecordingSender, office_on, perform_mails

PROPOSE = "!appointment 2026-12-10 16:00 45min video"


async def test_a_yes_after_the_counsellor_closed_the_chat_still_confirms() -> None:
    """Before, the "ja" was taken as a stray message after the end ("start a new chat"):
    the proposal stayed open for ever, no file, no reminders, and the bot left the room."""
    c, conversation, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), PROPOSE, NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW + timedelta(minutes=1))
    assert c.appointments.known["T-00000A"].status is ap.Status.CONFIRMED
    assert "appointments.confirmed" in await youth_keys(c)
    assert "closed_write_new" not in await youth_keys(c)
    assert any(isinstance(e, SendCalendar) for e in await outbox(c))
    [told] = [e for e in await outbox(c) if isinstance(e, SayToStaff)
              and e.key.startswith("appointments.confirmed_staff")]
    assert told.key == "appointments.confirmed_staff_closed"
    assert told.mentions == (ANNA,)
    # The bot stays for the appointment: no leave, and the reminder with the link comes.
    assert conversation not in c.youth.leaving
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    assert not [e for e in await outbox(c) if isinstance(e, Leave)]
    assert "video.link" in await youth_keys(c)


async def test_an_open_proposal_keeps_the_bot_in_the_room_for_the_answer() -> None:
    """The youth thanks first ("danke"), which after a close would have the bot leave ten
    minutes later: with a proposal to answer it stays, so the later "ja" reaches it."""
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), PROPOSE, NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "danke", NOW)
    assert conversation not in c.youth.leaving
    assert await c.store.sealed_settings(feedback.LEAVE_PREFIX) == []
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "ja", NOW + timedelta(hours=2))
    assert c.appointments.known["T-00000A"].status is ap.Status.CONFIRMED


async def test_a_no_after_the_close_points_to_a_new_chat_and_tells_the_counsellor() -> None:
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), PROPOSE, NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "nein", NOW)
    assert c.appointments.known["T-00000A"].status is ap.Status.DECLINED
    assert "appointments.declined_closed" in await youth_keys(c)
    assert "appointments.declined_staff_closed" in [
        e.key for e in await outbox(c) if isinstance(e, SayToStaff)]
    assert conversation in c.youth.leaving  # nothing left to wait for


def _attachments(message: EmailMessage) -> list[str]:
    return [p.get_content_type() for p in message.walk()]


async def proposed_by_mail_then_closed(
    o: Office, sender: RecordingSender,
) -> tuple[ConversationID, EmailMessage]:
    """Lena writes by mail, Anna proposes an appointment in person (the proposal mail is
    sent) and closes the conversation: the conversation and the proposal."""
    c = o.conductor
    c.appointments.default_venue = replace(c.appointments.default_venue,
                                           address="Musterstr. 1")
    conversation = await lena_writes(o)
    await c.staff_wrote(RoomID("!staff:x"), ANNA, EventID("$a"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min inperson", AT)
    await perform_mails(o)
    [proposal] = sender.sent
    await c.staff_wrote(RoomID("!staff:x"), ANNA, EventID("$c"), f"!close {conversation}", AT)
    return conversation, proposal


@contextlib.asynccontextmanager
async def closed_after_a_mail_proposal(
    tmp_path: Path,
) -> AsyncIterator[tuple[Office, RecordingSender, ConversationID, EmailMessage]]:
    """A mail office on SQLite whose conversation with Lena was closed after Anna proposed
    an appointment by mail: the office, its mail sender, the conversation and the proposal
    mail."""
    store = await SqliteStore.open(tmp_path / "counsel.db", AeadSealer())
    sender = RecordingSender()
    try:
        o = await office_on(store, sender)
        conversation, proposal = await proposed_by_mail_then_closed(o, sender)
        yield o, sender, conversation, proposal
    finally:
        await store.close()


async def test_a_mail_yes_after_the_close_confirms_by_mail_and_opens_no_new_case(
    tmp_path: Path,
) -> None:
    """By mail the same: the reply to the proposal after the close confirms by mail with the
    calendar file, and opens no new conversation (nor does the sender's retry of it)."""
    async with closed_after_a_mail_proposal(tmp_path) as (o, sender, _conversation,
                                                          proposal):
        c = o.conductor
        yes = replace(answer("<m3@web.de>", str(proposal["Message-ID"])),
                      text="Ja, gerne!\n\n> Passt das?")
        await o.mail.deliver(yes)
        await o.mail.deliver(yes)  # the sender's server retries
        await perform_mails(o)
        assert o.rooms == []
        assert c.router.snapshot().conversations == ()
        [confirmation] = sender.sent[1:]
        assert "text/calendar" in _attachments(confirmation)
        [appointment] = c.appointments.known.values()
        assert appointment.status is ap.Status.CONFIRMED


async def test_a_mail_answer_after_the_close_with_more_to_say_reaches_a_person(
    tmp_path: Path,
) -> None:
    """A "no" after the close that goes on about how the youth is (below any crisis word)
    is more than an answer: taken as the answer alone, the rest went to nobody, since the
    counsellor had left and nothing opened. It opens a new conversation, as any other mail
    after the close does; a bare answer still only answers (the test above)."""
    async with closed_after_a_mail_proposal(tmp_path) as (o, _sender, conversation,
                                                          proposal):
        c = o.conductor
        more = replace(answer("<m3@web.de>", str(proposal["Message-ID"])), text=(
            "Nein, da habe ich Schule.\n\nEhrlich gesagt geht es mir gerade gar nicht gut. "
            "Zu Hause streiten alle nur noch und ich weiß nicht, mit wem ich darüber reden "
            "kann.\n\n> Passt das?"))
        await o.mail.deliver(more)
        [opened] = c.router.snapshot().conversations
        assert opened.conversation != conversation


async def test_a_mail_yes_after_the_close_with_crisis_words_in_its_subject_reaches_a_human(
    tmp_path: Path,
) -> None:
    """The youth answers the proposal with "Ja" and writes what weighs on them in the
    subject line, as many do. The subject is part of what the counsellor reads in an open
    conversation and is judged there; after the close it must be judged too, and open a
    conversation that someone reads now. Before, only the body was judged: the "Ja"
    confirmed the appointment and the crisis words reached nobody."""
    async with closed_after_a_mail_proposal(tmp_path) as (o, _sender, _conversation,
                                                          proposal):
        c = o.conductor
        yes = replace(answer("<m3@web.de>", str(proposal["Message-ID"])),
                      subject="ich will mich umbringen", text="Ja.\n\n> Passt das?")
        await o.mail.deliver(yes)
        [opened] = c.router.snapshot().conversations
        assert opened.crisis.value == "raised"
        alerts = [e for e in await outbox(c) if isinstance(e, SayToStaff)
                  and e.key == "staff_crisis_alert"]
        assert alerts, "crisis words in the subject of a mail after the close alerted nobody"


async def test_a_thumbs_up_under_the_proposal_after_the_close_confirms_it() -> None:
    """The reaction's answer (`YouthSide.reacted`) as a word's is: after the close too, the
    bot staying for the appointment; in any skin tone. An emoji that says no yes or no (a
    heart) is no answer and stays nothing."""
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), PROPOSE, NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    later = NOW + timedelta(minutes=1)
    assert not await c.youth_reacted(ROOM, YOUTH, EventID("$r1"), "❤️", later)
    assert c.appointments.known["T-00000A"].status is ap.Status.PROPOSED
    assert await c.youth_reacted(ROOM, YOUTH, EventID("$r2"), "👍🏽", later)
    assert c.appointments.known["T-00000A"].status is ap.Status.CONFIRMED
    assert "appointments.confirmed" in await youth_keys(c)
    assert conversation not in c.youth.leaving
    # The same reaction again (a redelivery) answers nothing twice.
    before = len(await outbox(c))
    await c.youth_reacted(ROOM, YOUTH, EventID("$r2"), "👍🏽", later)
    assert len(await outbox(c)) == before
