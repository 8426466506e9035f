"""Mail that marks itself automatic (Auto-Submitted, Precedence: list, List-Id): a school's
mailing list or a contact form in front of the office address may mark every mail so, and a
youth's words come through it. Such mail is read for crisis words: flagged, it reaches a
person; it is never answered automatically (RFC 3834), neither acknowledged nor sent the
crisis numbers (a list would send them to all its members).

Real conductor, mail channel, executor and store, the office's real inbound SMTP server; a
recording sender stands in for the relay."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib

from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import MailSettings, start_inbound
from tests.store.conftest import AeadSealer
from tests.support.mail_office import AT, OFFICE, Office, RecordingSender, office_on, perform_mails


async def _through_the_office_inbox(office: Office, message: EmailMessage, *,
                                    sender: str) -> None:
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: AT)
    try:
        await asyncio.wait_for(aiosmtplib.send(
            message, hostname="127.0.0.1", port=server.port, start_tls=False, sender=sender), 10)
    finally:
        await server.stop()


def _list_mail(words: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "kim@youth.example"
    mail["To"] = OFFICE
    mail["Subject"] = "Klassenliste 8b"
    mail["Message-ID"] = "<list-1@school.example>"
    mail["List-Id"] = "Klasse 8b <8b.school.example>"
    mail["Precedence"] = "list"
    mail.set_content(words)
    return mail


async def _staff_alerts(office: Office) -> list[str]:
    return [effect.key for effect in
            (decode_effect(e.payload) for e in await office.conductor.store.pending_outbox())
            if isinstance(effect, SayToStaff)]


async def test_a_list_mail_with_crisis_words_reaches_a_person_and_is_not_answered() -> None:
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    await _through_the_office_inbox(
        office, _list_mail("ich bring mich um, heute abend, ich halte das nicht mehr aus"),
        sender="8b-bounces@school.example")
    conversations = office.conductor.router.snapshot().conversations
    assert len(conversations) == 1, "the crisis mail was dropped unread"
    assert conversations[0].crisis.value != "none"
    assert "staff_crisis_alert" in await _staff_alerts(office)
    await perform_mails(office)
    assert sender.sent == [], "an automatic mail was answered automatically"


async def test_an_automatic_mail_without_crisis_words_still_opens_nothing() -> None:
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    await _through_the_office_inbox(
        office, _list_mail("Erinnerung: Morgen ist Wandertag, bitte Brotzeit mitbringen."),
        sender="8b-bounces@school.example")
    assert office.conductor.router.snapshot().conversations == ()
    await perform_mails(office)
    assert sender.sent == []


async def test_a_failure_notice_quoting_the_counsellors_words_opens_nothing() -> None:
    """A delivery report (null envelope sender) quotes the office's own mail that could not
    be delivered, and older mail servers put it inline as plain text: the counsellor's words,
    which may repeat the youth's, are not a youth's crisis."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    notice = EmailMessage()
    notice["From"] = "MAILER-DAEMON@provider.example"
    notice["To"] = OFFICE
    notice["Subject"] = "failure notice"
    notice["Message-ID"] = "<notice2@provider.example>"
    notice.set_content("Hi. This is the qmail-send program at provider.example.\n"
                       "I'm afraid I wasn't able to deliver your message.\n\n"
                       "--- Below this line is a copy of the message.\n\n"
                       "Du hast geschrieben: ich bring mich um. Das nehme ich ernst.\n")
    await _through_the_office_inbox(office, notice, sender="")
    assert office.conductor.router.snapshot().conversations == ()
    await perform_mails(office)
    assert sender.sent == []


async def test_a_list_mail_read_for_its_crisis_words_is_answered_to_its_writer_not_the_list(
) -> None:
    """A list that sets Reply-To to itself (so that answers reach all its members): the
    conversation its crisis words open took that address, and the counsellor's reply, the
    youth's words quoted, would have gone to the whole class."""
    office = await office_on(MemoryStore(AeadSealer()), RecordingSender())
    mail = _list_mail("ich bring mich um, heute abend, ich halte das nicht mehr aus")
    mail["Reply-To"] = "8b@school.example"
    await _through_the_office_inbox(office, mail, sender="8b-bounces@school.example")
    [current] = office.conductor.router.snapshot().conversations
    record = await office.conductor.store.conversation(current.conversation)
    assert record is not None
    assert record.youth_user_id == "mailto:kim@youth.example"


async def test_a_list_mail_sent_in_the_lists_name_is_answered_to_its_writer_not_the_list(
) -> None:
    """Mailman and Google Groups send a member's mail From the list itself when the member's
    provider publishes DMARC ("Kim via Klasse 8b"), the writer in Reply-To. The conversation
    its crisis words open took From, the list: the counsellor's reply, the youth's words
    quoted, would have gone to the whole class. The list names itself in List-Post."""
    office = await office_on(MemoryStore(AeadSealer()), RecordingSender())
    mail = _list_mail("ich bring mich um, heute abend, ich halte das nicht mehr aus")
    mail.replace_header("From", "Kim via Klasse 8b <8b@school.example>")
    mail["Reply-To"] = "kim@youth.example"
    mail["List-Post"] = "<mailto:8b@school.example>"
    await _through_the_office_inbox(office, mail, sender="8b-bounces@school.example")
    [current] = office.conductor.router.snapshot().conversations
    record = await office.conductor.store.conversation(current.conversation)
    assert record is not None
    assert record.youth_user_id == "mailto:kim@youth.example"


async def test_two_writers_on_a_list_sent_in_its_name_get_a_conversation_each() -> None:
    """On a list that sends its members' mail in its own name, every mail has the same
    From: the list. Another member's answer in the thread (quoting the crisis words, or with
    their own) was taken for the first writer's: it went into Kim's conversation, and the
    counsellor answered Kim about Alex's words, while Alex heard nothing."""
    office = await office_on(MemoryStore(AeadSealer()), RecordingSender())
    first = _list_mail("ich bring mich um, heute abend, ich halte das nicht mehr aus")
    first.replace_header("From", "Kim via Klasse 8b <8b@school.example>")
    first["Reply-To"] = "kim@youth.example"
    first["List-Post"] = "<mailto:8b@school.example>"
    await _through_the_office_inbox(office, first, sender="8b-bounces@school.example")
    second = _list_mail("mir geht es genauso, ich will auch nicht mehr leben")
    second.replace_header("From", "Alex via Klasse 8b <8b@school.example>")
    second.replace_header("Message-ID", "<list-2@school.example>")
    second["Reply-To"] = "alex@youth.example"
    second["List-Post"] = "<mailto:8b@school.example>"
    second["In-Reply-To"] = "<list-1@school.example>"
    second["References"] = "<list-1@school.example>"
    await _through_the_office_inbox(office, second, sender="8b-bounces@school.example")
    store = office.conductor.store
    youths = {str(record.youth_user_id)
              for current in office.conductor.router.snapshot().conversations
              if (record := await store.conversation(current.conversation)) is not None}
    assert youths == {"mailto:kim@youth.example", "mailto:alex@youth.example"}
