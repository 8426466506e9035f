"""Issue 19, appointments for a mail youth, end to end: real Synapse, the real bot with its
SMTP server, the youth's provider a real SMTP server (aiosmtpd), an injected clock."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from pathlib import Path

import aiosmtplib
import icalendar
import pytest

from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.video import VideoSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import goes_on_duty, login, provision_bot
from tests.support.mail_e2e import OFFICE, YOUTH, office_mail, start_provider, youth_mail

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # 16:00 in Berlin


def calendar_of(mail: Message) -> icalendar.Calendar:
    """The one text/calendar attachment of a mail, parsed back with `icalendar`."""
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_content_disposition() == "attachment"
    assert part.get_param("method") == "PUBLISH"
    assert str(part.get_filename()).endswith(".ics")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(payload)


def body_of(mail: Message) -> str:
    part = mail.get_body(preferencelist=("plain",)) if isinstance(mail, EmailMessage) else mail
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def answer(text: str, message_id: str, to: Message) -> EmailMessage:
    """The youth's reply to one of the office's mails, quoting it as mail programs do."""
    quoted = "\n".join(f"> {line}" for line in body_of(to).splitlines())
    return youth_mail(f"{text}\n\nAm 01.12.2026 schrieb Beratung:\n{quoted}", message_id,
                      In_Reply_To=str(to["Message-ID"]), References=str(to["Message-ID"]))


async def test_a_mail_youth_books_confirms_by_mail_gets_the_ics_reminders_and_the_cancel(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    clock = FakeClock(NOW)
    provider, server, port = await start_provider()
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  clock=clock)
    process.settings = replace(
        process.settings, mail=office_mail(port),
        video=VideoSettings(base_url="https://meet.example.org"),
        appointments=AppointmentSettings(office_address="Musterstraße 1, Musterstadt"))
    bot_user = process.user_id
    bot = await process.start()
    try:
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        office_port = bot.mail.inbound.port

        async def mail_in(message: EmailMessage) -> None:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=office_port,
                                  start_tls=False)

        async def mail_out(contains: str) -> Message:
            mail = await asyncio.wait_for(provider.inbox.get(), 30)
            assert mail["To"] == YOUTH
            assert OFFICE in mail["From"]
            assert contains in body_of(mail), body_of(mail)
            return mail

        staff_room = await counsellor.accept_invite()
        await goes_on_duty(counsellor, staff_room, bot_user)
        await mail_in(youth_mail("Können wir mal per Video reden?", "<k1@youth.example>"))
        ack = await mail_out("angekommen")  # the acknowledgement
        room = await counsellor.accept_invite()
        await counsellor.wait_for(room, bot_user, "per Video reden")

        # Proposed in the mail conversation's room: it goes to the youth by mail, threaded.
        await counsellor.send(room, "!appointment 2026-12-10 16:00 45min video")
        proposal = await mail_out("Videogespräch")
        assert "10.12.2026 16:00" in body_of(proposal)
        assert proposal["In-Reply-To"] == ack["Message-ID"]  # in the youth's thread
        assert not proposal.is_multipart()
        staff_note = await counsellor.wait_for(staff_room, bot_user, "vorgeschlagen")
        appointment_id = staff_note.split("Termin ", 1)[1].split(" ", 1)[0]

        # The youth answers the proposal mail; the confirmation carries the calendar file.
        await mail_in(answer("Hallo,\n\nja, gerne!", "<k2@youth.example>", proposal))
        confirmed = await mail_out("der Termin steht")
        assert confirmed["In-Reply-To"] == "<k2@youth.example>"
        calendar = calendar_of(confirmed)
        [event] = calendar.walk("VEVENT")
        assert event.decoded("DTSTART") == START
        assert event.decoded("DTEND") == START + timedelta(minutes=45)
        assert str(event["STATUS"]) == "CONFIRMED"
        for absent in ("ORGANIZER", "ATTENDEE"):
            assert absent not in event
        await counsellor.wait_for(staff_room, bot_user, "ist bestätigt")
        await counsellor.wait_for(room, bot_user, "ja, gerne!")  # the mail itself, as ever

        # The same mail again (an SMTP retry, same Message-ID) confirms nothing twice.
        await mail_in(answer("Hallo,\n\nja, gerne!", "<k2@youth.example>", proposal))

        # Reminders by mail: the day before, and 15 minutes before with the call link.
        clock.set(START - timedelta(hours=23))
        await mail_out("Morgen")
        await counsellor.wait_for(staff_room, bot_user, "Morgen: Termin", within=30)
        clock.set(START - timedelta(minutes=14))
        soon = await mail_out("https://meet.example.org/")
        assert "Gleich geht's los" in body_of(soon)
        await counsellor.wait_for(staff_room, bot_user, "In 15 Minuten", within=30)

        # Cancelled from the staff room: by mail, with the event marked cancelled.
        await counsellor.send(staff_room, f"!appointment cancel {appointment_id}")
        cancelled = await mail_out("fällt leider aus")
        [gone] = calendar_of(cancelled).walk("VEVENT")
        assert str(gone["UID"]) == str(event["UID"])
        assert str(gone["STATUS"]) == "CANCELLED"
        await counsellor.wait_for(staff_room, bot_user, "abgesagt")
        assert provider.inbox.empty(), "the retried 'ja' mail was answered a second time"

        # Nothing of it in the logs; mail content at rest only sealed.
        for secret in (YOUTH, "meet.example.org", "ja, gerne", "Musterstraße"):
            assert secret not in caplog.text
        for path in [p for p in (tmp_path / "bot").rglob("*") if p.is_file()]:
            data = path.read_bytes()
            for secret in (YOUTH.encode(), b"meet.example.org", b"BEGIN:VCALENDAR"):
                assert secret not in data, f"{secret!r} in plain text in {path.name}"
    finally:
        await process.stop()
        await counsellor.close()
        server.close()
