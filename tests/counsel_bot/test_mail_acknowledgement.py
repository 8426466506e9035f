"""A youth who writes to the office by mail hears back at once: the mail arrived, when an
answer comes, where help is now. Before, nothing came back until a counsellor answered,
up to two working days later: to someone in distress at night, that reads as unread (a
suspicion of the mail review: a mail youth learnt nothing the chat youth is told).

Real conductor, mail channel, executor and store; a recording sender stands in for the
relay."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from counsel_bot.core.mail_deadline import MailDeadlineSettings
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from homeserver_bridge.mail import InboundMail, MailSettings, start_inbound
from tests.support.mail_office import (
    Office,
    RecordingSender,
    counsellor_replies,
    office_on,
    perform_mails,
    plain_text,
)

FIRST = InboundMail(
    message_id="<first@youth.example>", in_reply_to=None, references=(),
    subject="Hilfe", from_address="sunflower@youth.example",
    reply_address="sunflower@youth.example",
    text="Hallo, ich weiß nicht, mit wem ich über meine Eltern reden soll.", attachments=(),
)




async def _office(tmp_path: Path) -> tuple[Office, RecordingSender]:
    store = await SqliteStore.open(tmp_path / "counsel.db",
                                   Vault.create(tmp_path / "vault.json", "pass phrase here"))
    sender = RecordingSender()
    return await office_on(store, sender), sender


async def _close(office: Office) -> None:
    await office.conductor.store.close()  # type: ignore[attr-defined]


async def test_a_new_mail_is_acknowledged_in_its_thread_as_an_automatic_mail(
    tmp_path: Path,
) -> None:
    office, sender = await _office(tmp_path)
    try:
        await office.mail.deliver(FIRST)
        await perform_mails(office)
        [ack] = sender.sent
        assert ack["To"] == "sunflower@youth.example"
        assert ack["In-Reply-To"] == FIRST.message_id
        assert ack["Auto-Submitted"] == "auto-generated"
        words = plain_text(ack)
        assert "angekommen" in words
        assert "innerhalb von 2 Werktagen" in words
        assert "116 111" in words

        [conversation] = [c.conversation for c in office.conductor.router.snapshot()
                          .conversations]
        await counsellor_replies(office, conversation, "$anna1", "Hallo, hier ist Anna.")
        await perform_mails(office)
        reply = sender.sent[-1]
        assert reply["Auto-Submitted"] is None, "a counsellor's words are no automatic mail"
    finally:
        await _close(office)


async def test_only_the_first_mail_of_a_conversation_is_acknowledged(tmp_path: Path) -> None:
    office, sender = await _office(tmp_path)
    try:
        await office.mail.deliver(FIRST)
        await perform_mails(office)
        answer = replace(FIRST, message_id="<second@youth.example>",
                         in_reply_to=str(sender.sent[0]["Message-ID"]),
                         references=(FIRST.message_id, str(sender.sent[0]["Message-ID"])),
                         text="Noch etwas: es ist schlimmer geworden.")
        await office.mail.deliver(answer)
        await office.mail.deliver(answer)  # the sender's server retries
        await perform_mails(office)
        assert len(sender.sent) == 1
        assert len(office.conductor.router.snapshot().conversations) == 1
    finally:
        await _close(office)


async def test_a_first_mail_with_crisis_words_gets_the_crisis_mail_alone(
    tmp_path: Path,
) -> None:
    """Its mail thanks them and gives the numbers; a second one beside it would bury it."""
    office, sender = await _office(tmp_path)
    try:
        await office.mail.deliver(replace(FIRST, text="ich will nicht mehr leben"))
        await perform_mails(office)
        [only] = sender.sent
        assert plain_text(only).startswith("Danke, dass du das erzählst")
    finally:
        await _close(office)


async def test_an_automatic_mail_is_not_acknowledged(tmp_path: Path) -> None:
    office, sender = await _office(tmp_path)
    try:
        await office.mail.deliver(replace(FIRST, auto_generated=True))
        await perform_mails(office)
        assert sender.sent == []
    finally:
        await _close(office)


@pytest.mark.parametrize(("days", "expected"), [(1, "by the end of the next working day"),
                                                (3, "within 3 working days")])
async def test_the_acknowledgement_names_the_offices_deadline_in_the_youths_language(
    tmp_path: Path, days: int, expected: str,
) -> None:
    office, sender = await _office(tmp_path)
    try:
        office.mail.deadlines = replace(
            office.mail.deadlines,
            settings=MailDeadlineSettings(first_reply_working_days=days,
                                          remind_working_days_before=1))
        await office.mail.deliver(replace(
            FIRST, text="Hi, I don't know who to talk to about my parents. Can you help me?"))
        await perform_mails(office)
        [ack] = sender.sent
        assert expected in plain_text(ack)
        assert "This mail was sent automatically" in plain_text(ack)
    finally:
        await _close(office)


async def test_the_opening_mail_delivered_again_after_a_stop_is_acknowledged_once(
    tmp_path: Path,
) -> None:
    """The stop came between the conversation's commit and the mail's (the SMTP server
    answered no 250): the retry reads the mail into the conversation and acknowledges it."""
    office, sender = await _office(tmp_path)
    try:
        mail = office.mail
        await mail.mail_opened(await mail._new_room(), f"mailto:{FIRST.reply_address}", "de",
                               mail.now(), thread=FIRST)
        await mail.deliver(FIRST)
        await mail.deliver(FIRST)
        await perform_mails(office)
        assert len(sender.sent) == 1
        assert len(office.conductor.router.snapshot().conversations) == 1
    finally:
        await _close(office)


async def test_a_delivery_report_from_the_null_sender_is_not_answered(tmp_path: Path) -> None:
    """A mail sent with the null envelope sender (MAIL FROM:<>) is a delivery report or
    another automatic notice (RFC 5321 4.5.5), whatever its headers say: a plain-text
    failure notice of an older mail server has no Auto-Submitted and is no multipart/report.
    RFC 3834 forbids answering it. Before, it opened a conversation for a counsellor and got
    the acknowledgement, which went to the mailer daemon: a loop's first turn, and a case
    in the queue that no youth wrote."""
    office, sender = await _office(tmp_path)
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address="beratung@counsel.example",
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    try:
        notice = EmailMessage()
        notice["From"] = "MAILER-DAEMON@provider.example"
        notice["To"] = "beratung@counsel.example"
        notice["Subject"] = "failure notice"
        notice["Message-ID"] = "<notice1@provider.example>"
        notice.set_content("Hi. This is the qmail-send program at provider.example.\n"
                           "I'm afraid I wasn't able to deliver your message.\n")
        await asyncio.wait_for(aiosmtplib.send(
            notice, hostname="127.0.0.1", port=server.port, start_tls=False, sender="",
            recipients=["beratung@counsel.example"]), 10)
        await perform_mails(office)
        assert office.conductor.router.snapshot().conversations == ()
        assert sender.sent == []
    finally:
        await server.stop()
        await _close(office)


async def test_new_mails_from_one_address_are_acknowledged_once_a_day(tmp_path: Path) -> None:
    """From is not checked: anyone can write new mails (no thread) in a victim's name, and
    each one made the office mail the victim an acknowledgement (backscatter: the office's
    relay is then listed as a spam source, and the replies to real youths go to their spam
    folders or are refused). Every mail is still read; the address hears once a day."""
    office, sender = await _office(tmp_path)
    try:
        for n in range(5):
            await office.mail.deliver(replace(FIRST, message_id=f"<new{n}@youth.example>"))
        await perform_mails(office)
        assert len(office.conductor.router.snapshot().conversations) == 5
        assert len(sender.sent) == 1
    finally:
        await _close(office)


async def test_a_flood_of_new_mails_from_forged_addresses_gets_few_acknowledgements(
    tmp_path: Path,
) -> None:
    office, sender = await _office(tmp_path)
    try:
        for n in range(60):
            await office.mail.deliver(replace(FIRST, message_id=f"<flood{n}@x.example>",
                                              from_address=f"victim{n}@x.example",
                                              reply_address=f"victim{n}@x.example"))
        await perform_mails(office)
        assert len(office.conductor.router.snapshot().conversations) == 60, "all are read"
        assert len(sender.sent) <= 30
    finally:
        await _close(office)
